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
   * A live chart's one line: `key` names everything drawn but its points. When only the points changed and the new
   * ones (past the last x drawn) all fit the axes drawn (lineChartSpec `headroom`), the line is extended in place
   * instead of a new chart: the new segments are stroked on a canvas laid over the chart (`extendLine`), so a live
   * page's update paints a few segments, not Plot's scales, axes and a new SVG, nor the whole path again (the
   * browser's raster of a 1,000-point path on every refresh was most of what 20 open pages cost, bench/live.ts).
   * The chart is drawn anew when the pointer comes over it (its tip then knows every point) or the points leave the axes.
   * `width` is the spec's: whether the chart drawn still fits is known without making the spec. `rows` are the
   * line's rows as a new chart draws them (made only then), `after(x)` its rows past `x` (what an extension draws).
   */
  line?: LiveLine
}

/** Drags shorter than this many pixels are clicks, not zooms. */
const MIN_DRAG_PX = 6

type Row = { x: number | Date; y: number }
/** A live chart's line (Props.line). */
export interface LiveLine { key: string; width: number; rows: () => readonly Row[]; after: (x: number) => readonly Row[] }
/** A live line extended in place: the canvas over the chart, and the last point drawn (data x, and its pixels). */
interface Extension { canvas: HTMLCanvasElement; ctx: CanvasRenderingContext2D; lastX: number; at: [number, number] }
/** A drawn chart; `avail` is the container width it was fitted to (a line is extended in place only at that width). */
interface Drawn { chart: HTMLElement | SVGSVGElement; key: string | undefined; avail: number; stale: boolean; remove: () => void; last?: Row; ext?: Extension | null }
type Scale = { apply?: (v: unknown) => number; domain?: unknown[] }
type Scaled = Element & { scale?: (name: string) => unknown }

/** The chart's x and y scales when it is one line with numeric two-ended domains (what `extendLine` can extend). */
function lineScales(chart: Scaled): { x: Scale & { apply(v: unknown): number }; y: Scale & { apply(v: unknown): number }; path: SVGPathElement; within(r: Row): boolean } | undefined {
  const paths = chart.querySelectorAll<SVGPathElement>('g[aria-label="line"] path')
  if (paths.length !== 1 || !chart.scale) return undefined
  const x = chart.scale('x') as Scale | undefined, y = chart.scale('y') as Scale | undefined
  if (!x?.apply || !y?.apply || x.domain?.length !== 2 || y.domain?.length !== 2) return undefined
  const [x0, x1] = (x.domain as Array<number | Date>).map(Number) as [number, number]
  const [y0, y1] = (y.domain as number[]).map(Number) as [number, number]
  const within = (r: Row) => +r.x >= Math.min(x0, x1) && +r.x <= Math.max(x0, x1) && r.y >= Math.min(y0, y1) && r.y <= Math.max(y0, y1)
  return { x: x as Scale & { apply(v: unknown): number }, y: y as Scale & { apply(v: unknown): number }, path: paths[0]!, within }
}

/**
 * Extends the one line of the chart `d` through the rows past the last x it drew, on a canvas laid over the chart
 * (made on the first extension: the line's stroke and width, the chart's own coordinates); true when done (or nothing
 * was new), false when a new row leaves the axes or the chart is not a single line (the caller draws a new chart).
 * `el` gets `data-line-to`: the last x drawn.
 */
export function extendLine(el: HTMLElement, d: Drawn, line: LiveLine): boolean {
  const sc = lineScales(d.chart)
  if (!sc) return false
  let ext = d.ext
  if (ext === undefined) ext = d.ext = makeExtension(el, d, sc)
  if (!ext) return false
  const fresh = line.after(ext.lastX)
  if (!fresh.length) return true
  if (!fresh.every(sc.within)) return false
  const pts = fresh.map((r) => [sc.x.apply(r.x), sc.y.apply(r.y)] as [number, number])
  if (!pts.every(([px, py]) => Number.isFinite(px) && Number.isFinite(py))) return false
  const { ctx } = ext
  ctx.beginPath()
  ctx.moveTo(ext.at[0], ext.at[1])
  for (const [px, py] of pts) ctx.lineTo(px, py)
  ctx.stroke()
  ext.lastX = +fresh[fresh.length - 1]!.x
  ext.at = pts[pts.length - 1]!
  el.dataset.lineTo = String(ext.lastX)
  return true
}

