// bench/live-page-cost.ts (issue 15): what one open live run page costs the browser while its run logs fast, per
// thread of Chromium's renderer (main, raster, compositor), and serve's CPU meanwhile. Serve runs in this process on
// a real repo; RUNS runs each log BATCH random points every 50 ms (a log-batch client's pace); PAGES pages, each on
// one run, are measured over SECONDS after they settle. Variants (CSS put into the pages) split the cost:
//   node --import tsx bench/live-page-cost.ts [PAGES=3] [SECONDS=8] [BATCH=500] [variant,variant…]
// variants: base (the page as served), nochart (the charts hidden: no paint of them), crisp (the line drawn without
// anti-aliasing), nolive (no change stream: the page's cost with nothing to refresh).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '')
const PAGES = Number(process.argv[2] ?? 3), SECONDS = Number(process.argv[3] ?? 8), BATCH = Number(process.argv[4] ?? 500)
const VARIANTS = (process.argv[5] ?? 'base,nochart,crisp').split(',')
const { Labbook } = await import(`${root}/src/index.js`)
const { serve } = await import(`${root}/src/server/index.js`)
const { gitRepo } = await import(`${root}/test/helpers/git-repo.js`)
const { testRenderer } = await import(`${root}/test/helpers/renderer.js`)
const { launchChromium } = await import(`${root}/test/site/browser.js`)
const { threadCores, threadCpu } = await import(`${root}/bench/thread-cpu.js`)
const { countDraws, drawsPerPage } = await import(`${root}/bench/page-draws.js`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const CSS: Record<string, string> = {
  base: '',
  nochart: '.run-charts .plot { display: none !important }',
  crisp: '.run-charts path { shape-rendering: crispEdges }',
  nolive: '',
  thin: '.run-charts g[aria-label="line"] path { stroke-width: 1px }',
  bevel: '.run-charts g[aria-label="line"] path { stroke-linejoin: bevel; stroke-linecap: butt }',
  nopaint: 'main { display: none !important }',
  layer: '.run-charts canvas.line-ext { will-change: transform }',
  contain: '[data-live="metrics"], .run-charts figure { contain: content }',
  notable: '[data-live="metrics"] { display: none !important }',
}

/** Pids of every process under this one. */
function descendants(): Set<number> {
  const kids = new Map<number, number[]>()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try { const t = readFileSync(`/proc/${d}/stat`, 'utf8'); const pp = Number(t.slice(t.lastIndexOf(')') + 2).split(' ')[1]); (kids.get(pp) ?? kids.set(pp, []).get(pp)!).push(Number(d)) } catch {}
  }
  const out = new Set<number>(), todo = [process.pid]
  while (todo.length) for (const k of kids.get(todo.pop()!) ?? []) { out.add(k); todo.push(k) }
  return out
}

/** Every thread of every chromium renderer under this process: "pid/tid" → name, CPU ms. */
function threads(): Map<string, { name: string; ms: number }> {
  return threadCpu([...descendants()].filter((d) => {
    try { const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8'); return /chrom/.test(cmd.split('\0')[0] ?? '') && cmd.includes('--type=renderer') } catch { return false }
  }))
}

const repo = gitRepo()
const book = await Labbook.open({ repo: repo.dir })
const srv = await serve({ book, port: 0, site: { renderer: testRenderer(), source: book, snapshot: () => book.snapshot(), title: 'x' } })
const runs = await Promise.all(Array.from({ length: PAGES }, (_, i) => book.startRun({ experiment: 'b', name: `r${i}` })))
let step = 0
const log = setInterval(() => { for (const r of runs) { for (let k = 0; k < BATCH; k++) r.logMetric('loss', Math.random(), { step: step++ }); r.flush() } }, 50)
const browser = await launchChromium()
try {
  for (const v of VARIANTS) {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } })
    if (v === 'nolive') await ctx.route('**/live/events', (r: import('playwright-core').Route) => r.abort())
    const pages = []
    for (const r of runs) {
      const page = await ctx.newPage()
      await page.goto(`${srv.url}/runs/${r.id}/`, { waitUntil: 'domcontentloaded' })
      await page.waitForSelector('.run-charts figure[data-metric="loss"] svg', { timeout: 60_000 }).catch(() => {})
      if (CSS[v]) await page.addStyleTag({ content: CSS[v] })
      pages.push(page)
    }
    await sleep(3000)
    // LIVE_PAGE_PROF=DIR: page 2's main thread (CDP Profiler) saved as DIR/<variant>.cpuprofile (page 1 usually reads the
    // change stream for the others, live-channel.ts; LIVE_PAGE_PROF_PAGE=0 for it)
    const prof = process.env.LIVE_PAGE_PROF ? await ctx.newCDPSession(pages[Math.min(pages.length - 1, Number(process.env.LIVE_PAGE_PROF_PAGE ?? 1))]!) : undefined
    if (prof) { await prof.send('Profiler.enable'); await prof.send('Profiler.setSamplingInterval', { interval: 200 }); await prof.send('Profiler.start') }
    // what the pages did meanwhile: charts drawn anew, lines extended in place (bench/page-draws.ts)
    for (const page of pages) await countDraws(page)
    // LIVE_PAGE_TRACE=FILE: a Chromium trace of the window (every thread of page 1's renderer) saved to FILE
    if (process.env.LIVE_PAGE_TRACE) await browser.startTracing(pages[0], { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'disabled-by-default-v8.gc', 'blink', 'cc', 'gpu', 'toplevel', 'disabled-by-default-skia'] })
    let requests = 0
    ctx.on('request', () => requests++)
    const t0 = threads(), c0 = process.cpuUsage(), w0 = performance.now()
    await sleep(SECONDS * 1000)
    if (process.env.LIVE_PAGE_TRACE) writeFileSync(process.env.LIVE_PAGE_TRACE, await browser.stopTracing())
    const did = await drawsPerPage(pages, SECONDS)
    if (prof) writeFileSync(`${process.env.LIVE_PAGE_PROF}/${v}.cpuprofile`, JSON.stringify((await prof.send('Profiler.stop')).profile))
    const wall = performance.now() - w0, c = process.cpuUsage(c0)
    const now = threads()
    let total = 0
    for (const [k, t] of now) total += t.ms - (t0.get(k)?.ms ?? 0)
    console.log(`${v.padEnd(8)} renderer cores per page ${(total / wall / PAGES).toFixed(3)} (${threadCores(t0, now, wall * PAGES, 5)}); per page a second: ${did.full.toFixed(2)} charts drawn anew, ${did.inPlace.toFixed(2)} lines extended in place, ${(requests / PAGES / (wall / 1000)).toFixed(2)} requests; this process (serve + loggers) ${((c.user + c.system) / 1000 / wall).toFixed(2)} cores; ${Math.round(step / 1000)}k points so far`)
    // LIVE_PAGE_SHOT=PREFIX: page 1's charts as drawn, light and dark (PREFIX-<variant>-light.png, …-dark.png)
    if (process.env.LIVE_PAGE_SHOT) {
      for (const scheme of ['light', 'dark'] as const) {
        await pages[0]!.emulateMedia({ colorScheme: scheme })
        await pages[0]!.locator('.run-charts').screenshot({ path: `${process.env.LIVE_PAGE_SHOT}-${v}-${scheme}.png` })
      }
    }
    await ctx.close()
  }
} finally {
  clearInterval(log)
  await browser.close()
  await srv.close()
  await Promise.all(runs.map((r) => r.end('FINISHED').catch(() => {})))
  await book.close()
  repo.cleanup()
}
