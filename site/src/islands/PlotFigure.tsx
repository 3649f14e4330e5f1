/** Mounts an Observable Plot chart (a pure spec) into a div; re-renders when the spec changes. */
import { useEffect, useRef } from 'react'
import * as Plot from '@observablehq/plot'
import type { PlotOptions } from '@observablehq/plot'

export default function PlotFigure({ spec, className }: { spec: PlotOptions | null; className?: string }) {
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = ref.current
    if (!el || !spec) return
    // Fit the container (phones), never wider than the spec asks.
    const avail = el.clientWidth || spec.width || 640
    const chart = Plot.plot({ ...spec, width: Math.max(240, Math.min(spec.width ?? avail, avail)) })
    el.replaceChildren(chart)
    return () => chart.remove()
  }, [spec])
  return <div ref={ref} className={className ?? 'plot'} />
}
