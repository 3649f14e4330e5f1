/**
 * Mounts an Observable Plot chart (a pure spec) into a div; re-renders when the spec changes. With `onZoom`, a drag
 * across the chart selects an x range (a shaded band follows the pointer) and a double-click resets it.
 */
import { useEffect, useRef } from 'react'
import * as Plot from '@observablehq/plot'
import type { PlotOptions } from '@observablehq/plot'

interface Props {
  spec: PlotOptions | null
  className?: string
  /** Called with the dragged x range (in data units; ms for time axes), or null on double-click. */
  onZoom?: (domain: [number, number] | null) => void
}

/** Drags shorter than this many pixels are clicks, not zooms. */
const MIN_DRAG_PX = 6

export default function PlotFigure({ spec, className, onZoom }: Props) {
  const ref = useRef<HTMLDivElement>(null)
  const zoomRef = useRef(onZoom)
  zoomRef.current = onZoom
  useEffect(() => {
    const el = ref.current
    if (!el || !spec) return
    // Fit the container (phones), never wider than the spec asks.
    const avail = el.clientWidth || spec.width || 640
    const chart = Plot.plot({ ...spec, width: Math.max(240, Math.min(spec.width ?? avail, avail)) })
    el.replaceChildren(chart)
    if (!zoomRef.current) return () => chart.remove()
    const x = chart.scale('x') as { invert?: (px: number) => number | Date; range?: number[] } | undefined
    if (!x?.invert) return () => chart.remove()
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
    return () => {
      el.removeEventListener('pointerdown', down, true)
      window.removeEventListener('pointermove', move)
      window.removeEventListener('pointerup', up)
      band.remove()
      chart.remove()
    }
  }, [spec])
  return <div ref={ref} className={className ?? 'plot'} data-zoomable={onZoom ? '' : undefined} />
}
