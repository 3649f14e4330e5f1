// Flat cost to 100,000 runs (issue 17). Grows ONE repository through the store to 10,000 and then 100,000 runs, all
// on one code commit, and at 0 / 10k / 100k times what MLflow's client does per run (create + 3 params + 2 metrics +
// a tag + end) through the API; at 10k and 100k it clones the repository fresh (no private index) and times
// `labbook ls --filter … --limit 50` cold and warm, with its peak RSS. MLflow's figures are from our recorded
// measurements (docs/benchmarks.md), printed beside ours.
// "Per run" (the figure set beside MLflow's) is THROUGHPUT: a sustained loop of PER_LEVEL runs, one after the other as
// MLflow's client does them, wall time including the background group commits that put them on the branch (the final
// book.flush() is inside the timing), divided by the runs. Printed beside it: the latency the caller waits for one
// run (ends at its journal fdatasync), and this process's CPU per run. The same run measures the previous way (a book
// opened with groupCommit: false: a commit per start and end) as the reference.
// --repo DIR keeps the grown repository at DIR (created and grown if missing or smaller; kept at the end), so a quiet
// re-run measures without growing again; a level below the runs DIR already holds is skipped (grow one DIR per level).
// The 0-run figure is always measured on a fresh repository of its own, in the same process, before the levels.
// --no-ls skips the listing half (the write path alone).
// Usage: nice -n 10 npx tsx bench/scale.ts [--max 100000] [--runs 100] [--repo DIR] [--no-ls]   (build dist/ first: npx tsc -p tsconfig.json)
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { Labbook } from '../src/index.js'
import type { ExperimentHandle } from '../src/track/experiment.js'
import { encodePoint } from '../src/format/jsonl.js'
import { encodeRun } from '../src/format/yaml.js'
import { newRunId } from '../src/model/ids.js'
import { chunkName, METRICS_DIR, RUN_FILE, runDir } from '../src/model/layout.js'
import { addToSummary } from '../src/model/metric.js'
import type { RunSummary } from '../src/model/run.js'
import type { TreeChange } from '../src/store/tree-edit.js'
import { coldList, reportColdList } from './ls-clone.js'

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : d
}
const MAX = arg('max', 100_000)
const PER_LEVEL = arg('runs', 100)
const repoIdx = process.argv.indexOf('--repo')
const KEEP = repoIdx > 0 ? process.argv[repoIdx + 1] : undefined
const MLFLOW_RUN_MS = 7.4 // create + params + metrics + end, MLflow 2.12.2 file store, recorded on this kind of machine

const report = (what: string, value: string, target: string) => console.log(`${what.padEnd(64)} ${value.padStart(14)}   target ${target}`)

/** A fresh repository with one code commit (train.py) at `at` (a new temporary directory if undefined). */
function codeRepo(at?: string): string {
  const d = at ?? fs.mkdtempSync(join(os.tmpdir(), 'labbook-scale-'))
  fs.mkdirSync(d, { recursive: true })
  const g = (...a: string[]) => execFileSync('git', a, { cwd: d, encoding: 'utf8' })
  g('init', '-q', '-b', 'main')
  fs.writeFileSync(join(d, 'train.py'), 'print(1)\n')
  g('add', '.')
  g('-c', 'user.name=bench', '-c', 'user.email=b@x', 'commit', '-qm', 'code')
  g('config', 'gc.auto', '0')
  return d
}
const dir = KEEP && fs.existsSync(join(KEEP, '.git')) ? KEEP : codeRepo(KEEP)
const head = execFileSync('git', ['rev-parse', 'main'], { cwd: dir, encoding: 'utf8' }).trim()
const book = await Labbook.open({ repo: dir })
const exp = await book.experiment('sweep')

