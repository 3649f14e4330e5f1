// Incremental site builds (issue 17): build N runs in full, add 10 runs, build again into the same folder (only the
// new runs are rendered; the others are reused by their key), and print both times, their ratio, the bytes per run
// by kind of file and the projection to 100,000 runs. Runs have 3 metrics x STEPS steps, as in bench/site.mjs.
// Usage: node bench/site-incremental.mjs [--runs 1000] [--steps 1000] [--added 10]
//   (node bench/site-incremental.mjs --runs 10000: the issue's 10 new runs on a 10,000-run site; npm run bench -- site-incremental runs 1,000)
import { register } from 'tsx/esm/api'
import { gzipSync } from 'node:zlib'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'

register()
const { values } = parseArgs({ options: { runs: { type: 'string', default: '1000' }, steps: { type: 'string', default: '1000' }, added: { type: 'string', default: '10' } } })
const { buildSite } = await import('../src/site/build/index.ts')
const { MemorySource } = await import('../src/site/build/memory-source.ts')
const { fakeRuns } = await import('../test/helpers/site-fixtures.ts')

const n = Number(values.runs), steps = Number(values.steps), added = Number(values.added)
const experiments = Math.max(1, Math.round(n / 1000))
const dir = mkdtempSync(join(tmpdir(), 'labbook-site-inc-'))
const all = fakeRuns({ runs: n + added, steps, experiments })
// The fake's runs are newest first by index: the `added` newest are the ones pushed later.
const byStart = [...all.runs].sort((a, b) => a.summary.startTime - b.summary.startTime)
const before = byStart.slice(0, n)
const opts = { out: join(dir, 'out'), workDir: join(dir, 'work'), base: '/bench/', title: 'bench', logLevel: 'error' }
try {
  const full = await buildSite({ ...opts, source: new MemorySource(all.experiments, before) })
  const sizes = sizeByKind(full.out, n)
  const inc = await buildSite({ ...opts, source: new MemorySource(all.experiments, byStart) })
  const expDir = join(inc.out, 'experiments')
  let expGz = 0
  for (const id of readdirSync(expDir)) expGz = Math.max(expGz, gzipSync(readFileSync(join(expDir, id, 'index.html'))).length + gzipSync(readFileSync(join(inc.out, 'data', 'experiments', id, 'runs.json'))).length)
  const perRun = sizes.perRun
  const row = {
    runs: n, added, steps,
    fullS: +(full.timings.totalMs / 1000).toFixed(1), fullCollectS: +(full.timings.collectMs / 1000).toFixed(1), fullAstroS: +(full.timings.astroMs / 1000).toFixed(1),
    incrementalS: +(inc.timings.totalMs / 1000).toFixed(1), incCollectS: +(inc.timings.collectMs / 1000).toFixed(1), incAstroS: +(inc.timings.astroMs / 1000).toFixed(1),
    reused: inc.reused, ratio: +(inc.timings.totalMs / full.timings.totalMs).toFixed(3),
    bytesPerRun: Math.round(perRun), byKind: sizes.kinds, sharedMB: +(sizes.shared / 1e6).toFixed(2), totalMB: +(full.bytes / 1e6).toFixed(1),
    projected100kGB: +((perRun * 100_000 + sizes.shared) / 1e9).toFixed(2), experimentPageGzMB: +(expGz / 1e6).toFixed(2),
  }
  console.log(JSON.stringify(row))
  console.log(`\nfull build of ${n} runs: ${row.fullS} s; ${added} runs added, incremental build: ${row.incrementalS} s (${row.reused} runs reused) = ${(row.ratio * 100).toFixed(1)}% of the full build`)
  console.log(`per run: ${(perRun / 1000).toFixed(1)} KB (${Object.entries(sizes.kinds).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} KB`).join(', ')}); shared ${row.sharedMB} MB`)
  console.log(`100,000 runs x 3 metrics x ${steps} steps: ${row.projected100kGB} GB projected (GitHub Pages limit 1 GB)`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}

/** Bytes of the output by kind: per-run files (averaged over the runs) and what the site shares. */
function sizeByKind(out, runs) {
  const kinds = { page: 0, summary: 0, series: 0, artifacts: 0 }
  let shared = 0
  for (const e of readdirSync(out, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue
    const rel = relative(out, join(e.parentPath, e.name))
    const size = statSync(join(e.parentPath, e.name)).size
    if (/^runs\/[^/]+\/index\.html$/.test(rel)) kinds.page += size
    else if (/^data\/runs\/[^/]+\.json$/.test(rel)) kinds.summary += size
    else if (/^data\/runs\//.test(rel)) kinds.series += size
    else if (/^artifacts\//.test(rel)) kinds.artifacts += size
    else shared += size
  }
  for (const k of Object.keys(kinds)) kinds[k] = Math.round(kinds[k] / runs)
  return { kinds, shared, perRun: Object.values(kinds).reduce((a, b) => a + b, 0) }
}
