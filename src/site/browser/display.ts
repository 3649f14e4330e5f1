/** Display formatting shared by pages and islands (deterministic: UTC, no locale). Browser-safe. */
import { formatNumber as fmtNumber } from '../../model/display-numbers.js'

/** Numbers and durations follow the one rule of `src/model/display-numbers.ts` (the CLI and the report use it too). */
export { formatDuration as fmtDuration, formatNumber as fmtNumber } from '../../model/display-numbers.js'

export function fmtValue(v: unknown): string {
  if (typeof v === 'number') return fmtNumber(v)
  if (v === undefined || v === null) return ''
  return String(v)
}

export function fmtTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return ''
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ')
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const u = ['KB', 'MB', 'GB', 'TB']
  let v = n / 1024, i = 0
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++ }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${u[i]}`
}

export const shortSha = (sha: string | undefined): string => (sha ? sha.slice(0, 8) : '')

/** The site base with one trailing slash, joined to a relative path. */
export function joinBase(base: string, path: string): string {
  return base.replace(/\/*$/, '/') + path.replace(/^\/+/, '')
}

/** Decimals that show an interval of half-width `half` to two significant digits (undefined: no interval). */
function ciDecimals(half: number | undefined): number | undefined {
  if (half === undefined || !Number.isFinite(half) || half <= 0) return undefined
  return Math.min(12, Math.max(0, 1 - Math.floor(Math.log10(half))))
}

/**
 * A value at the precision its 95% interval supports: `fmtAt(0.80188, 0.0067) // '0.8019'`; plain `fmtNumber` without one.
 * @example `${fmtAt(mean, half)} ± ${fmtAt(half, half)}` // '0.830 ± 0.012'
 */
export function fmtAt(v: number | undefined, half: number | undefined): string {
  const d = ciDecimals(half)
  if (v === undefined || d === undefined || !Number.isFinite(v) || Math.abs(v) >= 1e15) return fmtNumber(v)
  return v.toFixed(d)
}
