/** Observable Plot rendered at build time with linkedom, so the first paint (and no-JS readers) get the chart. */
import * as Plot from '@observablehq/plot'
import type { PlotOptions } from '@observablehq/plot'
import { parseHTML } from 'linkedom'

export function renderPlot(spec: PlotOptions): string {
  const { document } = parseHTML('<!doctype html><html><body></body></html>')
  try {
    const el = Plot.plot({ ...spec, document: document as unknown as Document }) as unknown as { outerHTML: string }
    // Tenths of a pixel are enough for a static first paint, and a run page carries several charts.
    return el.outerHTML.replace(/<[^>]+>/g, (tag) => tag.replace(/(\d+\.\d)\d+/g, '$1'))
  } catch {
    return ''
  }
}
