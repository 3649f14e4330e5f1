// Issue 15's live channel, measured in one run (node --import tsx bench/live.ts [--loggers 20] [--listeners 20] [--seconds 10]):
// 1. idle CPU of a real `labbook serve` process (--site-refresh 0) over N seconds, nobody watching, nothing logging;
//    reference: the same process's CPU with one page listening on /live/events.
// 2. latency from run.logMetric() in L logger processes to the point being readable by P listeners (SSE `change`
//    event, then /live/data/runs/<id>.json shows the point's step): p50/p95 over all points.
// 3. logging throughput of L loggers with P listeners vs with none (same run, same machine).
// Not measured here: time to the point drawn in Chromium (the browser test checks it stays within seconds).
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { gitRepo } from '../test/helpers/git-repo.js'

const arg = (k: string, d: number) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? Number(process.argv[i + 1]) : d }
const LOGGERS = arg('loggers', 20), LISTENERS = arg('listeners', 20), SECONDS = arg('seconds', 10)
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CLI = `${ROOT}cli/main.ts`
const CHILD = `${ROOT}test/helpers/child.ts`

const cpuMs = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10 }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function startServe(repo: string): Promise<{ p: ChildProcess; url: string }> {
  const p = spawn(process.execPath, ['--import', 'tsx', CLI, '--repo', repo, 'serve', '--port', '0', '--site-refresh', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  return new Promise((resolve, reject) => {
    p.stderr!.on('data', (d) => { err += d; const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(err); if (m) resolve({ p, url: m[1]! }) })
    p.on('exit', () => reject(new Error(err)))
  })
}

/** An EventSource stand-in: calls onChange for every `change` event. */
function listen(url: string, onChange: () => void): () => void {
  const req = http.get(`${url}/live/events`, (res) => { res.setEncoding('utf8'); res.on('data', (d: string) => { if (d.includes('event: change')) onChange() }) })
  req.on('error', () => {})
  return () => req.destroy()
}

const getJson = (url: string) => new Promise<any>((resolve, reject) => http.get(url, (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => { try { resolve(JSON.parse(b)) } catch (e) { reject(e) } }) }).on('error', reject))

async function loggers(repo: string, n: number, points: number, every: number): Promise<{ procs: ChildProcess[]; ids: Promise<string[]>; logged: Map<string, Map<number, number>>; done: Promise<number> }> {
  const logged = new Map<string, Map<number, number>>()
  const procs: ChildProcess[] = []
  const ids: Promise<string>[] = []
  const t0 = Date.now()
  const exits: Promise<void>[] = []
  for (let i = 0; i < n; i++) {
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, 'log-points', repo, String(points), String(every), 'bench'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
    procs.push(p)
    let out = '', id = ''
    ids.push(new Promise((resolve) => p.stdout!.on('data', (d) => {
      out += d
      const lines = out.split('\n'); out = lines.pop()!
      for (const l of lines) {
        if (!id) { id = l; logged.set(id, new Map()); resolve(id); continue }
        const m = /^step (\d+)/.exec(l)
        if (m) logged.get(id)!.set(Number(m[1]), Date.now())
      }
    })))
    exits.push(new Promise((r) => p.on('exit', () => r())))
  }
  return { procs, ids: Promise.all(ids), logged, done: Promise.all(exits).then(() => Date.now() - t0) }
}

const pct = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN }

const repo = gitRepo()
try {
  const { p, url } = await startServe(repo.dir)
  await sleep(3000) // start-up settles
  let c0 = cpuMs(p.pid!)
  await sleep(SECONDS * 1000)
  const idle = (cpuMs(p.pid!) - c0) / (SECONDS * 10)
  const stop = listen(url, () => {})
  await sleep(1000)
  c0 = cpuMs(p.pid!)
  await sleep(SECONDS * 1000)
  const watched = (cpuMs(p.pid!) - c0) / (SECONDS * 10)
  stop()
  console.log(`idle serve CPU: ${idle.toFixed(2)}% over ${SECONDS} s (one page listening, nothing logging: ${watched.toFixed(2)}%)`)

  // throughput without listeners
  const POINTS = 100, EVERY = 20
  const base = await loggers(repo.dir, LOGGERS, POINTS, EVERY)
  const baseMs = await base.done
  // with listeners: each, on every change, reads each run's live summary and records when a step first shows
  const seen = new Map<string, Map<number, number>>()
  const run = await loggers(repo.dir, LOGGERS, POINTS, EVERY)
  const ids = await run.ids
  const stops: Array<() => void> = []
  let busy = false
  for (let i = 0; i < LISTENERS; i++) {
    stops.push(listen(url, () => {
      if (i !== 0 || busy) return // one reader measures; the others only hold streams and receive events
      busy = true
      void Promise.all(ids.map(async (id) => {
        const r = await getJson(`${url}/live/data/runs/${id}.json`)
        const step = r.metrics?.loss?.step
        if (typeof step !== 'number') return
        const m = seen.get(id) ?? seen.set(id, new Map()).get(id)!
        for (let s = 0; s <= step; s++) if (!m.has(s)) m.set(s, Date.now())
      })).finally(() => { busy = false })
    }))
  }
  const liveMs = await run.done
  await sleep(1500)
  stops.forEach((s) => s())
  const lat: number[] = []
  for (const [id, steps] of run.logged) for (const [s, t] of steps) { const v = seen.get(id)?.get(s); if (v !== undefined) lat.push(v - t) }
  console.log(`latency logMetric → readable by a listening page: p50 ${pct(lat, 0.5)} ms, p95 ${pct(lat, 0.95)} ms (${lat.length} of ${LOGGERS * POINTS} points observed; ${LOGGERS} loggers, ${LISTENERS} listeners)`)
  console.log(`logging wall time: ${LOGGERS} loggers × ${POINTS} points: ${baseMs} ms with no listener, ${liveMs} ms with ${LISTENERS} (ratio ${(liveMs / baseMs).toFixed(2)})`)
  p.kill('SIGINT')
  await new Promise((r) => p.once('exit', r))
} finally {
  repo.cleanup()
}
