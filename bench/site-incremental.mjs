// Incremental site builds (issue 17): build N runs in full, add 10 runs, build again into the same folder (only the
// new runs' pages and the summary pages are rendered, into the folder, through the compiled pages; the first
// incremental build compiles them), add 10 more and build again (the steady state: compiled pages kept, as in CI
// with the work folder cached), and print the times, their ratio to the full build, the bytes per run
// by kind of file (runs with a rendered page, runs drawn by the run-page shell), the projection to 100,000 runs and
// the experiment page's payload. Runs have 3 metrics x STEPS steps, as in bench/site.mjs.
// Usage: node bench/site-incremental.mjs [--runs 1000] [--steps 1000] [--added 10]
//   (node bench/site-incremental.mjs --runs 10000: the 10 new runs on a 10,000-run site; npm run bench -- site-incremental runs 1,000)
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
const all = fakeRuns({ runs: n + 2 * added, steps, experiments, lazy: true })
// The fake's runs are newest first by index: the `added` newest are the ones pushed later (twice).
const byStart = [...all.runs].sort((a, b) => a.summary.startTime - b.summary.startTime)
const before = byStart.slice(0, n)
const opts = { out: join(dir, 'out'), workDir: join(dir, 'work'), base: '/bench/', title: 'bench', logLevel: 'error' }
try {
  const full = await buildSite({ ...opts, source: new MemorySource(all.experiments, before) })
  const sizes = sizeByKind(full.out)
  const first = await buildSite({ ...opts, source: new MemorySource(all.experiments, byStart.slice(0, n + added)) })
  const inc = await buildSite({ ...opts, source: new MemorySource(all.experiments, byStart) })
  const expDir = join(inc.out, 'experiments')
  // The largest experiment page plus the runs.json its table loads, gzipped; and the same page for one experiment
  // holding all 100,000 runs (runs.json grows by its gzipped bytes per row).
  let exp = { gz: 0, htmlGz: 0, rows: 1, rowsGz: 0 }
  for (const id of readdirSync(expDir)) {
    const htmlGz = gzipSync(readFileSync(join(expDir, id, 'index.html'))).length
    const table = readFileSync(join(inc.out, 'data', 'experiments', id, 'runs.json'))
    const rowsGz = gzipSync(table).length
    if (htmlGz + rowsGz > exp.gz) exp = { gz: htmlGz + rowsGz, htmlGz, rows: JSON.parse(table.toString()).n, rowsGz } // columnar (src/site/browser/table-data.ts)
  }
  const fullRuns = Math.min(1000, 100 * Math.max(1, Math.round(100_000 / 1000))) // fullPageRuns at 100,000 runs in this layout
  const projected = sizes.shared + fullRuns * sizes.full.perRun + (100_000 - fullRuns) * sizes.shell.perRun
  const row = {
    runs: n, added, steps,
    fullS: +(full.timings.totalMs / 1000).toFixed(1), fullCollectS: +(full.timings.collectMs / 1000).toFixed(1), fullAstroS: +(full.timings.astroMs / 1000).toFixed(1),
    firstIncrementalS: +(first.timings.totalMs / 1000).toFixed(1), firstIncRenderS: +(first.timings.astroMs / 1000).toFixed(1), firstIncCompileS: +((first.timings.compileMs ?? 0) / 1000).toFixed(1), firstInPlace: first.inPlace,
    incrementalS: +(inc.timings.totalMs / 1000).toFixed(1), incCollectS: +(inc.timings.collectMs / 1000).toFixed(1), incRenderS: +(inc.timings.astroMs / 1000).toFixed(1), incWriteS: +((inc.timings.totalMs - inc.timings.collectMs - inc.timings.astroMs) / 1000).toFixed(1), inPlace: inc.inPlace,
    reused: inc.reused, ratio: +(inc.timings.totalMs / full.timings.totalMs).toFixed(3),
    pagesRendered: sizes.full.runs, shellRuns: sizes.shell.runs,
    bytesPerRenderedRun: Math.round(sizes.full.perRun), bytesPerShellRun: Math.round(sizes.shell.perRun), shellByKind: sizes.shell.kinds, renderedByKind: sizes.full.kinds,
    sharedMB: +(sizes.shared / 1e6).toFixed(2), totalMB: +(full.bytes / 1e6).toFixed(1),
    projected100kGB: +(projected / 1e9).toFixed(3), experimentPageGzMB: +(exp.gz / 1e6).toFixed(2),
    oneExperiment100kGzMB: +((exp.htmlGz + (exp.rowsGz / exp.rows) * 100_000) / 1e6).toFixed(2),
  }
  console.log(JSON.stringify(row))
  console.log(`\nfull build of ${n} runs: ${row.fullS} s; ${added} runs added, first incremental build: ${row.firstIncrementalS} s (of which compiling the pages once: ${row.firstIncCompileS} s); ${added} more, incremental build: ${row.incrementalS} s (${row.reused} runs reused; collect ${row.incCollectS} s, rendering ${row.incRenderS} s, writing and sizing ${row.incWriteS} s, in place: ${row.inPlace}) = ${(row.ratio * 100).toFixed(1)}% of the full build`)
  const kinds = (k) => Object.entries(k).map(([name, v]) => `${name} ${(v / 1000).toFixed(2)} KB`).join(', ')
  console.log(`per run drawn by the shell: ${(sizes.shell.perRun / 1000).toFixed(2)} KB (${kinds(sizes.shell.kinds)}), ${sizes.shell.runs} runs`)
  console.log(`per run with a rendered page: ${(sizes.full.perRun / 1000).toFixed(2)} KB (${kinds(sizes.full.kinds)}), ${sizes.full.runs} runs; shared ${row.sharedMB} MB`)
  console.log(`100,000 runs x 3 metrics x ${steps} steps (${fullRuns} rendered pages): ${row.projected100kGB} GB projected (target 1 GB)`)
  console.log(`largest experiment page + runs.json: ${row.experimentPageGzMB} MB gzip (${exp.rows} runs); one experiment of 100,000 runs: ${row.oneExperiment100kGzMB} MB projected (target 5 MB)`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}

/** Bytes of the output by kind: per-run files (averaged over runs with a rendered page and runs drawn by the shell) and what the site shares. */
function sizeByKind(out) {
  const groups = { full: { runs: 0, kinds: {} }, shell: { runs: 0, kinds: {} } }
  const byRun = new Map()
  let shared = 0
  for (const e of readdirSync(out, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue
    const rel = relative(out, join(e.parentPath, e.name))
    const size = statSync(join(e.parentPath, e.name)).size
    const m = /^(?:runs\/([^/]+)\/index\.html|data\/runs\/([^/]+)\.json|data\/runs\/([^/]+)\/page\.json|data\/runs\/([^/]+)\/.*|artifacts\/([^/]+)\/.*)$/.exec(rel)
    if (!m) { shared += size; continue }
    const kind = m[1] ? 'page' : m[2] ? 'runJson' : m[3] ? 'pageJson' : m[4] ? 'series' : 'artifacts'
    const id = m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5]
    const r = byRun.get(id) ?? byRun.set(id, { kinds: {}, shell: false }).get(id)
    r.kinds[kind] = (r.kinds[kind] ?? 0) + size
    if (kind === 'page' && readFileSync(join(e.parentPath, e.name), 'utf8').includes('id="run-page"')) r.shell = true
  }
  for (const r of byRun.values()) {
    const g = groups[r.shell ? 'shell' : 'full']
    g.runs++
    for (const [k, v] of Object.entries(r.kinds)) g.kinds[k] = (g.kinds[k] ?? 0) + v
  }
  for (const g of Object.values(groups)) {
    for (const k of Object.keys(g.kinds)) g.kinds[k] = Math.round(g.kinds[k] / Math.max(1, g.runs))
    g.perRun = Object.values(g.kinds).reduce((a, b) => a + b, 0)
  }
  return { ...groups, shared }
}
