/**
 * Mounts an Observable Plot chart (a pure spec) into a div; re-renders when the spec changes. With `onZoom`, a drag
 * across the chart selects an x range (a shaded band follows the pointer) and a double-click resets it.
 */
import { useEffect, useRef } from 'react'
import * as Plot from '@observablehq/plot'
import type { PlotOptions } from '@observablehq/plot'

/** A chart's spec, or the function making it: a live line redrawn in place never needs its spec made (RunCharts). */
export type SpecOf = PlotOptions | (() => PlotOptions)
const specOf = (s: SpecOf): PlotOptions => (typeof s === 'function' ? s() : s)

interface Props {
  spec: SpecOf | null
  className?: string
  /** Called with the dragged x range (in data units; ms for time axes), or null on double-click. */
  onZoom?: (domain: [number, number] | null) => void
  /**
   * A live chart's one line: `key` names everything drawn but its points. When only the points changed and they all
   * fit the axes drawn (lineChartSpec `headroom`), the line's path is redrawn in place instead of a new chart: a live
   * page's update costs a path, not Plot's scales, axes and a new SVG (most of 20 open pages' CPU, bench/live.ts).
   * The chart is drawn anew when the pointer comes over it (its tip then knows every point) or the points leave the axes.
   * `width` is the spec's: whether the chart drawn still fits is known without making the spec.
   */
  line?: { key: string; width: number; rows: Array<{ x: number | Date; y: number }> }
}

/** Drags shorter than this many pixels are clicks, not zooms. */
const MIN_DRAG_PX = 6

/** A drawn chart; `avail` is the container width it was fitted to (a line is redrawn in place only at that width). */
interface Drawn { chart: HTMLElement | SVGSVGElement; key: string | undefined; avail: number; stale: boolean; remove: () => void }
type Scale = { apply?: (v: unknown) => number; domain?: unknown[] }

/**
 * Redraws the one line of `chart` through `rows` when they all fit its x and y domains; false (nothing changed) when
 * they do not, or the chart is not a single line.
 */
export function redrawLine(chart: Element & { scale?: (name: string) => unknown }, rows: Array<{ x: number | Date; y: number }>): boolean {
  const paths = chart.querySelectorAll('g[aria-label="line"] path')
  if (paths.length !== 1 || !chart.scale) return false
  const x = chart.scale('x') as Scale | undefined, y = chart.scale('y') as Scale | undefined
  if (!x?.apply || !y?.apply || x.domain?.length !== 2 || y.domain?.length !== 2) return false
  const [x0, x1] = (x.domain as Array<number | Date>).map(Number) as [number, number]
  const [y0, y1] = (y.domain as number[]).map(Number) as [number, number]
  let d = ''
  for (const r of rows) {
    const vx = +r.x
    if (!(vx >= Math.min(x0, x1) && vx <= Math.max(x0, x1) && r.y >= Math.min(y0, y1) && r.y <= Math.max(y0, y1))) return false
    const px = x.apply(r.x), py = y.apply(r.y)
    if (!Number.isFinite(px) || !Number.isFinite(py)) return false
    d += `${d ? 'L' : 'M'}${px.toFixed(2)},${py.toFixed(2)}`
  }
  if (rows.length < 2) return false
  paths[0]!.setAttribute('d', d)
  return true
}

/** The width a chart in `el` is fitted to: the container's (phones), else the spec's. */
function availWidth(el: HTMLDivElement, specWidth: number | undefined): number {
  return el.clientWidth || specWidth || 640
}

