/** Scatter of any param or metric against any other, one dot per run. Browser-safe pure spec. */
import * as Plot from '@observablehq/plot'
import type { PlotOptions } from '@observablehq/plot'
import { PALETTE } from './palette.js'

export interface ScatterRow { run: string; x: number | string; y: number | string }
export interface ScatterOptions { xLabel: string; yLabel: string; width?: number; height?: number; runs?: string[]; logX?: boolean; logY?: boolean }

/** All runs at one value: a small symmetric domain around it, instead of a zero-width one with 6-digit ticks. */
function padded(rows: ScatterRow[], k: 'x' | 'y'): { domain?: [number, number] } {
  const vs = rows.map((r) => r[k])
  if (vs.length === 0 || !vs.every((v) => typeof v === 'number' && v === vs[0])) return {}
  const v = vs[0] as number
  const d = Math.abs(v) * 0.05 || 1
  return { domain: [v - d, v + d] }
}

/** @example Plot.plot(scatterSpec([{ run: 'a', x: 0.1, y: 0.9 }], { xLabel: 'params.lr', yLabel: 'metrics.acc' })) */
export function scatterSpec(rows: ScatterRow[], o: ScatterOptions): PlotOptions {
  const numeric = (k: 'x' | 'y') => rows.every((r) => typeof r[k] === 'number')
  return {
    width: o.width ?? 480,
    height: o.height ?? 320,
    marginLeft: 56,
    inset: 12,
    style: { background: 'transparent', color: 'currentColor', fontSize: '11px' },
    x: { label: o.xLabel, type: numeric('x') ? (o.logX ? 'log' : 'linear') : 'point', grid: true, ...padded(rows, 'x') },
    y: { label: o.yLabel, type: numeric('y') ? (o.logY ? 'log' : 'linear') : 'point', grid: true, ...padded(rows, 'y') },
    color: { domain: o.runs ?? rows.map((r) => r.run), range: PALETTE },
    marks: [
      Plot.dot(rows, { x: 'x', y: 'y', fill: 'run', r: 5, stroke: 'currentColor', strokeWidth: 0.5 }),
      Plot.tip(rows, Plot.pointer({ x: 'x', y: 'y', channels: { run: 'run' } })),
    ],
  }
}
