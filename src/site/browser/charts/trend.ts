/** Commits trend: the best value of the primary metric per code commit, oldest to newest. Browser-safe pure spec. */
import * as Plot from '@observablehq/plot'
import type { PlotOptions } from '@observablehq/plot'

export interface TrendRow {
  commit: string
  index: number
  /** The commit's value: its best group's mean (or best run's value). */
  value: number
  time: Date
  /** The 95% CI of the group mean, drawn as a whisker. */
  lo?: number
  hi?: number
  /** src/judge's verdict against the previous commit: better and worse points stand out. */
  verdict?: string
}
export interface TrendOptions { metric: string; width?: number; height?: number }

/** Point colours by verdict (palette greens and reds, readable on light and dark). */
export const VERDICT_COLORS: Record<string, string> = { better: '#3ca951', worse: '#ff725c' }
const PLAIN = '#4269d0'

/** @example Plot.plot(trendSpec(rows, { metric: 'val_loss' })) */
export function trendSpec(rows: TrendRow[], o: TrendOptions): PlotOptions {
  const whiskers = rows.filter((r) => r.lo !== undefined && r.hi !== undefined && r.hi > r.lo)
  const changed = rows.filter((r) => r.verdict === 'better' || r.verdict === 'worse')
  return {
    width: o.width ?? 720,
    height: o.height ?? 240,
    marginLeft: 56,
    marginRight: 32,
    marginBottom: 40,
    style: { background: 'transparent', color: 'currentColor', fontSize: '11px' },
    // Short shas under the points, thinned to about a dozen so they never overlap.
    x: {
      label: 'commit (oldest → newest)', labelOffset: 36, grid: false,
      ticks: rows.filter((_, i) => i % Math.max(1, Math.ceil(rows.length / 12)) === 0).map((r) => r.index),
      tickFormat: (i: number) => rows.find((r) => r.index === i)?.commit.slice(0, 7) ?? '',
    },
    y: { label: o.metric, labelArrow: 'none', grid: true, nice: true },
    marks: [
      Plot.ruleX(whiskers, { x: 'index', y1: 'lo', y2: 'hi', stroke: PLAIN, strokeOpacity: 0.45, strokeWidth: 2, ariaDescription: 'ci' }),
      Plot.line(rows, { x: 'index', y: 'value', stroke: PLAIN, strokeWidth: 1.5 }),
      Plot.dot(rows, { x: 'index', y: 'value', fill: (d: TrendRow) => VERDICT_COLORS[d.verdict ?? ''] ?? PLAIN, r: 3 }),
      // A changed commit gets a ring as well as a colour (colour alone is not enough to tell).
      Plot.dot(changed, { x: 'index', y: 'value', r: 7, stroke: (d: TrendRow) => VERDICT_COLORS[d.verdict!]!, strokeWidth: 2, ariaDescription: 'change' }),
      Plot.tip(rows, Plot.pointerX({ x: 'index', y: 'value', title: (d: TrendRow) => `${d.commit.slice(0, 8)}  ${d.value}${d.lo !== undefined ? ` (95% CI ${d.lo} … ${d.hi})` : ''}${d.verdict === 'better' || d.verdict === 'worse' ? `\n${d.verdict} than the previous commit` : d.verdict ? '\nno change beyond noise' : ''}` })),
    ],
  }
}

/** A tiny inline sparkline as an SVG path `d` (no Plot: the home page draws one per experiment). */
export function sparklinePath(values: number[], width = 120, height = 24): string {
  const ys = values.filter(Number.isFinite)
  if (ys.length < 2) return ''
  const lo = Math.min(...ys), hi = Math.max(...ys)
  const sx = width / (ys.length - 1), sy = hi === lo ? 0 : (height - 2) / (hi - lo)
  return ys.map((v, i) => `${i ? 'L' : 'M'}${(i * sx).toFixed(1)},${(height - 1 - (v - lo) * sy).toFixed(1)}`).join('')
}
