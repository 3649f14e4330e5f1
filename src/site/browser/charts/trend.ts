/** Commits trend: the best value of the primary metric per code commit, oldest to newest. Browser-safe pure spec. */
import * as Plot from '@observablehq/plot'
import type { PlotOptions } from '@observablehq/plot'

export interface TrendRow { commit: string; index: number; value: number; time: Date }
export interface TrendOptions { metric: string; width?: number; height?: number }

/** @example Plot.plot(trendSpec(rows, { metric: 'val_loss' })) */
export function trendSpec(rows: TrendRow[], o: TrendOptions): PlotOptions {
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
    y: { label: `best ${o.metric}`, grid: true, nice: true },
    marks: [
      Plot.line(rows, { x: 'index', y: 'value', stroke: '#4269d0', strokeWidth: 1.5 }),
      Plot.dot(rows, { x: 'index', y: 'value', fill: '#4269d0', r: 3 }),
      Plot.tip(rows, Plot.pointerX({ x: 'index', y: 'value', title: (d: TrendRow) => `${d.commit.slice(0, 8)}  ${d.value}` })),
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
