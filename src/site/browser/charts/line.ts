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
  /** Start the y axis at zero (a bar-chart habit) instead of fitting it to the data. @default false */
  fromZero?: boolean
  /** Show only this x range (drag-to-zoom); points outside it are left out. Numbers (ms for wall time). */
  xDomain?: [number, number]
  /**
   * A line still growing (a live run): the x axis reaches this fraction of the data's x span past its last point, so
   * the points of the next updates fit the axes drawn and only the line is redrawn (site PlotFigure `line`), not the
   * whole chart. Unused with `xDomain`. @default 0
   */
  headroom?: number
}

/** Log-axis and other ticks as plain numbers (`0.1`, `1,000`, `1e-6`), never SI prefixes (`100m`). */
export function tickNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v)
  const a = Math.abs(v)
  if (a !== 0 && (a < 1e-4 || a >= 1e7)) return v.toExponential(0).replace('e+', 'e')
  return Number(v.toPrecision(6)).toLocaleString('en', { maximumFractionDigits: 6 })
}

/** A row of the crosshair: one x, and each run's value there (the run's last point at or before x). */
export interface CrosshairRow { x: number | Date; y: number; text: string }

/**
 * Rows for the crosshair tooltip: at each x where some run has a point, every run's value at that x (its last point
 * at or before it), so hovering shows all lines at once. At most `max` x positions (evenly thinned).
 */
export function crosshairRows(rows: LineRow[], o: { label?: string; max?: number } = {}): CrosshairRow[] {
  const byRun = new Map<string, LineRow[]>()
  for (const r of rows) {
    const list = byRun.get(r.run) ?? []
    list.push(r)
    byRun.set(r.run, list)
  }
  if (byRun.size < 2) return []
  for (const list of byRun.values()) list.sort((a, b) => +a.x - +b.x)
  let xs = [...new Set(rows.map((r) => +r.x))].sort((a, b) => a - b)
  const max = o.max ?? 600
  if (xs.length > max) xs = Array.from({ length: max }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (max - 1))]!)
  const wall = rows[0]?.x instanceof Date
  const cursor = new Map<string, number>()
  const out: CrosshairRow[] = []
  for (const x of xs) {
    const lines: Array<[string, number]> = []
    for (const [run, list] of byRun) {
      let i = cursor.get(run) ?? -1
      while (i + 1 < list.length && +list[i + 1]!.x <= x) i++
      cursor.set(run, i)
      if (i >= 0) lines.push([run, list[i]!.y])
    }
    if (!lines.length) continue
    lines.sort((a, b) => b[1] - a[1])
    const head = wall ? new Date(x).toISOString().slice(0, 19).replace('T', ' ') : `${o.label ?? 'x'} ${tickNumber(x)}`
    out.push({ x: wall ? new Date(x) : x, y: lines[0]![1], text: [head, ...lines.map(([run, y]) => `${run}: ${tickNumber(y)}`)].join('\n') })
  }
  return out
}

/**
 * Point `i`'s x on the axis `x` as a number (a wall time as ms; relative time in seconds since `start`): what a row's
 * x is (`seriesRows`, which makes a wall time a Date), without making the row.
 */
export function pointX(s: Series, i: number, x: XAxis | undefined, start: number): number {
  return x === 'wall' ? s.time[i]! : x === 'relative' ? (s.time[i]! - start) / 1000 : s.step[i]!
}

/** Turns decoded series (one per run label) into rows for `lineChartSpec`. */
export function seriesRows(series: { run: string; series: Series }[], o: LineChartOptions = {}): LineRow[] {
  const rows: LineRow[] = []
  for (const { run, series: s } of series) {
    const start = o.startTimes?.[run] ?? s.time[0] ?? 0
    for (let i = 0; i < s.value.length; i++) {
      const y = s.value[i]!
      if (!Number.isFinite(y) || (o.logY && y <= 0)) continue
      const v = pointX(s, i, o.x, start)
      rows.push({ run, x: o.x === 'wall' ? new Date(v) : v, y })
    }
  }
  return rows
}

/**
 * The Plot options for a metric chart.
 * @example Plot.plot(lineChartSpec(seriesRows([{ run: 'a', series }]), { x: 'step' }))
 */
