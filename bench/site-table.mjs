// The experiment table at scale without building thousands of run pages: builds a small site (2 experiments), then
// gives experiment 1 a runs.json of N fake runs and experiment 2 one of REF runs (the same-run reference), and times
// filter keystrokes in Chromium on both pages (bench/site-keystrokes.mjs). Also prints runs.json's gzip size at N.
// The table reads only runs.json, so this measures what a site of N runs in one experiment does per keystroke; the
// page's server-rendered no-JS rows are the newest 100 either way. (bench/site.mjs --runs N --browser builds it all.)
// Usage: node bench/site-table.mjs [--runs 10000] [--reference 1000] [--shots DIR] [--site DIR] [--keep DIR]
//   [--ab DIR] [--rounds R] [--profile FILE] [--trace FILE] [--query '?group=config']
// --shots DIR: screenshots of the N-run page, light and dark, 1440x900 and 390x844.
// --site DIR: use a site already built with base /bench/ (the output `bench/site.mjs --keep` left, or `--keep`'s)
//   instead of building a small one: its experiments 1 and 2 get the tables for the run, and their own runs.json files
//   are put back afterwards.
// --keep DIR: build the small site into DIR and leave it there (for --site and --ab later).
// --ab DIR: a second built site (e.g. one built from another commit with --keep): both get the same tables and are
//   measured alternately, R rounds (default 3), A B then B A; prints each side's keystroke figures and the ratio.
// --query Q: appended to the experiment pages' address (e.g. '?group=config': keystrokes into a grouped table).
// --profile FILE: a CPU profile of the N-run page's keystrokes (first site, first round) to FILE, summarised by function.
// --trace FILE: a Chrome trace of the same keystrokes to FILE, main-thread time summarised by event (layout, style, GC…).
import { register } from 'tsx/esm/api'
import { gzipSync } from 'node:zlib'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

register()
const { values } = parseArgs({ options: { runs: { type: 'string', default: '10000' }, reference: { type: 'string', default: '1000' }, shots: { type: 'string' }, site: { type: 'string' }, keep: { type: 'string' }, ab: { type: 'string' }, rounds: { type: 'string' }, profile: { type: 'string' }, trace: { type: 'string' }, query: { type: 'string' } } })
const { buildSite } = await import('../src/site/build/index.ts')
const { MemorySource } = await import('../src/site/build/memory-source.ts')
const { tableRun } = await import('../src/site/build/collect.ts')
const { encodeTable } = await import('../src/site/browser/table-data.ts')
const { fakeRuns } = await import('../test/helpers/site-fixtures.ts')
const { keystrokes, stats } = await import('./site-keystrokes.mjs')

