/**
 * The one downsampling rule for drawing a long history: the static site, the live pages and the series cache
 * (track/history.ts) keep the same points. Browser-safe.
 */

/** A series in columns: x (step or time) and y, same length, x ascending. */
export interface XY {
  x: ArrayLike<number>
  y: ArrayLike<number>
}

/** Points a drawn line holds, the site's default (static build and live pages alike); longer histories are downsampled to it. */
export const DRAWN_POINTS = 1500

/**
 * Min/max-preserving downsampling: splits the index range into `target / 2` buckets and keeps, per bucket,
 * the points with the lowest and highest y (in x order), plus the first and last point. Spikes survive.
 * Returns the kept indices; when the series already fits, all of them.
 * @example minMaxIndices({ x: steps, y: values }, 1500)
 */
export function minMaxIndices(s: XY, target = DRAWN_POINTS): number[] {
  return minMaxOfPieces([s.y], target)
}

/**
 * minMaxIndices of the y values held in consecutive pieces (a long history read chunk by chunk: no joined copy);
 * indices count across the pieces, as if they were one array.
 * @example minMaxOfPieces([chunk0.value, chunk1.value], 1500)
 */
export function minMaxOfPieces(ys: readonly ArrayLike<number>[], target = DRAWN_POINTS): number[] {
  let n = 0
  for (const y of ys) n += y.length
  if (n <= target) return Array.from({ length: n }, (_, i) => i)
  const buckets = Math.max(1, Math.floor((target - 2) / 2))
  const out: number[] = [0]
  const size = (n - 2) / buckets
  // the piece holding index i starts at `base`; buckets only move forward
  let p = 0, base = 0
  for (let b = 0; b < buckets; b++) {
    const from = 1 + Math.floor(b * size)
    const to = Math.min(n - 1, 1 + Math.floor((b + 1) * size))
    let lo = -1, hi = -1, loV = 0, hiV = 0
    for (let i = from; i < to;) {
      while (i - base >= ys[p]!.length) base += ys[p++]!.length
      const y = ys[p]!
      const end = Math.min(to, base + y.length)
      for (; i < end; i++) {
        const v = y[i - base]!
        if (Number.isNaN(v)) continue
        if (lo < 0 || v < loV) { lo = i; loV = v }
        if (hi < 0 || v > hiV) { hi = i; hiV = v }
      }
    }
    if (lo < 0) continue
    if (lo === hi) out.push(lo)
    else out.push(Math.min(lo, hi), Math.max(lo, hi))
  }
  out.push(n - 1)
  return out
}
