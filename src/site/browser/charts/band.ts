/**
 * Curves of groups of repeats: per group, the mean of its members' curves with a shaded band, the 95% confidence
 * interval of the mean (src/judge `describe`, Student t) or the min–max range. Browser-safe pure spec.
 */
import * as Plot from '@observablehq/plot'
import type { PlotOptions } from '@observablehq/plot'
import { describe } from '../../../judge/index.js'
import { tickNumber } from './line.js'
import { PALETTE } from './palette.js'
import type { Series } from './series.js'

export type BandKind = 'ci' | 'minmax'

/** The band a link asks for: `?band=minmax`; anything else is the default, the 95% CI. */
export function readBand(search: string): BandKind {
  return new URLSearchParams(search).get('band') === 'minmax' ? 'minmax' : 'ci'
}

/** Writes the band into `url`'s query (the default left out, other parameters alone), like the table's view. */
export function writeBand(url: URL, band: BandKind): URL {
  if (band === 'ci') url.searchParams.delete('band')
  else url.searchParams.set('band', band)
  return url
}

/** One x of one group: the members' statistics there. `lo`/`hi` is the 95% CI (equal to the mean when n < 2). */
export interface BandRow { group: string; x: number; mean: number; lo: number; hi: number; min: number; max: number; n: number }

/** Value of a series at step `x`: linear between its neighbouring points, undefined outside the steps it logged. */
function valueAt(s: Series, x: number, from: number): { v: number | undefined; i: number } {
  const st = s.step
  let i = from
  while (i + 1 < st.length && st[i + 1]! <= x) i++
  if (!st.length || x < st[0]! || x > st[st.length - 1]!) return { v: undefined, i }
  if (st[i] === x) return { v: s.value[i], i }
  const a = st[i]!, b = st[i + 1]!
  const t = (x - a) / (b - a)
  return { v: s.value[i]! + t * (s.value[i + 1]! - s.value[i]!), i }
}

/**
 * Rows for `bandChartSpec`: at up to `maxX` steps (the union of the members' steps, thinned evenly), each member's
 * value (interpolated between its own points; none outside its range), summarised by src/judge `describe`.
 * Non-finite values are left out, as judgement leaves them out.
 * @example groupBandRows([{ group: 'lr=0.01', series: [s1, s2, s3] }])
 */
export function groupBandRows(groups: ReadonlyArray<{ group: string; series: readonly Series[] }>, o: { maxX?: number } = {}): BandRow[] {
  const out: BandRow[] = []
  const maxX = o.maxX ?? 300
  for (const { group, series } of groups) {
    const members = series.filter((s) => s.step.length > 0)
    if (!members.length) continue
    let xs = [...new Set(members.flatMap((s) => s.step))].sort((a, b) => a - b)
    if (xs.length > maxX) xs = Array.from({ length: maxX }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (maxX - 1))]!)
    const cursor = members.map(() => 0)
    for (const x of xs) {
      const vals: number[] = []
      members.forEach((s, m) => {
        const { v, i } = valueAt(s, x, cursor[m]!)
        cursor[m] = i
        if (v !== undefined && Number.isFinite(v)) vals.push(v)
      })
      const d = describe(vals)
      if (!d) continue
      out.push({ group, x, mean: d.mean, lo: d.ci?.[0] ?? d.mean, hi: d.ci?.[1] ?? d.mean, min: d.min, max: d.max, n: d.n })
    }
  }
  return out
}

export interface BandChartOptions {
  /** What the shaded band shows. @default 'ci' */
  band?: BandKind
  /** Fixed colour domain (group labels) so a group keeps its colour across charts. */
  groups?: string[]
  title?: string
  width?: number
  height?: number
}

/**
 * The Plot options for a group chart: one mean line per group over its shaded band.
 * @example Plot.plot(bandChartSpec(groupBandRows(groups), { band: 'minmax', title: 'val_loss' }))
 */
export function bandChartSpec(rows: BandRow[], o: BandChartOptions = {}): PlotOptions {
  const [y1, y2] = o.band === 'minmax' ? ['min', 'max'] : ['lo', 'hi']
  const what = o.band === 'minmax' ? 'min–max' : '95% CI'
  return {
    width: o.width ?? 640,
    height: o.height ?? 260,
    marginLeft: 56,
    style: { background: 'transparent', color: 'currentColor', fontSize: '11px' },
    x: { label: 'step', grid: true, tickFormat: tickNumber },
    y: { label: o.title ?? null, labelArrow: 'none', grid: true, nice: true, tickFormat: tickNumber },
    color: { domain: o.groups ?? [...new Set(rows.map((r) => r.group))], range: PALETTE, legend: false },
    marks: [
      Plot.areaY(rows, { x: 'x', y1, y2, z: 'group', fill: 'group', fillOpacity: 0.18, ariaDescription: 'band' }),
      Plot.line(rows, { x: 'x', y: 'mean', z: 'group', stroke: 'group', strokeWidth: 1.6, ariaDescription: 'mean' }),
      Plot.tip(rows, Plot.pointer({
        x: 'x', y: 'mean', stroke: 'group',
        title: (d: BandRow) => `${d.group}\nstep ${tickNumber(d.x)}\nmean ${tickNumber(d.mean)} (n=${d.n})\n${what} ${tickNumber(d[y1 as 'lo'])} … ${tickNumber(d[y2 as 'hi'])}`,
      })),
    ],
  }
}
