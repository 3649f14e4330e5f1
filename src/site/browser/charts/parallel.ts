/** Parallel coordinates: one vertical axis per param (normalised to [0, 1]) plus the chosen metric, one polyline per run. */
import * as Plot from '@observablehq/plot'
import type { PlotOptions } from '@observablehq/plot'
import type { ParamValue } from '../../../model/run.js'
import { PALETTE } from './palette.js'
import { fmtNumber } from '../display.js'

export interface ParallelRun { run: string; values: Record<string, ParamValue | undefined> }
export interface ParallelOptions { axes: string[]; width?: number; height?: number; runs?: string[] }

export interface Pt { run: string; axis: string; pos: number; label: string }

/** Places each run's value on each axis: numbers linearly between the axis min and max, other values as evenly spaced categories. */
export function parallelRows(runs: ParallelRun[], axes: string[]): Pt[] {
  const rows: Pt[] = []
  for (const axis of axes) {
    const vals = runs.map((r) => r.values[axis])
    const nums = vals.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
    const allNum = nums.length === vals.filter((v) => v !== undefined).length
    if (allNum && nums.length) {
      const lo = Math.min(...nums), hi = Math.max(...nums)
      runs.forEach((r) => {
        const v = r.values[axis]
        if (typeof v === 'number' && Number.isFinite(v)) rows.push({ run: r.run, axis, pos: hi === lo ? 0.5 : (v - lo) / (hi - lo), label: fmtNumber(v) })
      })
    } else {
      const cats = [...new Set(vals.filter((v) => v !== undefined).map(String))].sort()
      runs.forEach((r) => {
        const v = r.values[axis]
        if (v !== undefined) rows.push({ run: r.run, axis, pos: cats.length === 1 ? 0.5 : cats.indexOf(String(v)) / (cats.length - 1), label: String(v) })
      })
    }
  }
  return rows
}

/** The lowest and highest value on each axis, for labels at the axis ends. */
export function axisEnds(rows: Pt[]): Pt[] {
  const out = new Map<string, Pt>()
  for (const r of rows) {
    for (const end of [0, 1]) {
      const k = `${r.axis}\u0000${end}`
      const cur = out.get(k)
      if (Math.abs(r.pos - end) < 1e-9 && !cur) out.set(k, { run: '', axis: r.axis, pos: end, label: r.label })
    }
  }
  return [...out.values()]
}

/** @example Plot.plot(parallelSpec(parallelRows(runs, ['params.lr', 'metrics.acc']), { axes: [...] })) */
export function parallelSpec(rows: Pt[], o: ParallelOptions): PlotOptions {
  return {
    width: o.width ?? Math.max(360, o.axes.length * 120),
    height: o.height ?? 300,
    marginTop: 24,
    marginBottom: 44,
    marginLeft: 60,
    marginRight: 60,
    style: { background: 'transparent', color: 'currentColor', fontSize: '11px' },
    x: { domain: o.axes, label: null, padding: 0.1, tickPadding: 18, tickSize: 0 },
    y: { domain: [0, 1], axis: null },
    color: { domain: o.runs ?? [...new Set(rows.map((r) => r.run))], range: PALETTE },
    marks: [
      Plot.ruleX(o.axes, { stroke: 'currentColor', strokeOpacity: 0.3 }),
      Plot.line(rows, { x: 'axis', y: 'pos', z: 'run', stroke: 'run', strokeWidth: 1.5, curve: 'linear' }),
      Plot.dot(rows, { x: 'axis', y: 'pos', fill: 'run', r: 3 }),
      Plot.text(axisEnds(rows).filter((d) => d.pos === 1), { x: 'axis', y: 'pos', text: 'label', dy: -10, fill: 'currentColor', fontSize: 10 }),
      Plot.text(axisEnds(rows).filter((d) => d.pos === 0), { x: 'axis', y: 'pos', text: 'label', dy: 10, fill: 'currentColor', fontSize: 10 }),
      Plot.tip(rows, Plot.pointer({ x: 'axis', y: 'pos', title: (d: Pt) => `${d.run}\n${d.axis} = ${d.label}` })),
    ],
  }
}