/** The canvas over `d`'s chart, in the chart's coordinates, stroking as its line does; null when it cannot be made. */
function makeExtension(el: HTMLElement, d: Drawn, sc: NonNullable<ReturnType<typeof lineScales>>): Extension | null {
  const svg = d.chart instanceof SVGSVGElement ? d.chart : d.chart.querySelector('svg')
  const w = svg?.width.baseVal.value, h = svg?.height.baseVal.value
  // the line drawn ends at the last row the chart was drawn with
  const last = d.last
  if (!svg || !w || !h || !last || !sc.within(last)) return null
  const box = svg.getBoundingClientRect(), host = el.getBoundingClientRect()
  const canvas = document.createElement('canvas')
  const dpr = window.devicePixelRatio || 1
  canvas.width = Math.round(box.width * dpr)
  canvas.height = Math.round(box.height * dpr)
  canvas.className = 'line-ext'
  canvas.setAttribute('aria-hidden', 'true')
  canvas.style.cssText = `position:absolute;left:${box.left - host.left}px;top:${box.top - host.top}px;width:${box.width}px;height:${box.height}px;pointer-events:none`
  const ctx = canvas.getContext('2d')
  if (!ctx) return null
  ctx.setTransform((dpr * box.width) / w, 0, 0, (dpr * box.height) / h, 0, 0)
  const style = getComputedStyle(sc.path)
  ctx.strokeStyle = style.stroke
  ctx.lineWidth = parseFloat(style.strokeWidth) || 1
  ctx.lineJoin = 'round'
  ctx.lineCap = 'round'
  el.append(canvas)
  const remove = d.remove
  d.remove = () => { canvas.remove(); remove() }
  return { canvas, ctx, lastX: +last.x, at: [sc.x.apply(last.x), sc.y.apply(last.y)] }
}

/**
 * The width a chart in `el` is fitted to: the container's (phones), else the spec's. The container's as its
 * ResizeObserver last saw it (`seen`), read anew only before the first: reading `clientWidth` lays the page out there
 * and then, and a live page read it on every update, just after the metrics table's numbers changed.
 */
function availWidth(el: HTMLDivElement, specWidth: number | undefined, seen: { current: number | null }): number {
  // (0 is a width seen: a chart in a closed <details> is not laid out again on each update)
  seen.current ??= el.clientWidth
  return seen.current || specWidth || 640
}

export default function PlotFigure({ spec, className, onZoom, line }: Props) {
  const ref = useRef<HTMLDivElement>(null)
  const zoomRef = useRef(onZoom)
  zoomRef.current = onZoom
  const latest = useRef({ spec, key: line?.key, rows: line?.rows })
  latest.current = { spec, key: line?.key, rows: line?.rows }
  const drawn = useRef<Drawn | null>(null)
  // the container's width, kept by a ResizeObserver (availWidth)
  const seen = useRef<number | null>(null)
  useEffect(() => {
    const el = ref.current
    const ro = el && typeof ResizeObserver !== 'undefined' ? new ResizeObserver(() => { seen.current = el.clientWidth }) : undefined
    if (el) ro?.observe(el)
    return () => { ro?.disconnect(); drawn.current?.remove(); drawn.current = null }
  }, [])
  useEffect(() => {
    const el = ref.current
    if (!el) return
    const d = drawn.current
    if (spec && d && line && d.key === line.key && d.avail === availWidth(el, line.width, seen) && extendLine(el, d, line)) { d.stale = true; return }
    d?.remove()
    drawn.current = spec ? draw(el, specOf(spec), line?.key, line?.rows) : null
  }, [spec])

  /** Draws `spec` into `el`, with the drag-to-zoom handlers; `remove` takes both away. */
  function draw(el: HTMLDivElement, spec: PlotOptions, key: string | undefined, rows: (() => readonly Row[]) | undefined): Drawn {
    // Fit the container (phones), never wider than the spec asks.
    const avail = availWidth(el, spec.width, seen)
    const chart = Plot.plot({ ...spec, width: Math.max(240, Math.min(spec.width ?? avail, avail)) })
    el.replaceChildren(chart)
    // a new chart draws every row: a later extension starts past its last one
    const all = rows?.()
    const self: Drawn = { chart, key, avail, stale: false, remove: () => chart.remove(), last: all?.[all.length - 1] }
    // a line redrawn in place: the tip's points are the chart's; draw it anew before the pointer uses them
    const fresh = () => {
      if (!self.stale || drawn.current !== self || !latest.current.spec) return
      self.remove()
      drawn.current = draw(el, specOf(latest.current.spec), latest.current.key, latest.current.rows)
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