/** Adds runs through the store (one commit per 1,000), on the same code commit, 3 metrics × 3 points each. */
async function grow(to: number): Promise<number> {
  const t0 = performance.now()
  let have = (await book.listRuns({ includeDeleted: true })).length
  if (have >= to) return 0
  while (have < to) {
    const n = Math.min(1000, to - have)
    const changes: TreeChange[] = []
    const runs: RunSummary[] = []
    for (let i = 0; i < n; i++) {
      const start = 1_600_000_000_000 + (have + i) * 1000
      const run: RunSummary = {
        id: newRunId(start), name: `gen-${have + i}`, experiment: exp.id, status: 'FINISHED', lifecycle: 'active', startTime: start, endTime: start + 500,
        user: 'bench', host: 'bench', source: { commit: head, branch: 'main', dirty: false },
        params: { lr: (i % 10) / 100, depth: i % 7, optimizer: i % 2 ? 'adam' : 'sgd' }, tags: { sweep: 'a' }, metrics: {},
      }
      let chunk = ''
      for (const key of ['accuracy', 'loss', 'val_loss']) {
        for (let s = 0; s < 3; s++) {
          const v = ((i * 7919 + s) % 1000) / 1000
          run.metrics[key] = addToSummary(run.metrics[key], v, s, start + s)
          chunk += encodePoint(key, v, s, start + s)
        }
      }
      changes.push({ path: `${runDir(run.id)}/${RUN_FILE}`, blob: book.objects.writeBlob(encodeRun(run)) })
      changes.push({ path: `${runDir(run.id)}/${METRICS_DIR}/${chunkName(0)}`, blob: book.objects.writeBlob(chunk) })
      runs.push(run)
    }
    await book.store.update(async () => ({ changes, subject: `generated runs ${have}..${have + n}`, runs, result: undefined }))
    have += n
  }
  book.gc() // pack, as a long-lived repository would be
  // ... and in the state C git's gc leaves it: one pack. Without this the 1,000-run packs grown above (listed as
  // labbook's own) would all be merged by the first roll-up during the measured runs, a state labbook's own writes
  // never leave behind (their packs roll up geometrically as they go, each roll-up capped: src/store/pack-write.ts).
  execFileSync('git', ['repack', '-a', '-d', '-q'], { cwd: dir })
  return (performance.now() - t0) / 1000
}

/**
 * create + 3 params + 2 metrics + tag + end, sequentially, as MLflow's client does it. `median`: the latency of one
 * such sequence (what the caller waits for: journal writes and the end's fdatasync); `perRun`: wall time of all of
 * them including the group commits that put them on the branch (`book.flush()` at the end), divided by the runs:
 * the figure to set beside MLflow's. `book` defaults to the bench's book (group commit on); `previous` is a book
 * opened with `groupCommit: false`, the way before it (every start and end committed before it returns).
 */
async function apiCost(b: Labbook = book, e: ExperimentHandle = exp): Promise<{ median: number; mean: number; perRun: number; cpu: number }> {
  await apiBlock(b, e, 10) // the first 10 warm up the JIT
  const m = await apiBlock(b, e, PER_LEVEL)
  const times = m.times.sort((x, y) => x - y)
  return { median: times[times.length >> 1]!, mean: times.reduce((x, y) => x + y, 0) / times.length, perRun: m.wall / PER_LEVEL, cpu: m.cpu / PER_LEVEL }
}

let apiRuns = 0
/** `n` runs on `e` one after the other, then `b.flush()`: each one's latency, the wall time and this process's CPU (ms). */
async function apiBlock(b: Labbook, e: ExperimentHandle, n: number): Promise<{ times: number[]; wall: number; cpu: number }> {
  const times: number[] = []
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const t1 = performance.now()
    const run = await e.startRun({ name: `api-${apiRuns++}` })
    run.logParams({ lr: 0.01, depth: 6, optimizer: 'adam' })
    run.logMetric('accuracy', 0.9)
    run.logMetric('loss', 0.1)
    run.setTag('stage', 'bench')
    await run.end()
    times.push(performance.now() - t1)
  }
  await b.flush()
  const c = process.cpuUsage(c0)
  return { times, wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 }
}

/**
 * The growth ratio on a noisy machine: blocks of runs on the grown book and on a small one (`zero`, the 0-run
 * repository, a few hundred runs), alternating ROUNDS times in this process, so a change of load hits both alike.
 * Returns grown / small for wall time and CPU per run, summed over the blocks.
 */
async function interleaved(zero: { book: Labbook; exp: ExperimentHandle }): Promise<{ wall: number; cpu: number; zeroCpu: number; grownCpu: number }> {
  const ROUNDS = 5
  const per = Math.max(10, Math.round(PER_LEVEL / ROUNDS))
  const sum = { zw: 0, zc: 0, gw: 0, gc: 0 }
  await apiBlock(book, exp, 10)
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? ['grown', 'zero'] : ['zero', 'grown']
    for (const which of order) {
      const m = which === 'zero' ? await apiBlock(zero.book, zero.exp, per) : await apiBlock(book, exp, per)
      if (which === 'zero') { sum.zw += m.wall; sum.zc += m.cpu } else { sum.gw += m.wall; sum.gc += m.cpu }
    }
  }
  const n = per * ROUNDS
  return { wall: sum.gw / sum.zw, cpu: sum.gc / sum.zc, zeroCpu: sum.zc / n, grownCpu: sum.gc / n }
}

