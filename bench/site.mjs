// Site build benchmark: build time and output size for N runs (3 metrics x STEPS steps each), plus, for the largest
// experiment, its page + runs.json gzip size and the in-browser filter/sort time per keystroke (chromium).
// Usage: node bench/site.mjs [--runs 100,1000] [--steps 1000] [--source memory|repo] [--experiments N] [--browser]
// [--keep DIR] (default: one experiment per 1,000 runs; --keep leaves each output in DIR/<runs> instead of deleting it)
// Prints the build's wall time and its CPU time (this process: collect and Astro run in it), the output's size as
// `du -sb` counts it and as the build reports it, and the peak RSS.
// `memory` feeds the collector from an in-memory source (measures collect + Astro); `repo` logs the runs into a real
// temp repository first with the library and builds from the branch (adds git reads; slower to set up).
import { register } from 'tsx/esm/api'
import { gzipSync } from 'node:zlib'
import { readFileSync, readdirSync, rmSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { parseArgs } from 'node:util'

register()
const { values } = parseArgs({ options: { runs: { type: 'string', default: '100,1000' }, steps: { type: 'string', default: '1000' }, source: { type: 'string', default: 'memory' }, browser: { type: 'boolean', default: false }, experiments: { type: 'string' }, keep: { type: 'string' } } })
const { buildSite } = await import('../src/site/build/index.ts')
const { MemorySource } = await import('../src/site/build/memory-source.ts')
const { fakeRuns } = await import('../test/helpers/site-fixtures.ts')
const { keystrokes } = await import('./site-keystrokes.mjs')

const steps = Number(values.steps)
const results = []
for (const n of values.runs.split(',').map(Number)) {
  const dir = mkdtempSync(join(tmpdir(), 'labbook-site-bench-'))
  let source, repo, setupMs = 0
  const t0 = performance.now()
  const experiments = values.experiments ? Number(values.experiments) : Math.max(1, Math.round(n / 1000))
  if (values.source === 'repo') {
    const { gitRepo } = await import('../test/helpers/git-repo.ts')
    const { Labbook } = await import('../src/track/labbook.ts')
    repo = gitRepo()
    const fake = fakeRuns({ runs: n, steps, experiments })
    const book = await Labbook.open({ repo: repo.dir })
    const exps = new Map()
    for (const e of fake.experiments) exps.set(e.id, await book.experiment(e.name))
    for (const r of fake.runs) {
      const s = r.summary
      const run = await exps.get(s.experiment).startRun({ name: s.name, params: s.params, tags: s.tags, startTime: s.startTime, source: s.source })
      for (const p of r.history) run.logMetric(p.key, p.value, { step: p.step, timestamp: p.timestamp })
      await run.end(s.status, { endTime: s.endTime })
    }
    await book.close()
  } else {
    const fake = fakeRuns({ runs: n, steps, experiments, lazy: true })
    source = new MemorySource(fake.experiments, fake.runs)
  }
  setupMs = performance.now() - t0
  const rss0 = process.memoryUsage().rss
  let peak = rss0
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 1000)
  const cpu0 = process.cpuUsage()
  const out = values.keep ? join(values.keep, String(n)) : join(dir, 'out')
  const onProgress = (p) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${(p.elapsedMs / 1000).toFixed(0)} s ${p.phase}${p.runs ? ` (${p.runs} runs)` : ''} rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`)
  const res = await buildSite({ source, repo: repo?.dir, out, workDir: join(dir, 'work'), base: '/bench/', logLevel: 'error', onProgress, force: true })
  const cpu = process.cpuUsage(cpu0)
  clearInterval(sampler)
  const rss = Math.max(peak, process.memoryUsage().rss)
  const duBytes = Number(execFileSync('du', ['-sb', res.out], { encoding: 'utf8' }).split('\t')[0])
  // The largest experiment's page weight: its HTML plus the runs.json the table fetches, gzipped.
  const expDir = join(res.out, 'experiments')
  let expGz = 0, expId = ''
  for (const id of readdirSync(expDir)) {
    const gz = gzipSync(readFileSync(join(expDir, id, 'index.html'))).length + gzipSync(readFileSync(join(res.out, 'data', 'experiments', id, 'runs.json'))).length
    if (gz > expGz) { expGz = gz; expId = id }
  }
  let keystrokeMs
  if (values.browser) keystrokeMs = (await keystrokes(res.out, '/bench/', [expId]))[0].worstMs
  const row = { runs: n, steps, source: values.source, setupS: +(setupMs / 1000).toFixed(1), collectS: +(res.timings.collectMs / 1000).toFixed(1), astroS: +(res.timings.astroMs / 1000).toFixed(1), totalS: +(res.timings.totalMs / 1000).toFixed(1), files: res.files, sizeMB: +(res.bytes / 1e6).toFixed(1), experimentPageGzMB: +(expGz / 1e6).toFixed(2), rssMB: Math.round(rss / 1e6), cpuS: +((cpu.user + cpu.system) / 1e6).toFixed(1), duMB: +(duBytes / 1e6).toFixed(1), experimentId: expId, keystrokeMs }
  results.push(row)
  console.log(JSON.stringify(row))
  rmSync(dir, { recursive: true, force: true })
  repo?.cleanup()
}
console.log('\n| runs | source | collect s | astro s | total s | files | size MB | exp. page+data gzip MB | filter keystroke ms |\n|---|---|---|---|---|---|---|---|---|')
for (const r of results) console.log(`| ${r.runs} | ${r.source} | ${r.collectS} | ${r.astroS} | ${r.totalS} | ${r.files} | ${r.sizeMB} | ${r.experimentPageGzMB} | ${r.keystrokeMs ?? ''} |`)
