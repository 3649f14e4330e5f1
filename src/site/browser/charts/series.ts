/**
 * The per-metric series files the site writes for drawing, decoded in the browser. Browser-safe.
 * Compact because they are most of the site's bytes: steps and times as a start plus a constant stride (or deltas),
 * values quantised to about 5 significant digits of the series' range and delta-encoded as integers.
 * Files with every point (`full`) keep exact values.
 */
import type { MetricPoint } from '../../../model/run.js'
import { minMaxIndices } from './downsample.js'

/** A start and either a constant stride (`by`) or the differences between neighbours (`d`). */
export type Seq = { from: number; by: number } | { from: number; d: number[] }

export interface SeriesFile {
  k: string
  /** Points in the full history. */
  n: number
  s: Seq
  t: Seq
  /** Quantised values: value = (running sum of `dq`) × 10^e. */
  e?: number
  dq?: number[]
  /** Exact values (full-history files). null stands for NaN/±Inf, see `x`. */
  v?: (number | null)[]
  /** Non-finite points: [index, 0 = NaN | 1 = +Inf | 2 = -Inf]. */
  x?: [number, number][]
  /** Present when `n` was downsampled: the file with every point, exact. */
  full?: string
}

/** `file#n`: the n-th series of a packed series file. */
export const packedSeriesRef = (file: string, n: number): string => `${file}#${n}`
/** The packed file and index a `packedSeriesRef` names, or undefined for a plain JSON series file. */
export function parsePackedRef(ref: string): { file: string; index: number } | undefined {
  const m = /^(.+)#(\d+)$/.exec(ref)
  return m ? { file: m[1]!, index: Number(m[2]) } : undefined
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

function seq(xs: number[]): Seq {
  const from = xs[0] ?? 0
  if (xs.length < 2) return { from, by: 1 }
  const by = xs[1]! - from
  let even = true
  for (let i = 2; i < xs.length && even; i++) even = xs[i]! - xs[i - 1]! === by
  if (even) return { from, by }
  const d: number[] = []
  for (let i = 1; i < xs.length; i++) d.push(xs[i]! - xs[i - 1]!)
  return { from, d }
}

function unseq(s: Seq, n: number): number[] {
  const out = new Array<number>(n)
  let v = s.from
  for (let i = 0; i < n; i++) {
    if (i > 0) v += 'by' in s ? s.by : s.d[i - 1]!
    out[i] = v
  }
  return out
}

const CODE = (v: number) => (Number.isNaN(v) ? 0 : v > 0 ? 1 : 2)
const UNCODE = [NaN, Infinity, -Infinity]

/**
 * Encodes a sorted history, downsampled (min/max-preserving) to `target` points when it is longer.
 * `exact` keeps every value as logged (for full-history files).
 * @example encodeSeries('loss', points, 1500)
 */
export function encodeSeries(key: string, points: readonly MetricPoint[], target = Infinity, exact = false): SeriesFile {
  const idx = points.length > target ? minMaxIndices({ x: { length: points.length } as ArrayLike<number>, y: points.map((p) => p.value) }, target) : null
  const pts = idx ? idx.map((i) => points[i]!) : points
  const f: SeriesFile = { k: key, n: points.length, s: seq(pts.map((p) => p.step)), t: seq(pts.map((p) => p.timestamp)) }
  const x: [number, number][] = []
  pts.forEach((p, i) => { if (!Number.isFinite(p.value)) x.push([i, CODE(p.value)]) })
  if (x.length) f.x = x
  if (exact) {
    f.v = pts.map((p) => (Number.isFinite(p.value) ? p.value : null))
    return f
  }
  let lo = Infinity, hi = -Infinity
  for (const p of pts) if (Number.isFinite(p.value)) { lo = Math.min(lo, p.value); hi = Math.max(hi, p.value) }
  const span = hi > lo ? hi - lo : Math.abs(hi) || 1
  const e = Number.isFinite(span) && span > 0 ? Math.floor(Math.log10(span)) - 4 : 0
  const scale = Math.pow(10, e)
  const dq: number[] = []
  let prev = 0
  for (const p of pts) {
    if (!Number.isFinite(p.value)) { dq.push(0); continue }
    const q = Math.round(p.value / scale)
    dq.push(q - prev)
    prev = q
  }
  f.e = e
  f.dq = dq
  return f
}

/** Decodes a series file. */
export function decodeSeries(f: SeriesFile): Series {
  const n = f.v ? f.v.length : f.dq!.length
  let value: number[]
  if (f.v) value = f.v.map((v) => (v === null ? NaN : v))
  else {
    value = new Array<number>(n)
    const e = f.e ?? 0
    const scale = Math.pow(10, e)
    let q = 0
    for (let i = 0; i < n; i++) {
      q += f.dq![i]!
      // Scale by multiplying or dividing by an exact power of ten so 0.1-style values print cleanly.
      value[i] = e < 0 ? q / Math.pow(10, -e) : q * scale
    }
  }
  for (const [i, c] of f.x ?? []) value[i] = UNCODE[c]!
  return { key: f.k, total: f.n, step: unseq(f.s, n), time: unseq(f.t, n), value, full: f.full }
}
