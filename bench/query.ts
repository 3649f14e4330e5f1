// In-process search over 100,000 generated run summaries (20 params, 10 metrics, 4 tags each).
// Run: node --expose-gc --import tsx bench/query.ts [runs=100000] [repeats=7] [--objects] (or npx tsx bench/query.ts). Prints the median ms per query: parse + compile + filter + sort + limit 50.
import type { RunSummary } from '../src/model/run.js'
import { searchRuns } from '../src/query/index.js'

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const N = Number(args[0] ?? 100_000)
const REPEATS = Number(args[1] ?? 7)
// --objects: search the generator's objects directly instead of JSON-loaded ones (a worse memory layout; for comparison).
const DIRECT = process.argv.includes('--objects')

// Deterministic generator (LCG) so every machine measures the same data.
let seed = 42
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32)
const MODELS = ['resnet18', 'resnet50', 'vit-b', 'bert-base', 'gpt2', 'mlp']
const STATUSES = ['FINISHED', 'FINISHED', 'FINISHED', 'FAILED', 'KILLED', 'RUNNING'] as const

function generate(n: number): RunSummary[] {
  const runs: RunSummary[] = new Array(n)
  const t0 = 1_700_000_000_000
  for (let i = 0; i < n; i++) {
    const params: RunSummary['params'] = { lr: [0.1, 0.01, 0.001, 0.0001][i % 4], model: MODELS[i % MODELS.length], batch_size: 2 ** (4 + (i % 5)) }
    for (let p = 3; p < 20; p++) params[`p${p}`] = `v${Math.floor(rnd() * 10)}`
    const metrics: RunSummary['metrics'] = {}
    for (let k = 0; k < 10; k++) {
      const v = k === 9 && i % 997 === 0 ? NaN : rnd()
      metrics[k === 0 ? 'loss' : k === 1 ? 'acc' : `m${k}`] = { value: v, step: 100, timestamp: t0 + i, min: v, max: v, count: 101 }
    }
    const start = t0 + i * 1000 + Math.floor(rnd() * 500)
    const status = STATUSES[i % STATUSES.length]
    runs[i] = {
      id: i.toString(16).padStart(32, '0'),
      name: `run-${i}`,
      experiment: String(i % 7),
      status,
      lifecycle: i % 50 === 0 ? 'deleted' : 'active',
      startTime: start,
      ...(status === 'RUNNING' ? {} : { endTime: start + 1000 + Math.floor(rnd() * 3_600_000) }),
      user: `user${i % 13}`,
      source: { commit: (i % 101).toString(16).padStart(40, 'a'), branch: i % 3 ? 'main' : 'exp', dirty: i % 4 === 0 },
      params,
      tags: { stage: i % 3 ? 'prod' : 'dev', team: `t${i % 5}`, 'mlflow.user': `user${i % 13}`, note: 'generated' },
      metrics,
    }
  }
  return runs
}

const QUERIES: { filter?: string; orderBy?: string[] }[] = [
  { filter: 'metrics.acc > 0.9', orderBy: ['metrics.acc DESC'] },
  { filter: "params.p3 = 'v7' AND metrics.loss < 0.5" },
  { filter: "(metrics.m2 > 0.5 OR params.lr < 0.01) AND status = 'FINISHED'", orderBy: ['start_time ASC'] },
  { filter: "params.model LIKE 'resnet%' AND NOT tags.stage = 'dev'", orderBy: ['metrics.loss ASC'] },
  { filter: "run_name ILIKE '%42%' AND source.dirty = false", orderBy: ['params.batch_size DESC', 'metrics.m9 DESC'] },
  { filter: "attributes.run_id IN ('00000000000000000000000000000010', '00000000000000000000000000000200') OR metrics.m9 IS NULL" },
  { orderBy: ['metrics.m5 DESC'] },
  { filter: "params.p4 != 'v1' AND params.p5 != 'v2' AND params.p6 != 'v3'", orderBy: ['params.p7 ASC', 'duration DESC'] },
]

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

const g0 = performance.now()
// Through JSON, as summaries arrive from the summary cache (and as JSON.parse lays objects out); NaN travels as "NaN".
const runs: RunSummary[] = DIRECT
  ? generate(N)
  : JSON.parse(JSON.stringify(generate(N), (_k, v) => (typeof v === 'number' && Number.isNaN(v) ? 'NaN' : v)), (_k, v) => (v === 'NaN' ? NaN : v))
const genMs = performance.now() - g0
globalThis.gc?.(); globalThis.gc?.()
const heapMb = process.memoryUsage().heapUsed / 2 ** 20
console.log(`node ${process.version}, ${N.toLocaleString('en')} runs × (20 params, 10 metrics, 4 tags); ${DIRECT ? 'generated' : 'generated and loaded through JSON'} in ${genMs.toFixed(0)} ms; heap ${heapMb.toFixed(0)} MB`)
console.log(`median of ${REPEATS} (after 1 warm-up), limit 50:`)
let worst = 0
for (const q of QUERIES) {
  const times: number[] = []
  let matched = 0
  for (let r = 0; r <= REPEATS; r++) {
    const t = performance.now()
    const out = searchRuns(runs, q.filter, { orderBy: q.orderBy, limit: 50 })
    const dt = performance.now() - t
    if (r > 0) times.push(dt)
    matched = out.length
  }
  const all = q.filter ? searchRuns(runs, q.filter).length : N
  const med = median(times)
  worst = Math.max(worst, med)
  console.log(`${med.toFixed(1).padStart(7)} ms  ${String(all).padStart(6)} match  ${matched} shown  ${q.filter ?? '(no filter)'}${q.orderBy ? `  ORDER BY ${q.orderBy.join(', ')}` : ''}`)
}
console.log(`worst median: ${worst.toFixed(1)} ms (target ≤ 150 ms)`)
