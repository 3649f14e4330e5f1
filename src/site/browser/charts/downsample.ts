/** Downsampling for drawing: keeps the shape (every spike) of a long series in a bounded number of points. Browser-safe. */

export { minMaxIndices, type XY } from '../../../model/minmax.js'
import type { XY } from '../../../model/minmax.js'

/**
 * Largest-Triangle-Three-Buckets: keeps `target` points that best preserve the visual shape (Steinarsson 2013).
 * Smoother than min/max for small targets (the first-paint SVG); returns kept indices.
 */
export function lttbIndices(s: XY, target: number): number[] {
  const n = s.y.length
  if (n <= target || target < 3) return Array.from({ length: n }, (_, i) => i)
  const out: number[] = [0]
  const every = (n - 2) / (target - 2)
  let a = 0
  for (let i = 0; i < target - 2; i++) {
    const avgFrom = Math.floor((i + 1) * every) + 1
    const avgTo = Math.min(n, Math.floor((i + 2) * every) + 1)
    let ax = 0, ay = 0, cnt = 0
    for (let j = avgFrom; j < avgTo; j++) {
      if (Number.isNaN(s.y[j]!)) continue
      ax += s.x[j]!; ay += s.y[j]!; cnt++
    }
    if (cnt) { ax /= cnt; ay /= cnt }
    const from = Math.floor(i * every) + 1
    const to = Math.floor((i + 1) * every) + 1
    const px = s.x[a]!, py = s.y[a]!
    let best = -1, bestArea = -1
    for (let j = from; j < to; j++) {
      const area = Math.abs((px - ax) * (s.y[j]! - py) - (px - s.x[j]!) * (ay - py))
      if (area > bestArea || best < 0) { bestArea = Number.isNaN(area) ? -1 : area; best = j }
    }
    out.push(best)
    a = best
  }
  out.push(n - 1)
  return out
}

/** Exponential moving average with TensorBoard's debiasing; `weight` in [0, 1). NaN points pass through. */
export function smooth(y: ArrayLike<number>, weight: number): number[] {
  const out = new Array<number>(y.length)
  if (!(weight > 0)) { for (let i = 0; i < y.length; i++) out[i] = y[i]!; return out }
  let last = 0, count = 0
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!
    if (!Number.isFinite(v)) { out[i] = v; continue }
    last = last * weight + (1 - weight) * v
    count++
    out[i] = last / (1 - Math.pow(weight, count))
  }
  return out
}
