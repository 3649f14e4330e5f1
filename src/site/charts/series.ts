/** The per-metric series files the site writes for drawing: compact columns, decoded in the browser. Browser-safe. */
import type { MetricPoint } from '../../model/run.js'
import { minMaxIndices } from './downsample.js'

/** On disk: `s` steps ([first, stride] when evenly spaced), `t0` + `dt` time deltas in ms, `v` values (6 significant digits, null for NaN/±Inf). */
export interface SeriesFile {
  k: string
  /** Points in the full history. */
  n: number
  s: number[] | { from: number; by: number }
  t0: number
  dt: number[]
  v: (number | null)[]
  /** Present when `n` was downsampled: the file with every point (same format). */
  full?: string
}

/** Decoded series: columns of equal length, sorted by step. */
export interface Series {
  key: string
  total: number
  step: number[]
  time: number[]
  value: number[]
  full?: string
}

const round = (v: number): number | null => (Number.isFinite(v) ? Number(v.toPrecision(6)) : null)

/**
 * Encodes a sorted history, downsampled (min/max-preserving) to `target` points when it is longer.
 * @example encodeSeries('loss', points, 1500)
 */
export function encodeSeries(key: string, points: readonly MetricPoint[], target = Infinity): SeriesFile {
  const idx = points.length > target ? minMaxIndices({ x: { length: points.length } as ArrayLike<number>, y: new Float64Array(points.map((p) => p.value)) }, target) : null
  const pts = idx ? idx.map((i) => points[i]!) : points
  const steps = pts.map((p) => p.step)
  let s: SeriesFile['s'] = steps
  if (steps.length >= 2) {
    const by = steps[1]! - steps[0]!
    let even = true
    for (let i = 2; i < steps.length && even; i++) even = steps[i]! - steps[i - 1]! === by
    if (even) s = { from: steps[0]!, by }
  } else if (steps.length === 1) s = { from: steps[0]!, by: 1 }
  const t0 = pts.length ? pts[0]!.timestamp : 0
  const dt: number[] = []
  let prev = t0
  for (const p of pts) { dt.push(p.timestamp - prev); prev = p.timestamp }
  return { k: key, n: points.length, s, t0, dt, v: pts.map((p) => round(p.value)) }
}

/** Decodes a series file; NaN stands for the values JSON could not hold. */
export function decodeSeries(f: SeriesFile): Series {
  const n = f.v.length
  const step = Array.isArray(f.s) ? f.s.slice() : Array.from({ length: n }, (_, i) => (f.s as { from: number; by: number }).from + i * (f.s as { by: number }).by)
  const time = new Array<number>(n)
  let t = f.t0
  for (let i = 0; i < n; i++) { t += f.dt[i] ?? 0; time[i] = t }
  return { key: f.k, total: f.n, step, time, value: f.v.map((v) => (v === null ? NaN : v)), full: f.full }
}