export default function PlotFigure({ spec, className, onZoom, line }: Props) {
  const ref = useRef<HTMLDivElement>(null)
  const zoomRef = useRef(onZoom)
  zoomRef.current = onZoom
  const latest = useRef({ spec, key: line?.key })
  latest.current = { spec, key: line?.key }
  const drawn = useRef<Drawn | null>(null)
  useEffect(() => () => { drawn.current?.remove(); drawn.current = null }, [])
  useEffect(() => {
    const el = ref.current
    if (!el) return
    const d = drawn.current
    if (spec && d && line && d.key === line.key && d.avail === availWidth(el, line.width) && redrawLine(d.chart, line.rows)) { d.stale = true; return }
    d?.remove()
    drawn.current = spec ? draw(el, specOf(spec), line?.key) : null
  }, [spec])

  /** Draws `spec` into `el`, with the drag-to-zoom handlers; `remove` takes both away. */
  function draw(el: HTMLDivElement, spec: PlotOptions, key: string | undefined): Drawn {
    // Fit the container (phones), never wider than the spec asks.
    const avail = availWidth(el, spec.width)
    const chart = Plot.plot({ ...spec, width: Math.max(240, Math.min(spec.width ?? avail, avail)) })
    el.replaceChildren(chart)
    const self: Drawn = { chart, key, avail, stale: false, remove: () => chart.remove() }
    // a line redrawn in place: the tip's points are the chart's; draw it anew before the pointer uses them
    const fresh = () => {
      if (!self.stale || drawn.current !== self || !latest.current.spec) return
      self.remove()
      drawn.current = draw(el, specOf(latest.current.spec), latest.current.key)
    }
    chart.addEventListener('pointerenter', fresh)
    const x = zoomRef.current ? chart.scale('x') as { invert?: (px: number) => number | Date; range?: number[] } | undefined : undefined
    if (!x?.invert) return self
    const band = document.createElement('div')
    band.className = 'zoom-band'
    band.hidden = true
    el.append(band)
    let start: number | null = null
    const toPx = (e: PointerEvent) => {
      const r = chart.getBoundingClientRect()
      const scale = (chart as SVGSVGElement).width?.baseVal?.value ? (chart as SVGSVGElement).width.baseVal.value / r.width : 1
      return { px: (e.clientX - r.left) * scale, left: e.clientX - el.getBoundingClientRect().left }
    }
    let startLeft = 0
    const down = (e: PointerEvent) => {
      if (e.button !== 0) return
      const p = toPx(e)
      const [a, b] = x.range ?? [0, Infinity]
      if (p.px < Math.min(a!, b!) || p.px > Math.max(a!, b!)) return
      start = p.px
      startLeft = p.left
    }
    const move = (e: PointerEvent) => {
      if (start === null) return
      const p = toPx(e)
      band.hidden = Math.abs(p.px - start) < MIN_DRAG_PX
      band.style.left = `${Math.min(startLeft, p.left)}px`
      band.style.width = `${Math.abs(p.left - startLeft)}px`
    }
    const up = (e: PointerEvent) => {
      if (start === null) return
      const from = start
      start = null
      band.hidden = true
      const p = toPx(e)
      if (Math.abs(p.px - from) < MIN_DRAG_PX) return
      const [a, b] = x.range ?? [0, 0]
      const clamp = (v: number) => Math.max(Math.min(a!, b!), Math.min(Math.max(a!, b!), v))
      const v1 = +x.invert!(clamp(from))
      const v2 = +x.invert!(clamp(p.px))
      zoomRef.current?.([Math.min(v1, v2), Math.max(v1, v2)])
    }
    const reset = () => zoomRef.current?.(null)
    // Capture on the container: Plot's own pointer handler on the svg stops the event from reaching later listeners.
    el.addEventListener('pointerdown', down, true)
    window.addEventListener('pointermove', move)
    window.addEventListener('pointerup', up)
    chart.addEventListener('dblclick', reset)
    self.remove = () => {
      el.removeEventListener('pointerdown', down, true)
      window.removeEventListener('pointermove', move)
      window.removeEventListener('pointerup', up)
      band.remove()
      chart.remove()
    }
    return self
  }
  return <div ref={ref} className={className ?? 'plot'} data-zoomable={onZoom ? '' : undefined} />
}
