// Core benchmarks (issue: the store and the logging API). Prints one line per figure with its target.
// Usage: npx tsx bench/core.ts [--quick]
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { Labbook } from '../src/index.js'
import { generateRuns } from './generate.js'

const quick = process.argv.includes('--quick')
const results: Array<[string, string, string]> = []
const report = (what: string, value: string, target: string) => {
  results.push([what, value, target])
  console.log(`${what.padEnd(58)} ${value.padStart(16)}   target ${target}`)
}

function tempRepo(): string {
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'labbook-bench-'))
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir })
  fs.writeFileSync(join(dir, 'train.py'), 'print(1)\n')
  execFileSync('git', ['add', '.'], { cwd: dir })
  execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@x', 'commit', '-qm', 'init'], { cwd: dir })
  execFileSync('git', ['config', 'gc.auto', '0'], { cwd: dir })
  return dir
}

function du(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0])
}

async function logMetricThroughput() {
  const dir = tempRepo()
  const book = await Labbook.open({ repo: dir })
  const run = await book.startRun({ name: 'throughput' })
  const n = quick ? 2_000_000 : 5_000_000
  const keys = ['loss', 'acc', 'lr', 'grad_norm']
  // Warm up the JIT on the same code path.
  for (let i = 0; i < 100_000; i++) run.logMetric(keys[i & 3]!, i * 0.001)
  run.flush()
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) run.logMetric(keys[i & 3]!, i * 0.001)
  run.flush() // the journal write (fsync) of the tail is part of the cost
  const ns = Number(process.hrtime.bigint() - t0)
  report('logMetric, amortised, journal writes included', `${(ns / n / 1000).toFixed(3)} µs`, '≤ 1 µs')
  report('points/s sustained in one process (journaled)', `${Math.round(n / (ns / 1e9)).toLocaleString('en')}`, '≥ 1,000,000')
  const t1 = performance.now()
  await run.end()
  report(`commit of a run with ${(n + 100_000).toLocaleString('en')} points at end`, `${Math.round(performance.now() - t1)} ms`, '-')
  fs.rmSync(dir, { recursive: true, force: true })
}

async function createRunCost() {
  const dir = tempRepo()
  const book = await Labbook.open({ repo: dir })
  const exp = await book.experiment('bench')
  const once = async (i: number) => {
    const run = await exp.startRun({ name: `run-${i}` })
    run.logParams({ lr: 0.01, depth: 6, optimizer: 'adam' })
    run.logMetric('accuracy', 0.9)
    run.logMetric('loss', 0.1)
    await run.end()
  }
  for (let i = 0; i < 20; i++) await once(i)
  const n = quick ? 100 : 300
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await once(i)
  const ms = (performance.now() - t0) / n
  report('create + 3 params + 2 metrics + end (2 commits)', `${ms.toFixed(2)} ms`, '≤ 10 ms')
  report('runs/s in one process, sequential', `${Math.round(1000 / ms)}`, '≥ 100')
  fs.rmSync(dir, { recursive: true, force: true })
}

async function commit100k() {
  const dir = tempRepo()
  const book = await Labbook.open({ repo: dir })
  const times: number[] = []
  for (let rep = 0; rep < 3; rep++) {
    const run = await book.startRun({ name: `big-${rep}` })
    for (let i = 0; i < 100_000; i++) run.logMetric(i % 2 ? 'loss' : 'acc', Math.random(), Math.floor(i / 2))
    const t0 = performance.now()
    await run.end()
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  report('commit of a run with 100,000 points (median of 3)', `${Math.round(times[1]!)} ms`, '≤ 300 ms')
  fs.rmSync(dir, { recursive: true, force: true })
}

async function growth() {
  const dir = tempRepo()
  const book = await Labbook.open({ repo: dir })
  const run = await book.startRun({ name: 'million' })
  const total = 1_000_000
  const commits = 100 // "committed every 10 s": 10,000 points per interval
  let jsonl = ''
  for (let c = 0; c < commits; c++) {
    const t = 1_800_000_000_000 + c * 10_000
    for (let i = 0; i < total / commits; i++) {
      const step = c * (total / commits) + i
      const v = Math.exp(-step / 2e5) + Math.random() * 0.01
      run.logMetric('loss', v, { step, timestamp: t + i })
      jsonl += `{"key":"loss","value":${v},"step":${step},"timestamp":${t + i}}\n`
    }
    await run.commit()
  }
  await run.end()
  const gz = gzipSync(jsonl).length
  const written = book.objects.bytesWritten
  execFileSync('git', ['gc', '--quiet', '--prune=now'], { cwd: dir })
  const gitSize = du(join(dir, '.git', 'objects'))
  report('1M points, 100 commits: loose bytes written / gzip(JSONL)', `${(written / gz).toFixed(2)}×`, '≤ 3×')
  report('1M points: .git/objects after gc / gzip(JSONL)', `${(gitSize / gz).toFixed(2)}×`, '≤ 1.5×')
  report('  (gzip of the JSONL, MB)', (gz / 1e6).toFixed(1), '-')
  fs.rmSync(dir, { recursive: true, force: true })
}

async function listing() {
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'labbook-bench-list-'))
  const n = quick ? 2_000 : 10_000
  await generateRuns(dir, n)
  const script = join(dir, '..', `list-${process.pid}.mjs`)
  const dist = new URL('../dist/src/index.js', import.meta.url).pathname
  fs.writeFileSync(script, `import { Labbook } from ${JSON.stringify(dist)}\nconst b = await Labbook.open({ repo: ${JSON.stringify(dir)}, recover: false })\nconst r = await b.listRuns({ includeDeleted: true })\nif (r.length !== ${n}) throw new Error('count ' + r.length)\n`)
  const time = () => {
    const t0 = performance.now()
    const r = spawnSync(process.execPath, [script], { stdio: 'inherit' })
    if (r.status !== 0) throw new Error('list failed')
    return performance.now() - t0
  }
  fs.rmSync(join(dir, '.git', 'labbook', 'index'), { recursive: true, force: true })
  const cold = time()
  const warm = Math.min(time(), time(), time())
  report(`list ${n.toLocaleString('en')} summaries, new process, no index`, `${Math.round(cold)} ms`, '-')
  report(`list ${n.toLocaleString('en')} summaries, new process, index warm`, `${Math.round(warm)} ms`, '≤ 1,000 ms')
  fs.rmSync(dir, { recursive: true, force: true })
  fs.rmSync(script, { force: true })
}

console.log(`labbook core bench — ${os.cpus().length} × ${os.cpus()[0]?.model}, node ${process.version}, ${new Date().toISOString()}`)
if (!fs.existsSync(new URL('../dist/src/index.js', import.meta.url))) {
  console.error('build first: npm run build')
  process.exit(2)
}
await logMetricThroughput()
await createRunCost()
await commit100k()
await growth()
await listing()
