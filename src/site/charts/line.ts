/** Metric line chart: one line per run against step, wall time or relative time. Browser-safe pure spec. */
import * as Plot from '@observablehq/plot'
import type { PlotOptions } from '@observablehq/plot'
import { smooth } from './downsample.js'
import type { Series } from './series.js'
import { PALETTE } from './palette.js'

export type XAxis = 'step' | 'wall' | 'relative'

/** Runs with at most this many points also get a dot per point. */
export const SPARSE_POINTS = 30

export interface LineRow { run: string; x: number | Date; y: number }

export interface LineChartOptions {
  /** What the x axis shows. @default 'step' */
  x?: XAxis
  /** Log-scale y axis (non-positive values are dropped). @default false */
  logY?: boolean
  /** EMA smoothing weight in [0, 1); the raw line stays faint behind. @default 0 */
  smoothing?: number
  width?: number
  height?: number
  title?: string
  /** Start time per run label, for `relative`. */
  startTimes?: Record<string, number>
  /** Fixed colour domain so the same run keeps its colour across charts. */
  runs?: string[]
}

/** Turns decoded series (one per run label) into rows for `lineChartSpec`. */
export function seriesRows(series: { run: string; series: Series }[], o: LineChartOptions = {}): LineRow[] {
  const rows: LineRow[] = []
  for (const { run, series: s } of series) {
    const start = o.startTimes?.[run] ?? s.time[0] ?? 0
    for (let i = 0; i < s.value.length; i++) {
      const y = s.value[i]!
      if (!Number.isFinite(y) || (o.logY && y <= 0)) continue
      const x = o.x === 'wall' ? new Date(s.time[i]!) : o.x === 'relative' ? (s.time[i]! - start) / 1000 : s.step[i]!
      rows.push({ run, x, y })
    }
  }
  return rows
}

/**
 * The Plot options for a metric chart.
 * @example Plot.plot(lineChartSpec(seriesRows([{ run: 'a', series }]), { x: 'step' }))
 */
export function lineChartSpec(rows: LineRow[], o: LineChartOptions = {}): PlotOptions {
  const w = o.smoothing ?? 0
  const marks: Plot.Markish[] = [Plot.ruleY(o.logY ? [] : [0], { strokeOpacity: 0.15 })]
  const many = new Set(rows.map((r) => r.run)).size > 1
  if (w > 0) {
    marks.push(Plot.line(rows, { x: 'x', y: 'y', z: 'run', stroke: 'run', strokeOpacity: 0.25 }))
    const smoothed: LineRow[] = []
    for (const run of new Set(rows.map((r) => r.run))) {
      const mine = rows.filter((r) => r.run === run)
      const ys = smooth(mine.map((r) => r.y), w)
      mine.forEach((r, i) => smoothed.push({ ...r, y: ys[i]! }))
    }
    marks.push(Plot.line(smoothed, { x: 'x', y: 'y', z: 'run', stroke: 'run', strokeWidth: 1.5, tip: many ? undefined : { format: { stroke: false } } }))
  } else {
    marks.push(Plot.line(rows, { x: 'x', y: 'y', z: 'run', stroke: 'run', strokeWidth: 1.5 }))
  }
  // A line through one point draws nothing: runs with few points get their points marked as well.
  const counts = new Map<string, number>()
  for (const r of rows) counts.set(r.run, (counts.get(r.run) ?? 0) + 1)
  const sparse = rows.filter((r) => counts.get(r.run)! <= SPARSE_POINTS)
  if (sparse.length) marks.push(Plot.dot(sparse, { x: 'x', y: 'y', fill: 'run', r: 3 }))
  marks.push(Plot.tip(rows, Plot.pointerX({ x: 'x', y: 'y', stroke: 'run', channels: { run: 'run' } })))
  const xs = rows.map((r) => +r.x)
  const flatX = o.x !== 'wall' && xs.length > 0 && xs.every((x) => x === xs[0])
  return {
    width: o.width ?? 640,
    height: o.height ?? 260,
    marginLeft: 56,
    style: { background: 'transparent', color: 'currentColor', fontSize: '11px' },
    x: {
      label: o.x === 'wall' ? 'time' : o.x === 'relative' ? 'seconds since start' : 'step', type: o.x === 'wall' ? 'time' : 'linear', grid: true,
      // Every point at one x (a metric logged once): give the axis room instead of a zero-width domain.
      ...(flatX ? { domain: [xs[0]! - 1, xs[0]! + 1] } : {}),
    },
    y: { label: o.title ?? null, type: o.logY ? 'log' : 'linear', grid: true, nice: true },
    color: { domain: o.runs ?? [...new Set(rows.map((r) => r.run))], range: PALETTE, legend: false },
    marks,
  }
}
