/**
 * Numbers and durations for people: the one rule the CLI's tables, the PR report and the site share (browser-safe, no
 * locale, deterministic). Data formats keep their own exact spellings (`src/model/json-numbers.ts` for JSON, `csvField` for
 * CSV); this is only for reading.
 *
 * - Non-finite values are spelled as JSON output and the byte formats spell them: `NaN`, `Infinity`, `-Infinity`.
 * - Integers below 1e15 are shown whole (`42`, `-7`, `100000`).
 * - Other values get 4 significant digits (`0.3333`, `12.35`), one decimal from 1,000 on so a fraction never looks
 *   whole (`12345.7`), and scientific notation below 1e-4 and from 1e6 on, trailing zeros dropped (`1.5e-7`,
 *   `1.235e+6`).
 */
export function formatNumber(v: number | null | undefined): string {
  if (v === undefined || v === null) return ''
  if (Number.isNaN(v)) return 'NaN'
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity'
  const a = Math.abs(v)
  if (Number.isInteger(v) && a < 1e15) return String(v)
  if (a < 1e-4 || a >= 1e6) return v.toExponential(3).replace(/\.?0+e/, 'e')
  if (a >= 1000) return v.toFixed(1)
  return String(Number(v.toPrecision(4)))
}

/**
 * A duration for people, two units at most: `950ms`, `6.2s`, `42.5s`, `4m 05s`, `1h 02m`, `2d 03h`; empty for a
 * missing, negative or non-finite one.
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms) || ms < 0) return ''
  if (ms < 999.5) return `${Math.round(ms)}ms`
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)}s`
  const s = Math.round(ms / 1000)
  const two = (n: number) => String(n).padStart(2, '0')
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${two(s % 60)}s`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h ${two(m % 60)}m`
  return `${Math.floor(h / 24)}d ${two(h % 24)}h`
}
