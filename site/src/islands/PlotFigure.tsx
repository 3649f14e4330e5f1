/** Mounts an Observable Plot chart (a pure spec) into a div; re-renders when the spec changes. */
import { useEffect, useRef } from 'react'
import * as Plot from '@observablehq/plot'
import type { PlotOptions } from '@observablehq/plot'

export default function PlotFigure({ spec, className }: { spec: PlotOptions | null; className?: string }) {
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = ref.current
    if (!el || !spec) return
    const chart = Plot.plot(spec)
    el.replaceChildren(chart)
    return () => chart.remove()
  }, [spec])
  return <div ref={ref} className={className ?? 'plot'} />
}