export function lineChartSpec(rows: LineRow[], o: LineChartOptions = {}): PlotOptions {
  // (rows is narrowed to the zoomed x range below)
  const w = o.smoothing ?? 0
  if (o.xDomain) {
    const [a, b] = o.xDomain
    rows = rows.filter((r) => +r.x >= a && +r.x <= b)
  }
  // The y axis fits the data; "from zero" draws the zero line, which pulls the axis down to it.
  const marks: Plot.Markish[] = [Plot.ruleY(o.fromZero && !o.logY ? [0] : [], { strokeOpacity: 0.15 })]
  const many = new Set(rows.map((r) => r.run)).size > 1
  // A counts pass for the dots below and the line width: points per run
  const counts = new Map<string, number>()
  for (const r of rows) counts.set(r.run, (counts.get(r.run) ?? 0) + 1)
  const stroke = lineWidth(Math.max(0, ...counts.values()), o.width ?? 640)
  if (w > 0) {
    marks.push(Plot.line(rows, { x: 'x', y: 'y', z: 'run', stroke: 'run', strokeOpacity: 0.25, strokeWidth: stroke }))
    const smoothed: LineRow[] = []
    for (const run of new Set(rows.map((r) => r.run))) {
      const mine = rows.filter((r) => r.run === run)
      const ys = smooth(mine.map((r) => r.y), w)
      mine.forEach((r, i) => smoothed.push({ ...r, y: ys[i]! }))
    }
    marks.push(Plot.line(smoothed, { x: 'x', y: 'y', z: 'run', stroke: 'run', strokeWidth: 1.5, tip: many ? undefined : { format: { stroke: false } } }))
  } else {
    marks.push(Plot.line(rows, { x: 'x', y: 'y', z: 'run', stroke: 'run', strokeWidth: stroke }))
  }
  // A line through one point draws nothing: runs with few points get their points marked as well.
  const sparse = rows.filter((r) => counts.get(r.run)! <= SPARSE_POINTS)
  if (sparse.length) marks.push(Plot.dot(sparse, { x: 'x', y: 'y', fill: 'run', r: 3 }))
  const xLabel = o.x === 'wall' ? 'time' : o.x === 'relative' ? 'seconds' : 'step'
  if (many) {
    // A crosshair: the vertical rule at the pointer and every line's value there in one tip.
    const cross = crosshairRows(rows, { label: xLabel })
    marks.push(Plot.ruleX(cross, Plot.pointerX({ x: 'x', stroke: 'currentColor', strokeOpacity: 0.35 })))
    marks.push(Plot.tip(cross, Plot.pointerX({ x: 'x', y: 'y', title: 'text' })))
  } else {
    marks.push(Plot.ruleX(rows, Plot.pointerX({ x: 'x', stroke: 'currentColor', strokeOpacity: 0.35 })))
    marks.push(Plot.tip(rows, Plot.pointerX({ x: 'x', y: 'y', stroke: 'run', channels: { run: 'run' } })))
  }
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
      ...(flatX ? { domain: [xs[0]! - 1, xs[0]! + 1] } : o.headroom && xs.length ? { domain: grow(xs, o.headroom, o.x === 'wall') } : {}),
      ...(o.xDomain ? { domain: o.x === 'wall' ? o.xDomain.map((v) => new Date(v)) : o.xDomain } : {}),
      tickFormat: o.x === 'wall' ? undefined : tickNumber,
    },
    // No arrow on the label: Plot's ↑ reads as "higher is better", wrong on a loss.
    y: { label: o.title ?? null, labelArrow: 'none', type: o.logY ? 'log' : 'linear', grid: true, nice: true, tickFormat: tickNumber },
    color: { domain: o.runs ?? [...new Set(rows.map((r) => r.run))], range: PALETTE, legend: false },
    marks,
  }
}

/**
 * A line's stroke width: 1.5 px, or 1 px when a run has more points than the plot has pixel columns. A dense line
 * (a long history downsampled to min/max pairs, a live run's) is a band of strokes either way, and a 1 px stroke is
 * painted as a hairline: about a quarter of the paint time of 1.5 px with round joins, in Chromium without a GPU
 * (bench/live-page-cost.ts), which a live page pays on every redraw.
 */
export function lineWidth(points: number, width: number): number {
  return points > width - 76 ? 1 : 1.5
}

/** Seconds of a live line's growth the x axis leaves room for (`liveHeadroom`). */
const LIVE_ROOM_S = 60

/**
 * The headroom of a live line (lineChartSpec `headroom`): room on x for about a minute more at the pace the line grew
 * so far, at least a quarter of its span and at most half. A line growing at a steady pace spans its age, so this is
 * `60 s / age`: a young run's chart, which would outgrow a quarter every few seconds (each time drawn anew: Plot's
 * scales, axes and a new svg, tens of times an extension in place), leaves half; from 4 minutes on, a quarter.
 * `time`: the line's points' times (ms) in the order drawn; only the first and the last count.
 */
export function liveHeadroom(time: ArrayLike<number>): number {
  const n = time.length
  const age = n > 1 ? (time[n - 1]! - time[0]!) / 1000 : 0
  return age > 0 ? Math.min(0.5, Math.max(0.25, LIVE_ROOM_S / age)) : 0.5
}

/** The x extent of `xs` with `headroom` of its span (at least 1 unit) added past the end: a live line's room to grow. */
function grow(xs: number[], headroom: number, wall: boolean): Array<number | Date> {
  let lo = Infinity, hi = -Infinity
  for (const x of xs) { if (x < lo) lo = x; if (x > hi) hi = x }
  const end = hi + Math.max(wall ? 1000 : 1, (hi - lo) * headroom)
  return wall ? [new Date(lo), new Date(end)] : [lo, end]
}
