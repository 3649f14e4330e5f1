// The experiment table in headless Chromium: time from a filter keystroke (or a sort click) to the next frame, for
// each experiment page given, in one browser, plus a same-run reference (sorting 200,000 numbers in the same page).
// Used by bench/site.mjs and bench/site-table.mjs.

/** Filters typed one character at a time (each character is one keystroke), then cleared. */
const TYPED = ["metrics.acc > 0.5 and params.model = 'cnn'", 'metrics.loss < 0.6']

/**
 * @param {string} out a built site folder
 * @param {string} base its base path
 * @param {string[]} expIds experiment pages to measure
 * @returns {Promise<Array<{ expId: string, rows: number, keystrokes: number, medianMs: number, p95Ms: number, worstMs: number, sortMs: number, refMs: number }>>}
 */
export async function keystrokes(out, base, expIds) {
  const { previewSite } = await import('../src/site/build/preview.ts')
  const { launchChromium } = await import('../test/site/browser.ts')
  const srv = await previewSite({ dir: out, base, port: 0 })
  const browser = await launchChromium()
  const results = []
  try {
    for (const expId of expIds) {
      const page = await browser.newPage()
      await page.goto(`${srv.url}experiments/${expId}/`, { waitUntil: 'networkidle' })
      await page.waitForSelector('.runs-island tbody tr')
      const rows = await page.evaluate(() => Number(/of (\d+) runs/.exec(document.querySelector('.runs-island .count')?.textContent ?? '')?.[1] ?? 0))
      const times = []
      for (const text of TYPED) {
        for (let i = 1; i <= text.length + 1; i++) times.push(await keyTo(page, i <= text.length ? text.slice(0, i) : ''))
      }
      const sortMs = await page.evaluate(async () => {
        const t0 = performance.now()
        document.querySelector('th[data-col="metric:acc"]').click()
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))
        return performance.now() - t0
      })
      const refMs = await page.evaluate(() => {
        const xs = Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 100_003)
        const t0 = performance.now()
        xs.sort((a, b) => a - b)
        return performance.now() - t0
      })
      const sorted = [...times].sort((a, b) => a - b)
      const r = { expId, rows, keystrokes: times.length, medianMs: round(sorted[sorted.length >> 1]), p95Ms: round(sorted[Math.floor(sorted.length * 0.95)]), worstMs: round(sorted[sorted.length - 1]), sortMs: round(sortMs), refMs: round(refMs) }
      console.log(`experiment ${expId} (${rows} runs): ${r.keystrokes} keystrokes, median ${r.medianMs} ms, p95 ${r.p95Ms} ms, worst ${r.worstMs} ms; sort click ${r.sortMs} ms; reference (sort 200,000 numbers in the same page) ${r.refMs} ms; worst keystroke = ${(r.worstMs / Math.max(0.1, r.refMs)).toFixed(1)}x the reference`)
      results.push(r)
      await page.close()
    }
  } finally {
    await browser.close()
    await srv.close()
  }
  return results
}

const round = (x) => Math.round(x * 10) / 10

/** Sets the filter box to `text` as a keystroke would (one input event) and waits for the next frame. */
function keyTo(page, text) {
  return page.evaluate(async (text) => {
    const input = document.querySelector('input.filter')
    const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set
    const t0 = performance.now()
    set.call(input, text)
    input.dispatchEvent(new Event('input', { bubbles: true }))
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))
    return performance.now() - t0
  }, text)
}
