/** A metric each run logged once, across compared runs: one bar per run with its value. Browser-safe pure spec. */
import * as Plot from '@observablehq/plot'
import type { PlotOptions } from '@observablehq/plot'
import { tickNumber } from './line.js'
import { PALETTE } from './palette.js'

export interface BarRow { run: string; value: number }

/**
 * Horizontal bars, one per run, the value written at the bar's end; the axis starts at zero (bars lie otherwise)
 * unless values are negative.
 * @example Plot.plot(barSpec([{ run: 'a', value: 0.91 }, { run: 'b', value: 0.88 }], { title: 'test_acc' }))
 */
export function barSpec(rows: BarRow[], o: { title?: string; runs?: string[]; width?: number } = {}): PlotOptions {
  const finite = rows.filter((r) => Number.isFinite(r.value))
  return {
    width: o.width ?? 560,
    height: 28 * Math.max(1, finite.length) + 40,
    marginLeft: 120,
    marginRight: 56,
    style: { background: 'transparent', color: 'currentColor', fontSize: '11px' },
    x: { label: o.title ?? null, labelArrow: 'none', grid: true, tickFormat: tickNumber, nice: true },
    y: { label: null, domain: finite.map((r) => r.run), tickFormat: (s: string) => (s.length > 18 ? s.slice(0, 17) + '…' : s) },
    color: { domain: o.runs ?? finite.map((r) => r.run), range: PALETTE, legend: false },
    marks: [
      Plot.barX(finite, { x: 'value', y: 'run', fill: 'run' }),
      Plot.text(finite, { x: 'value', y: 'run', text: (d: BarRow) => tickNumber(d.value), dx: 4, textAnchor: 'start', fill: 'currentColor' }),
      Plot.ruleX([0], { strokeOpacity: 0.3 }),
    ],
  }
}
