// The experiment table in headless Chromium: time from a filter keystroke (or a sort click) to the next frame, for
// each experiment page given, in one browser, plus a same-run reference (sorting 200,000 numbers in the same page).
// The table filters synchronously in the input event (React renders it before the frame), so keystroke -> next frame
// is keystroke -> result shown; the bench also checks that the count the page shows after each keystroke is the
// count it shows once idle (a table that filtered in the background would fail that check, not look fast).
// Used by bench/site.mjs and bench/site-table.mjs.

/** Filters typed one character at a time (each character is one keystroke), then cleared. */
const TYPED = ["metrics.acc > 0.5 and params.model = 'cnn'", 'metrics.loss < 0.6']

/**
 * @param {string} out a built site folder
 * @param {string} base its base path
 * @param {string[]} expIds experiment pages to measure
 * @param {{ profile?: string, trace?: string, query?: string }} [o] query: appended to each page's address (e.g. `?group=config`, to type
 *   into a grouped table); profile: also record a CPU profile of the first page's keystrokes (Chrome DevTools
 *   Protocol) and print where its time went by function (self time); the .cpuprofile is written to this path
 * @returns {Promise<Array<{ expId: string, rows: number, keystrokes: number, medianMs: number, p95Ms: number, worstMs: number, sortMs: number, refMs: number, times: number[] }>>}
 */
export async function keystrokes(out, base, expIds, o = {}) {
  const { previewSite } = await import('../src/site/build/preview.ts')
  const { launchChromium } = await import('../test/site/browser.ts')
  const srv = await previewSite({ dir: out, base, port: 0 })
  const browser = await launchChromium()
  const results = []
  try {
    for (const expId of expIds) {
      const page = await browser.newPage()
      const errors = []
      page.on('pageerror', (e) => errors.push(e.message))
      await page.goto(`${srv.url}experiments/${expId}/${o.query ?? ''}`, { waitUntil: 'networkidle' })
      await page.waitForSelector('.runs-island tbody tr')
      const rows = await page.evaluate(() => Number(/of (\d+) runs/.exec(document.querySelector('.runs-island .count')?.textContent ?? '')?.[1] ?? 0))
      const cdp = o.profile && results.length === 0 ? await page.context().newCDPSession(page) : undefined
      if (cdp) { await cdp.send('Profiler.enable'); await cdp.send('Profiler.setSamplingInterval', { interval: 200 }); await cdp.send('Profiler.start') }
      // trace: the first page's keystrokes as a Chrome trace (layout, style, paint, GC, script), summarised by event
      const tracing = o.trace && results.length === 0
      if (tracing) await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'blink'] })
      const times = [], texts = [], counts = []
      for (const text of TYPED) {
        for (let i = 1; i <= text.length + 1; i++) {
          const { ms, count } = await keyTo(page, i <= text.length ? text.slice(0, i) : '')
          times.push(ms)
          texts.push(i <= text.length ? text.slice(0, i) : '')
          counts.push(count)
          // what the frame showed is the answer: the same count once everything has settled
          const settled = await page.evaluate(() => new Promise((r) => setTimeout(() => r(document.querySelector('.runs-island .count')?.textContent ?? ''), 50)))
          if (settled !== count) throw new Error(`keystroke ${JSON.stringify(text.slice(0, i))}: the frame showed "${count}", the page settled on "${settled}"`)
        }
      }
      if (tracing) {
        const buf = await browser.stopTracing()
        const { writeFileSync } = await import('node:fs')
        writeFileSync(o.trace, buf)
        printTrace(JSON.parse(buf.toString()), times, texts)
      }
      if (cdp) {
        const { profile } = await cdp.send('Profiler.stop')
        const { writeFileSync } = await import('node:fs')
        writeFileSync(o.profile, JSON.stringify(profile))
        printProfile(profile, times.reduce((a, b) => a + b, 0))
        await cdp.detach()
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
      if (errors.length) throw new Error(`page errors on experiment ${expId}: ${errors.join('; ')}`)
      const r = { expId, rows, keystrokes: times.length, ...stats(times), sortMs: round(sortMs), refMs: round(refMs), times }
      console.log(`experiment ${expId} (${rows} runs): ${r.keystrokes} keystrokes, median ${r.medianMs} ms, p95 ${r.p95Ms} ms, worst ${r.worstMs} ms; sort click ${r.sortMs} ms; reference (sort 200,000 numbers in the same page) ${r.refMs} ms; worst keystroke = ${(r.worstMs / Math.max(0.1, r.refMs)).toFixed(1)}x the reference`)
      // which keystrokes were slowest: the first one? one that changes the count a lot?
      const slow = times.map((ms, k) => ({ k, ms })).sort((a, b) => b.ms - a.ms).slice(0, 4)
      console.log(`  slowest: ${slow.map(({ k, ms }) => `#${k + 1} ${JSON.stringify(texts[k])} ${round(ms)} ms (${counts[k - 1] ?? '-'} -> ${counts[k]})`).join(', ')}`)
      results.push(r)
      await page.close()
    }
  } finally {
    await browser.close()
    await srv.close()
  }
  return results
}