const n = Number(values.runs), ref = Number(values.reference)
const rounds = Number(values.rounds ?? (values.ab ? 3 : 1))
const dir = mkdtempSync(join(tmpdir(), 'labbook-site-table-'))
const kept = []
try {
  const small = values.site ? undefined : fakeRuns({ runs: 40, steps: 2, experiments: 2, lazy: true })
  const out = values.site ? resolve(values.site) : values.keep ? resolve(values.keep) : join(dir, 'out')
  if (!values.site) await buildSite({ source: new MemorySource(small.experiments, small.runs), out, workDir: join(dir, 'work'), base: '/bench/', logLevel: 'error', fullPages: 10 })
  const sites = [out, ...(values.ab ? [resolve(values.ab)] : [])]
  for (const s of sites) if (s !== out || values.site) for (const e of ['1', '2']) { const f = join(s, 'data', 'experiments', e, 'runs.json'); kept.push([f, readFileSync(f)]) }
  const table = (count, exp) => {
    const { runs } = fakeRuns({ runs: count, steps: 1, experiments: 1, lazy: true })
    return JSON.stringify(encodeTable(runs.map((r) => tableRun({ ...r.summary, experiment: exp })), exp))
  }
  const big = table(n, '1'), small2 = table(ref, '2')
  for (const s of sites) {
    writeFileSync(join(s, 'data', 'experiments', '1', 'runs.json'), big)
    writeFileSync(join(s, 'data', 'experiments', '2', 'runs.json'), small2)
  }
  console.log(`runs.json of ${n} runs: ${(big.length / 1e6).toFixed(2)} MB raw, ${(gzipSync(big).length / 1e6).toFixed(2)} MB gzip (${(gzipSync(big).length / n).toFixed(1)} B per run)`)
  if (values.shots) await shots(out, values.shots)
  const all = sites.map(() => ({ n: [], ref: [], sort: [], sortRef: [], refMs: [] }))
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...sites.keys()].reverse() : [...sites.keys()]
    for (const k of order) {
      if (sites.length > 1) console.log(`round ${r + 1}, site ${k ? 'B' : 'A'} (${sites[k]})`)
      const [atN, atRef] = await keystrokes(sites[k], '/bench/', ['1', '2'], { query: values.query, ...(k === 0 && r === 0 && values.profile ? { profile: values.profile } : {}), ...(k === 0 && r === 0 && values.trace ? { trace: values.trace } : {}) })
      all[k].n.push(...atN.times); all[k].ref.push(...atRef.times); all[k].sort.push(atN.sortMs); all[k].sortRef.push(atRef.sortMs); all[k].refMs.push(atN.refMs, atRef.refMs)
    }
  }
  const med = (xs) => stats(xs).medianMs
  const summary = all.map((a) => ({ ...prefix('', stats(a.n)), ...prefix('ref', stats(a.ref)), sortMs: med(a.sort), refSortMs: med(a.sortRef), sort200kMs: med(a.refMs) }))
  for (const [k, s] of summary.entries()) {
    console.log(JSON.stringify({ site: sites.length > 1 ? (k ? 'B' : 'A') : undefined, dir: sites[k], runs: n, reference: ref, rounds, ...s }))
    console.log(`${sites.length > 1 ? `site ${k ? 'B' : 'A'}: ` : ''}filter keystrokes at ${n} runs: median ${s.medianMs} ms, p95 ${s.p95Ms}, worst ${s.worstMs}; at ${ref} runs in the same run: median ${s.refMedianMs}, p95 ${s.refP95Ms}, worst ${s.refWorstMs}; sort click ${s.sortMs} ms (${ref} runs: ${s.refSortMs}); sort 200,000 numbers ${s.sort200kMs} ms; target 100 ms`)
  }
  if (summary.length > 1) {
    const [a, b] = summary
    console.log(`A/B at ${n} runs: median ${a.medianMs} vs ${b.medianMs} ms (A/B ${(a.medianMs / b.medianMs).toFixed(2)}), p95 ${a.p95Ms} vs ${b.p95Ms}, worst ${a.worstMs} vs ${b.worstMs}, sort click ${a.sortMs} vs ${b.sortMs}; at ${ref} runs: median ${a.refMedianMs} vs ${b.refMedianMs}`)
  }
} finally {
  for (const [f, data] of kept) writeFileSync(f, data)
  rmSync(dir, { recursive: true, force: true })
}

function prefix(p, o) {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [p ? p + k[0].toUpperCase() + k.slice(1) : k, v]))
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
      if (name.startsWith('desktop') || name === 'phone-dark') {
        await page.fill('input.filter', "metrics.acc > 0.8 and params.model = 'cnn'")
        await page.waitForTimeout(300)
        await page.screenshot({ path: join(dir, `experiment-filtered-${name}.png`) })
        await page.fill('input.filter', "metrics.acc > 0.8 and params.model = ")
        await page.waitForTimeout(300)
        await page.screenshot({ path: join(dir, `experiment-half-typed-${name}.png`) })
        await page.fill('input.filter', '')
        await page.selectOption('select[aria-label="Group by"]', 'config')
        await page.waitForTimeout(500)
        await page.screenshot({ path: join(dir, `experiment-grouped-${name}.png`) })
      }
      await ctx.close()
    }
  } finally {
    await browser.close()
    await srv.close()
  }
}
