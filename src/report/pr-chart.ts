/** A compact Mermaid `xychart-beta` of one metric along a PR's commits (GitHub renders it in comments: no image hosting). Browser-safe. */
import type { PrMetric } from './pr-experiment.js'

export interface MermaidChartOptions {
  /** Keep only the last N points (xychart labels get unreadable past ~30). @default 30 */
  maxPoints?: number
}

/** A number as Mermaid's xychart parser reads it: plain decimal, no exponent, 6 significant digits. */
export function mermaidNumber(v: number): string {
  const s = String(Number(v.toPrecision(6)))
  if (!/e/i.test(s)) return s
  return Math.abs(v) < 1 ? v.toFixed(12).replace(/\.?0+$/, '') : BigInt(Math.round(v)).toString()
}

/**
 * Axis labels may only hold safe characters: Mermaid has no escape for quotes inside them. A long one is cut in the
 * middle (`middle`: run names of repeats differ at the end: `rf-n5-d…-seed0`), else at the end.
 */
function label(s: string, max = 14, middle = false): string {
  const t = s.replace(/[^\w.\-+/: ]/g, '').trim() || '?'
  if (t.length <= max) return t
  const head = middle ? Math.ceil((max - 1) / 2) : max - 1
  return t.slice(0, head) + '…' + t.slice(t.length - (max - 1 - head))
}

/**
 * The Mermaid source (without the code fence) of a line chart: the PR's values, plus a flat line at the baseline mean.
 * Undefined when there are fewer than two finite points to draw.
 * @example '```mermaid\n' + mermaidChart(metric) + '\n```'
 */
export function mermaidChart(m: PrMetric, o: MermaidChartOptions = {}): string | undefined {
  const points = m.series.filter((p) => Number.isFinite(p.value)).slice(-(o.maxPoints ?? 30))
  if (points.length < 2) return undefined
  const values = points.map((p) => p.value)
  const base = m.baseline && Number.isFinite(m.baseline.mean) ? m.baseline.mean : undefined
  const all = base === undefined ? values : [...values, base]
  let lo = Math.min(...all), hi = Math.max(...all)
  const pad = hi > lo ? (hi - lo) * 0.1 : Math.abs(hi) * 0.1 || 1
  lo -= pad
  hi += pad
  const lines = [
    'xychart-beta',
    `  title "${label(m.key, 40)} (${m.goal === 'maximize' ? 'higher' : 'lower'} is better)"`,
    `  x-axis [${points.map((p) => `"${label(p.label, 14, true)}"`).join(', ')}]`,
    `  y-axis ${mermaidNumber(lo)} --> ${mermaidNumber(hi)}`,
    `  line [${values.map(mermaidNumber).join(', ')}]`,
  ]
  if (base !== undefined) lines.push(`  line [${values.map(() => mermaidNumber(base)).join(', ')}]`)
  return lines.join('\n')
}