/** Median, p95 and worst of a list of times (ms). */
export function stats(times) {
  const sorted = [...times].sort((a, b) => a - b)
  return { medianMs: round(sorted[sorted.length >> 1]), p95Ms: round(sorted[Math.floor(sorted.length * 0.95)]), worstMs: round(sorted[sorted.length - 1]) }
}

const round = (x) => Math.round(x * 10) / 10

/** Sets the filter box to `text` as a keystroke would (one input event), waits for the next frame, reads the count shown. */
function keyTo(page, text) {
  return page.evaluate(async (text) => {
    const input = document.querySelector('input.filter')
    const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set
    console.timeStamp('labbook-keystroke') // splits a --trace by keystroke
    const t0 = performance.now()
    set.call(input, text)
    input.dispatchEvent(new Event('input', { bubbles: true }))
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))
    const ms = performance.now() - t0
    return { ms, count: document.querySelector('.runs-island .count')?.textContent ?? '' }
  }, text)
}

/** Self time by function (top 15) and by script, from a CDP CPU profile. */
function printProfile(profile, keystrokeMs) {
  const dt = new Map()
  for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000)
  const fns = new Map()
  for (const n of profile.nodes) {
    const ms = dt.get(n.id) ?? 0
    if (!ms) continue
    const f = n.callFrame
    const key = `${f.functionName || '(anonymous)'} ${(f.url.split('/').pop() || '').slice(0, 40)}:${f.lineNumber + 1}`
    fns.set(key, (fns.get(key) ?? 0) + ms)
  }
  const total = [...fns.values()].reduce((a, b) => a + b, 0)
  console.log(`CPU profile of the keystrokes (${Math.round(keystrokeMs)} ms of keystrokes, ${Math.round(total)} ms sampled incl. idle), self time:`)
  for (const [k, ms] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${ms.toFixed(1).padStart(8)} ms  ${k}`)
}

/**
 * Main-thread time of a Chrome trace by event name (complete events of the page's renderer main thread; nested events
 * count in their parent too, so the lines overlap: RunTask is the whole, the others its parts), then the slowest
 * keystrokes' time by kind (script, style, layout, paint, GC, history.replaceState).
 */
function printTrace(trace, times, texts) {
  const events = trace.traceEvents ?? trace
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
  const on = events.filter((e) => main && e.pid === main.pid && e.tid === main.tid)
  const by = new Map()
  for (const e of on) if (e.ph === 'X' && e.dur) by.set(e.name, (by.get(e.name) ?? 0) + e.dur / 1000)
  console.log(`trace of the keystrokes (${Math.round(times.reduce((a, b) => a + b, 0))} ms of keystrokes), main thread by event (nested events overlap):`)
  for (const [k, ms] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 16)) console.log(`  ${ms.toFixed(1).padStart(8)} ms  ${k}`)
  const marks = on.filter((e) => e.name === 'TimeStamp' && e.args?.data?.message === 'labbook-keystroke').map((e) => e.ts).sort((a, b) => a - b)
  if (marks.length !== times.length) return
  const kinds = { script: ['v8.callFunction'], style: ['UpdateLayoutTree'], layout: ['Layout'], paint: ['Paint', 'PrePaint', 'Layerize', 'Commit'], gc: ['MinorGC', 'MajorGC', 'V8.GCScavenger', 'V8.GCFinalizeMC', 'V8.GC_MC_BACKGROUND_EVACUATE_COPY'], replaceState: ['FrameLoader::updateForSameDocumentNavigation'] }
  const slow = times.map((ms, k) => ({ k, ms })).sort((a, b) => b.ms - a.ms).slice(0, 5)
  for (const { k, ms } of slow) {
    const from = marks[k], to = marks[k] + ms * 1000
    const sum = {}
    for (const [kind, names] of Object.entries(kinds)) sum[kind] = Math.round(on.filter((e) => e.ph === 'X' && names.includes(e.name) && e.ts >= from && e.ts < to).reduce((a, e) => a + e.dur, 0) / 100) / 10
    console.log(`  #${k + 1} ${JSON.stringify(texts[k])} ${Math.round(ms)} ms: ${Object.entries(sum).map(([a, b]) => `${a} ${b}`).join(', ')}`)
  }
}
