// The experiment table at scale without building thousands of run pages: builds a small site (2 experiments), then
// gives experiment 1 a runs.json of N fake runs and experiment 2 one of REF runs (the same-run reference), and times
// filter keystrokes in Chromium on both pages (bench/site-keystrokes.mjs). Also prints runs.json's gzip size at N.
// The table reads only runs.json, so this measures what a site of N runs in one experiment does per keystroke; the
// page's server-rendered no-JS rows are the newest 100 either way. (bench/site.mjs --runs N --browser builds it all.)
// Usage: node bench/site-table.mjs [--runs 10000] [--reference 1000] [--shots DIR] [--site DIR] (DIR: screenshots of the
// N-run page, light and dark, 1440x900 and 390x844; --site: use a site already built with base /bench/, e.g. the
// output `bench/site.mjs --keep` left, instead of building a small one: its experiments 1 and 2 get the tables for the
// run, and their own runs.json files are put back afterwards)
import { register } from 'tsx/esm/api'
import { gzipSync } from 'node:zlib'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

register()
const { values } = parseArgs({ options: { runs: { type: 'string', default: '10000' }, reference: { type: 'string', default: '1000' }, shots: { type: 'string' }, site: { type: 'string' } } })
const { buildSite } = await import('../src/site/build/index.ts')
const { MemorySource } = await import('../src/site/build/memory-source.ts')
const { tableRun } = await import('../src/site/build/collect.ts')
const { encodeTable } = await import('../src/site/browser/table-data.ts')
const { fakeRuns } = await import('../test/helpers/site-fixtures.ts')
const { keystrokes } = await import('./site-keystrokes.mjs')

const n = Number(values.runs), ref = Number(values.reference)
const dir = mkdtempSync(join(tmpdir(), 'labbook-site-table-'))
const kept = []
try {
  const small = values.site ? undefined : fakeRuns({ runs: 40, steps: 2, experiments: 2, lazy: true })
  const res = values.site ? { out: values.site } : await buildSite({ source: new MemorySource(small.experiments, small.runs), out: join(dir, 'out'), workDir: join(dir, 'work'), base: '/bench/', logLevel: 'error', fullPages: 10 })
  if (values.site) for (const e of ['1', '2']) { const f = join(res.out, 'data', 'experiments', e, 'runs.json'); kept.push([f, readFileSync(f)]) }
  const table = (count, exp) => {
    const { runs } = fakeRuns({ runs: count, steps: 1, experiments: 1, lazy: true })
    return JSON.stringify(encodeTable(runs.map((r) => tableRun({ ...r.summary, experiment: exp })), exp))
  }
  const big = table(n, '1')
  writeFileSync(join(res.out, 'data', 'experiments', '1', 'runs.json'), big)
  writeFileSync(join(res.out, 'data', 'experiments', '2', 'runs.json'), table(ref, '2'))
  console.log(`runs.json of ${n} runs: ${(big.length / 1e6).toFixed(2)} MB raw, ${(gzipSync(big).length / 1e6).toFixed(2)} MB gzip (${(gzipSync(big).length / n).toFixed(1)} B per run)`)
  if (values.shots) await shots(res.out, values.shots)
  const [atN, atRef] = await keystrokes(res.out, '/bench/', ['1', '2'])
  console.log(JSON.stringify({ runs: n, reference: ref, worstMs: atN.worstMs, p95Ms: atN.p95Ms, medianMs: atN.medianMs, sortMs: atN.sortMs, refWorstMs: atRef.worstMs, refP95Ms: atRef.p95Ms, refMedianMs: atRef.medianMs, sort200kMs: atN.refMs }))
  console.log(`\nworst filter keystroke at ${n} runs: ${atN.worstMs} ms (p95 ${atN.p95Ms}, median ${atN.medianMs}); at ${ref} runs in the same run: ${atRef.worstMs} ms (p95 ${atRef.p95Ms}); target 100 ms`)
} finally {
  for (const [f, data] of kept) writeFileSync(f, data)
  rmSync(dir, { recursive: true, force: true })
}

async function shots(out, dir) {
  const { mkdirSync } = await import('node:fs')
  const { previewSite } = await import('../src/site/build/preview.ts')
  const { launchChromium } = await import('../test/site/browser.ts')
  mkdirSync(dir, { recursive: true })
  const srv = await previewSite({ dir: out, base: '/bench/', port: 0 })
  const browser = await launchChromium()
  try {
    for (const [name, o] of [['desktop-light', { viewport: { width: 1440, height: 900 }, colorScheme: 'light' }], ['desktop-dark', { viewport: { width: 1440, height: 900 }, colorScheme: 'dark' }], ['phone-light', { viewport: { width: 390, height: 844 }, isMobile: true, colorScheme: 'light' }], ['phone-dark', { viewport: { width: 390, height: 844 }, isMobile: true, colorScheme: 'dark' }]]) {
      const ctx = await browser.newContext(o)
      const page = await ctx.newPage()
      await page.goto(`${srv.url}experiments/1/`, { waitUntil: 'networkidle' })
      await page.waitForSelector('.runs-island tbody tr')
      await page.screenshot({ path: join(dir, `experiment-${name}.png`), fullPage: name.startsWith('desktop') })
      if (name === 'desktop-light') {
        await page.fill('input.filter', "metrics.acc > 0.8 and params.model = 'cnn'")
        await page.waitForTimeout(300)
        await page.screenshot({ path: join(dir, 'experiment-filtered.png') })
        await page.selectOption('select[aria-label="Group by"]', 'config')
        await page.waitForTimeout(500)
        await page.screenshot({ path: join(dir, 'experiment-grouped.png') })
      }
      await ctx.close()
    }
  } finally {
    await browser.close()
    await srv.close()
  }
}
