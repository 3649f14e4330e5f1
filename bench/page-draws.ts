/**
 * What a live run page drew, counted in the page (bench/live.ts, bench/live-page-cost.ts): charts drawn anew (a new
 * svg: Plot's scales, axes and path, and their raster) and lines extended in place (PlotFigure's canvas, data-line-to).
 * A chart drawn anew costs the browser tens of times an extension, so the two are told apart.
 */
import type { Page } from 'playwright-core'

/** Starts counting in `page` (again from 0). */
export function countDraws(page: Page): Promise<unknown> {
  return page.evaluate(`(() => {
    window.__draws?.observer.disconnect()
    const d = window.__draws = { full: 0, inPlace: 0, observer: null }
    d.observer = new MutationObserver((ms) => { for (const m of ms) { if (m.type === 'childList' && [...m.addedNodes].some((n) => n.nodeName === 'svg')) d.full++; else if (m.type === 'attributes') d.inPlace++ } })
    d.observer.observe(document.querySelector('.run-charts') ?? document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['d', 'data-line-to'] })
  })()`)
}

/** Per page a second since `countDraws`: charts drawn anew and lines extended in place, over all `pages`. */
export async function drawsPerPage(pages: Page[], seconds: number): Promise<{ full: number; inPlace: number }> {
  const did = (await Promise.all(pages.map((p) => p.evaluate('({ full: window.__draws?.full ?? 0, inPlace: window.__draws?.inPlace ?? 0 })')))) as Array<{ full: number; inPlace: number }>
  const per = (k: 'full' | 'inPlace') => did.reduce((a, d) => a + d[k], 0) / pages.length / seconds
  return { full: per('full'), inPlace: per('inPlace') }
}
