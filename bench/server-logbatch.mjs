// log-batch throughput of `labbook serve`: N concurrent clients on loopback, each logging 10-metric batches to its own run
// (like N training processes), then a check that every point is on the branch.
//   node --import tsx bench/server-logbatch.mjs [--clients 20] [--seconds 10] [--metrics 10] [--rate BATCHES_PER_S]
// Without --rate every client sends its next batch as soon as the last is answered (peak throughput); with it, clients
// pace themselves to that total rate, which measures latency at a given load.
import { execFileSync, spawn } from 'node:child_process'
import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { Labbook } from '../src/index.ts'

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : def
}
const CLIENTS = arg('clients', 20), SECONDS = arg('seconds', 10), METRICS = arg('metrics', 10), RATE = arg('rate', 0)

const dir = mkdtempSync(join(os.tmpdir(), 'labbook-bench-'))
const git = (...a) => execFileSync('git', a, { cwd: dir, encoding: 'utf8' })
git('init', '-q', '-b', 'main')
git('-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '--allow-empty', '-m', 'init')

// SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server process
const server = spawn(process.execPath, [...(process.env.SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', new URL('./server-process.mjs', import.meta.url).pathname, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
let stdout = ''
server.stdout.on('data', (d) => (stdout += d))
while (!stdout.includes('\n')) await once(server.stdout, 'data')
const base = new URL(stdout.trim())
const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS })

function post(path, body) {
  const data = JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, path: `/api/2.0/mlflow/${path}`, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (text += c))
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${path}: ${res.statusCode} ${text}`))))
    })
    req.on('error', reject)
    req.end(data)
  })
}

const { experiment_id } = await post('experiments/create', { name: 'bench' })
const runs = []
for (let c = 0; c < CLIENTS; c++) runs.push((await post('runs/create', { experiment_id, run_name: `client-${c}`, start_time: Date.now() })).run.info.run_id)

const latencies = []
const steps = new Array(CLIENTS).fill(0)
const deadline = Date.now() + SECONDS * 1000
const t0 = performance.now()
const interval = RATE ? (1000 * CLIENTS) / RATE : 0
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
await Promise.all(runs.map(async (run_id, c) => {
  let next = performance.now() + (interval * c) / CLIENTS
  while (Date.now() < deadline) {
    if (interval) {
      const wait = next - performance.now()
      if (wait > 0) await sleep(wait)
      next += interval
    }
    const step = steps[c]
    const ts = Date.now()
    const metrics = []
    for (let k = 0; k < METRICS; k++) metrics.push({ key: `m${k}`, value: Math.sin(step + k), timestamp: ts, step })
    const s = performance.now()
    await post('runs/log-batch', { run_id, metrics })
    latencies.push(performance.now() - s)
    steps[c]++
  }
}))
const elapsed = (performance.now() - t0) / 1000
for (const run_id of runs) await post('runs/update', { run_id, status: 'FINISHED', end_time: Date.now() })
agent.destroy()
server.kill('SIGTERM')
while (!stdout.includes('closed')) await once(server.stdout, 'data')

latencies.sort((a, b) => a - b)
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]
const batches = latencies.length

// every point on the branch?
const book = await Labbook.open({ repo: dir })
let onBranch = 0, expected = 0, missing = 0
for (let c = 0; c < CLIENTS; c++) {
  const h = await book.metricHistories(runs[c])
  for (let k = 0; k < METRICS; k++) {
    const pts = h[`m${k}`] ?? []
    onBranch += pts.length
    expected += steps[c]
    const seen = new Set(pts.map((p) => p.step))
    for (let s = 0; s < steps[c]; s++) if (!seen.has(s)) missing++
  }
}
const summary = await book.getRun(runs[0])
await book.close()
const commits = Number(git('rev-list', '--count', 'labbook').trim())
rmSync(dir, { recursive: true, force: true })

const result = {
  clients: CLIENTS, offeredRate: RATE || 'max', seconds: +elapsed.toFixed(2), metricsPerBatch: METRICS, batches,
  batchesPerSecond: Math.round(batches / elapsed), pointsPerSecond: Math.round((batches * METRICS) / elapsed),
  latencyMs: { p50: +pct(50).toFixed(2), p90: +pct(90).toFixed(2), p99: +pct(99).toFixed(2), max: +latencies[latencies.length - 1].toFixed(2) },
  serverEventLoopDelayMs: JSON.parse(/loop (\{.*\})/.exec(stdout)?.[1] ?? 'null'),
  pointsExpected: expected, pointsOnBranch: onBranch, missing, status: summary.status, branchCommits: commits,
}
console.log(JSON.stringify(result, null, 2))
if (missing || onBranch !== expected) process.exit(1)