console.log(`labbook scale bench: one repository, all runs on code commit ${head.slice(0, 8)}; ${PER_LEVEL} API runs per level; MLflow's figures are recorded ones`)
// the previous way, measured in the same run on a repository of its own: every start and end committed before it returns
const prevDir = fs.mkdtempSync(join(os.tmpdir(), 'labbook-scale-prev-'))
execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: prevDir })
execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=b@x', 'commit', '-q', '--allow-empty', '-m', 'code'], { cwd: prevDir })
const prevBook = await Labbook.open({ repo: prevDir, groupCommit: false })
const prev = await apiCost(prevBook, await prevBook.experiment('sweep'))
await prevBook.close()
fs.rmSync(prevDir, { recursive: true, force: true })
// the 0-run figure: a fresh repository of its own, this process, before any level
const zeroDir = codeRepo()
const zeroBook = await Labbook.open({ repo: zeroDir })
const zero = { book: zeroBook, exp: await zeroBook.experiment('sweep') }
const base = await apiCost(zero.book, zero.exp)
report('create+3 params+2 metrics+tag+end at 0 runs, per run incl. its commit', `${base.perRun.toFixed(2)} ms`, `≤ ${MLFLOW_RUN_MS / 2} ms (MLflow file store ${MLFLOW_RUN_MS} ms: ${(MLFLOW_RUN_MS / base.perRun).toFixed(2)}× faster)`)
report('  latency the caller waits (median / mean)', `${base.median.toFixed(2)} / ${base.mean.toFixed(2)} ms`, '-')
report('  CPU of this process per run (user + system, commit included)', `${base.cpu.toFixed(2)} ms`, `(previous way ${prev.cpu.toFixed(2)} ms)`)
report('  the previous way (a commit per start and end), same run', `${prev.perRun.toFixed(2)} ms`, `(group commit ${(prev.perRun / base.perRun).toFixed(2)}× faster)`)
for (const level of [10_000, 100_000].filter((l) => l <= MAX)) {
  const had = (await book.listRuns({ includeDeleted: true })).length
  if (had > level * 1.05) {
    report(`  ${level.toLocaleString('en')} runs: skipped, ${dir} holds ${had.toLocaleString('en')} already`, '-', '-')
    continue
  }
  const secs = await grow(level)
  report(`  grew to ${level.toLocaleString('en')} runs through the store`, secs ? `${secs.toFixed(1)} s` : `kept (${had.toLocaleString('en')})`, '-')
  const c = await apiCost()
  report(`same at ${level.toLocaleString('en')} runs on one commit, per run incl. commit`, `${c.perRun.toFixed(2)} ms`, '-')
  report(`  ratio to 0 runs (per run / median latency / CPU per run)`, `${(c.perRun / base.perRun).toFixed(2)}× / ${(c.median / base.median).toFixed(2)}× / ${(c.cpu / base.cpu).toFixed(2)}×`, '≤ 1.3×')
  const il = await interleaved(zero)
  report(`  interleaved with the 0-run repository (5 rounds): per run / CPU`, `${il.wall.toFixed(2)}× / ${il.cpu.toFixed(2)}×`, `≤ 1.3× (CPU ${il.grownCpu.toFixed(2)} vs ${il.zeroCpu.toFixed(2)} ms)`)
  // the listing half (h17l): bench/ls-clone.ts, cold / warm / the previous way in the same clone
  if (!process.argv.includes('--no-ls')) reportColdList(report, level, coldList(dir, ['--filter', 'metrics.accuracy > 0.5 and params.optimizer = "adam"', '--order-by', 'metrics.accuracy DESC', '--limit', '50']))
  const note = execFileSync('git', ['log', '-1', '--notes=labbook', '--format=%N', 'main'], { cwd: dir, encoding: 'utf8' }).trim().split('\n')
  report(`  git log --notes=labbook lines under that commit`, `${note.length}`, '≤ 20')
}
await book.close()
await zeroBook.close()
fs.rmSync(zeroDir, { recursive: true, force: true })
if (KEEP) console.log(`kept the grown repository at ${dir} (re-run with --repo ${dir})`)
else fs.rmSync(dir, { recursive: true, force: true })
