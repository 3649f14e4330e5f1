// Issue 15, measured in one run against a real `labbook serve` process and headless Chromium:
//   node --import tsx bench/live.ts [--loggers 20] [--pages 20] [--seconds 15] [--points 1000000]
// 1. idle CPU of the serve process over 10 s, nobody watching, nothing logging; reference: one page open (SSE).
// 2. first render of a run page with a --points metric (downsampled as the static site does): cold (a fresh serve, no
//    series cache: the chunks are parsed) and warm (a fresh serve reading .git/labbook/series); references: the same
//    page of a 1,000-point run, the second (cached) render, and in this process the read the pages did before the
//    series cache (JSON.parse of each chunk, an object per point, sort, encodeSeries) beside metricSample cold/warm.
// 3. latency from a point logged to the point DRAWN in an open page (the chart's last drawn step, read in the page),
//    with --loggers loggers of three kinds in turn: run.logMetric() in another process, a $LABBOOK_METRICS line
//    (`labbook run`), an MLflow log-batch through serve; --pages Chromium pages, each on one logger's run page.
//    p50/p95 per kind and overall.
// 4. logging throughput through serve (MLflow log-batch, --loggers clients, 100 points a batch) for --seconds with
//    no page open, then with --pages pages open on those runs: the ratio. Each phase starts where it holds as many of
//    serve's group commits (every 30 s) as the others: one with --seconds 30, none with 15. The browser runs on the same cores as serve
//    and the clients, so beside it: serve's CPU per 1,000 points logged in each phase (what the open pages cost the
//    server itself) and the cores each of serve, Chromium (every chromium process under this one) and the bench's
//    clients used in each phase. Then the same with --pages pages open on runs that ended: the cost of open live
//    pages that redraw nothing (the floor under the ratio), and then on about:blank (the browser alone). --rounds N: N pages phases, each between two no-page phases,
//    and the median of their ratios (the machine's speed moves between minutes); each phase also counts context switches.
//    --pin: serve on one CPU, everything else on the other (what the pages cost serve itself, without the browser
//    taking serve's core).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs'
import http from 'node:http'
import { cpus, loadavg, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { decodeTable } from '../src/site/browser/table-data.js'
import { threadCores, threadCpu } from './thread-cpu.js'
import { countDraws, drawsPerPage } from './page-draws.js'
import { DEFAULT_COMMIT_INTERVAL } from '../src/track/open-options.js'

const arg = (k: string, d: number) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? Number(process.argv[i + 1]) : d }
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CLI = `${ROOT}cli/main.ts`
const SELF = fileURLToPath(import.meta.url)
const EVERY = 100 // ms between points of one logger
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// ---- child mode: a logger process using the library (`--child lib REPO NAME`) ----
if (process.argv[2] === '--child') {
  const [, , , , repo, name] = process.argv
  const { Labbook } = await import('../src/index.js')
  const book = await Labbook.open({ repo: repo!, commitInterval: 3_600_000 })
  const run = await book.startRun({ experiment: 'bench', name: name! })
  process.stdout.write(`${run.id}\n`)
  let open = true
  process.stdin.on('end', () => (open = false)).resume()
  for (let step = 0; open; step++) {
    const t = Date.now()
    run.logMetric('loss', 1 / (step + 1), { step, timestamp: t })
    run.flush()
    process.stdout.write(`step ${step} ${t}\n`)
    await sleep(EVERY)
  }
  await run.end('FINISHED')
  await book.close()
  process.exit(0)
}

const LOGGERS = arg('loggers', 20), PAGES = arg('pages', 20), SECONDS = arg('seconds', 15), POINTS = arg('points', 1_000_000), ROUNDS = arg('rounds', 1)
const { gitRepo } = await import('../test/helpers/git-repo.js')
const { launchChromium } = await import('../test/site/browser.js')
const { ensureRenderer, rendererKey } = await import('../src/site/build/renderer.js')
const { Labbook } = await import('../src/index.js')

const statOf = (pid: number) => { try { const t = readFileSync(`/proc/${pid}/stat`, 'utf8'); return { comm: t.slice(t.indexOf('(') + 1, t.lastIndexOf(')')), f: t.slice(t.lastIndexOf(')') + 2).split(' ') } } catch { return undefined } }
const cpuMs = (pid: number) => { const f = statOf(pid)?.f; return f ? (Number(f[11]) + Number(f[12])) * 10 : 0 }
/** CPU ms of each live Chromium process under this one (the loggers and serve are node): pid → ms. */
function chromiumCpu(): Map<number, number> {
  const kids = new Map<number, number[]>()
  const comm = new Map<number, string>()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    const st = statOf(Number(d))
    if (!st) continue
    comm.set(Number(d), st.comm)
    const pp = Number(st.f[1])
    ;(kids.get(pp) ?? kids.set(pp, []).get(pp)!).push(Number(d))
  }
  const out = new Map<number, number>()
  const todo = [process.pid]
  while (todo.length) {
    const pid = todo.pop()!
    for (const k of kids.get(pid) ?? []) {
      todo.push(k)
      if (/chrom/i.test(comm.get(k) ?? '')) out.set(k, cpuMs(k))
    }
  }
  return out
}
/** CPU ms of each thread of Chromium's renderers (one per page). */
const rendererThreads = () => threadCpu([...chromiumCpu().keys()].filter((pid) => kindOf(pid) === 'renderer'))
/** The renderers' cores since `before` per kind of thread (main, compositor, raster, …). */
const threadsSince = (before: ReturnType<typeof rendererThreads>, wall: number) => threadCores(before, rendererThreads(), wall)
/** Chromium's CPU ms since `before` (processes that exited meanwhile are not counted: a slight undercount). */
function chromiumSince(before: Map<number, number>): number {
  let ms = 0
  for (const [pid, now] of chromiumCpu()) ms += now - (before.get(pid) ?? 0)
  return ms
}
/** A Chromium process's kind from its command line: renderer (one per page), gpu, utility (network), browser. */
const kindOf = (pid: number) => { try { return /--type=([\w-]+)/.exec(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))?.[1] ?? 'browser' } catch { return 'gone' } }
/** Chromium's CPU since `before` per kind of process, in cores over `wall` ms, and the busiest renderer's. */
function chromiumKinds(before: Map<number, number>, wall: number): string {
  const by = new Map<string, number>()
  let top = 0
  for (const [pid, now] of chromiumCpu()) {
    const ms = now - (before.get(pid) ?? 0), k = kindOf(pid)
    by.set(k, (by.get(k) ?? 0) + ms)
    if (k === 'renderer') top = Math.max(top, ms)
  }
  return [...by].sort((a, b) => b[1] - a[1]).map(([k, ms]) => `${k} ${(ms / wall).toFixed(2)}`).join(', ') + ` (busiest renderer ${(top / wall).toFixed(3)})`
}
/** Bytes Chromium's processes wrote so far, to the disk and in write calls (/proc/<pid>/io): what the pages cost the disk that serve fdatasyncs on. */
function chromiumIo(): { disk: number; calls: number } {
  let disk = 0, calls = 0
  for (const pid of chromiumCpu().keys()) {
    try {
      const io = Object.fromEntries(readFileSync(`/proc/${pid}/io`, 'utf8').trim().split('\n').map((l) => { const [k, v] = l.split(': '); return [k, Number(v)] }))
      disk += io.write_bytes ?? 0
      calls += io.syscw ?? 0
    } catch { /* exited meanwhile */ }
  }
  return { disk, calls }
}
/** The block device under `dir` so far (/proc/diskstats): writes, KB written, flushes and the ms they took. */
function diskOf(dir: string): { writes: number; kb: number; flushes: number; flushMs: number } | undefined {
  const dev = statSync(dir).dev, major = (dev >> 8) & 0xfff, minor = (dev & 0xff) | ((dev >> 12) & 0xfff00)
  const f = readFileSync('/proc/diskstats', 'utf8').split('\n').map((l) => l.trim().split(/\s+/)).find((x) => Number(x[0]) === major && Number(x[1]) === minor)
  return f ? { writes: Number(f[7]), kb: Number(f[9]) / 2, flushes: Number(f[18] ?? 0), flushMs: Number(f[19] ?? 0) } : undefined
}
/**
 * Context switches so far: the machine's (/proc/stat `ctxt`), and how often the main thread of `pid` was taken off its
 * core while it could run (nonvoluntary: another process's turn), what a browser's wakeups cost serve beyond its own work.
 */
function switchesOf(pid: number): { all: number; preempted: number; runMs: number; waitMs: number } {
  const all = Number(/^ctxt (\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0)
  let preempted = 0, runMs = 0, waitMs = 0
  try { preempted = Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8'))?.[1] ?? 0) } catch { /* gone */ }
  // the main thread's time on a CPU and runnable but waiting for one (/proc/…/schedstat, ns): with the event loop's
  // busy share, what is left is time blocked in a call (a write behind the filesystem's journal)
  try { const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number); runMs = run! / 1e6; waitMs = wait! / 1e6 } catch { /* gone */ }
  return { all, preempted, runMs, waitMs }
}
/** Cores the main thread of `pid` and its other threads used between two `threadCpu` reads over `wall` ms. */
function mainAndOthers(pid: number, before: ReturnType<typeof threadCpu>, now: ReturnType<typeof threadCpu>, wall: number): string {
  let main = 0, others = 0
  for (const [k, t] of now) { const ms = t.ms - (before.get(k)?.ms ?? 0); if (k === `${pid}/${pid}`) main += ms; else others += ms }
  return `main ${(main / wall).toFixed(2)}, others ${(others / wall).toFixed(2)} cores`
}
const pct = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN }
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })

function call(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method, agent, headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {} }, (res) => {
      let b = ''
      res.on('data', (d) => (b += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: b }))
    })
    req.on('error', (e) => reject(new Error(`${method} ${url}${path}: ${e.message}`, { cause: e })))
    req.end(data)
  })
}
const mlflow = async (url: string, path: string, body: unknown) => JSON.parse((await call(url, 'POST', `/api/2.0/mlflow/${path}`, body)).text)

let serveErr = ''
/** The probe's lines (bench/serve-probe.mjs, preloaded into serve): when read, and its figures for the second before. */
const probes: Array<{ at: number; loopP99: number; loopMax: number; syncs: number; syncMean: number; syncMax: number; busy: number }> = []
process.on('exit', (code) => { if (code) console.error(`serve's last words:\n${serveErr}`) })
const uiProcs: ChildProcess[] = []
function startServe(repo: string, ui?: { ui: true; nice: number }): Promise<{ p: ChildProcess; url: string }> {
  const prof = process.env.BENCH_SERVE_PROF && !ui ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SERVE_PROF}`] : []
  const probe = ui ? [] : ['--import', fileURLToPath(new URL('./serve-probe.mjs', import.meta.url))]
  const node = [process.execPath, ...prof, ...probe, '--import', 'tsx', CLI, '--repo', repo, ui ? 'ui' : 'serve', '--port', '0']
  // --pin: serve on CPU 0 (taskset execs node: the pid is serve's); nice execs too
  const [cmd, ...args] = ui ? ['nice', '-n', String(ui.nice), ...node] : PIN ? ['taskset', '-c', '0', ...node] : node
  const p = spawn(cmd!, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  if (ui) uiProcs.push(p)
  let err = ''
  return new Promise((resolve, reject) => {
    p.stderr!.on('data', (d) => {
      for (const m of String(d).matchAll(/^probe (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)$/gm)) probes.push({ at: Date.now(), loopP99: Number(m[2]), loopMax: Number(m[3]), syncs: Number(m[4]), syncMean: Number(m[5]), syncMax: Number(m[6]), busy: Number(m[7]) })
      d = String(d).replace(/^probe .*\n/gm, '')
      err += d; serveErr = (serveErr + d).slice(-4000); const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(err); if (m) resolve({ p, url: m[1]! }) })
    p.on('exit', (code, signal) => { if (!p.killed) console.error(`serve exited ${code ?? signal}: ${err.slice(-3000)}`); reject(new Error(err)) })
  })
}

/** Marks in the page when each step of `loss` is first drawn (the chart's data-last-step), by the page's clock. */
async function watchDrawn(page: Page): Promise<void> {
  // a string, not a function: tsx (esbuild keepNames) would wrap a function's inner functions in __name(), which the
  // page does not have
  await page.evaluate(`(() => {
    window.__seen = {}
    let last = -1
    setInterval(() => {
      const v = Number(document.querySelector('.run-charts figure[data-metric="loss"]')?.getAttribute('data-last-step') ?? -1)
      if (v > last) { const t = Date.now(); for (let s = last + 1; s <= v; s++) window.__seen[s] = t; last = v }
    }, 20)
  })()`)
}

/** The browser's requests not yet finished, with when each began (the navigation stall: what is the page waiting on?). */
function watchRequests(ctx: import('playwright-core').BrowserContext): Map<import('playwright-core').Request, number> {
  const open = new Map<import('playwright-core').Request, number>()
  ctx.on('request', (r) => open.set(r, Date.now()))
  ctx.on('requestfinished', (r) => open.delete(r))
  ctx.on('requestfailed', (r) => open.delete(r))
  return open
}
/**
 * Runs `open` (a page's navigation); if it has not finished after 60 s, prints what the browser is still waiting for
 * (every unfinished request, oldest first) and whether serve answers the same address to this process meanwhile, once.
 */
async function stalled(url: string, path: string, open: Map<import('playwright-core').Request, number>, go: () => Promise<void>): Promise<void> {
  let done = false
  const watch = (async () => {
    for (let t = 0; t < 600 && !done; t++) await sleep(100)
    if (done) return
    const now = Date.now()
    const list = [...open].sort((a, b) => a[1] - b[1]).map(([r, t]) => `${r.method()} ${r.url().replace(url, '')} (${r.resourceType()}, ${((now - t) / 1000).toFixed(0)} s)`)
    console.error(`STALL: ${path} not loaded after 60 s; the browser's unfinished requests (${list.length}): ${list.join('; ')}`)
    const t0 = performance.now()
    const r = await Promise.race([call(url, 'GET', path).then((x) => `${x.status} in ${(performance.now() - t0).toFixed(0)} ms`, (e: Error) => e.message), sleep(20_000).then(() => 'no answer in 20 s')])
    console.error(`STALL: serve answers ${path} to the bench: ${r}`)
  })()
  try { await go() } finally { done = true; await watch }
}

interface Logger { kind: 'lib' | 'env' | 'mlflow'; id: string; logged: Map<number, number>; stop(): Promise<void> }
/** Every logger started, stopped again in `finally` when the bench fails half-way (no process left behind). */
const running = new Set<Logger>()
const track = (l: Logger): Logger => { const stop = l.stop; l.stop = async () => { if (!running.delete(l)) return; await stop() }; running.add(l); return l }

async function libLogger(repo: string, name: string): Promise<Logger> {
  const p = spawn(process.execPath, ['--import', 'tsx', SELF, '--child', 'lib', repo, name], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] })
  const logged = new Map<number, number>()
  let out = '', id = ''
  const exited = new Promise((r) => p.on('exit', r))
  await new Promise<void>((resolve, reject) => {
    // a child that fails to start its run (its error is on stderr) stops the bench instead of hanging it
    p.on('exit', (code, signal) => { if (!id) reject(new Error(`logger ${name} exited ${code ?? signal} before starting its run`)) })
    p.stdout!.on('data', (d) => {
      out += d
      const lines = out.split('\n'); out = lines.pop()!
      for (const l of lines) {
        if (!id) { id = l; resolve(); continue }
        const m = /^step (\d+) (\d+)/.exec(l)
        if (m) logged.set(Number(m[1]), Number(m[2]))
      }
    })
  })
  return { kind: 'lib', id, logged, stop: async () => { p.stdin!.end(); await exited } }
}

async function envLogger(repo: string, url: string, expId: string, name: string): Promise<Logger> {
  // the training script: a $LABBOOK_METRICS line every EVERY ms until a file appears; prints each step's time
  const stopFile = join(tmpdir(), `labbook-bench-stop-${process.pid}-${name}`)
  const script = `const fs=require('fs');let s=0;const t=setInterval(()=>{if(fs.existsSync(${JSON.stringify(stopFile)})){clearInterval(t);return}const now=Date.now();fs.appendFileSync(process.env.LABBOOK_METRICS,JSON.stringify({loss:1/(s+1),step:s,timestamp:now})+'\\n');console.log('step '+s+' '+now);s++},${EVERY})`
  const p = spawn(process.execPath, ['--import', 'tsx', CLI, '--repo', repo, 'run', '-e', 'bench', '--name', name, '--', process.execPath, '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  p.stderr!.on('data', (d) => (err = (err + d).slice(-2000)))
  let gone = false
  p.on('exit', () => (gone = true))
  const logged = new Map<number, number>()
  let out = ''
  p.stdout!.on('data', (d) => {
    out += d
    const lines = out.split('\n'); out = lines.pop()!
    for (const l of lines) { const m = /^step (\d+) (\d+)/.exec(l); if (m) logged.set(Number(m[1]), Number(m[2])) }
  })
  const exited = new Promise((r) => p.on('exit', r))
  let id = ''
  while (!id) {
    if (gone) throw new Error(`labbook run exited: ${err}`)
    await sleep(200)
    const runs = decodeTable(JSON.parse((await call(url, 'GET', `/data/experiments/${expId}/runs.json`)).text))
    id = runs.find((r) => r.name === name)?.id ?? ''
  }
  return { kind: 'env', id, logged, stop: async () => { (await import('node:fs')).writeFileSync(stopFile, ''); await exited } }
}

async function mlflowLogger(url: string, expId: string, name: string): Promise<Logger> {
  const run = (await mlflow(url, 'runs/create', { experiment_id: expId, run_name: name, start_time: Date.now() })).run.info.run_id as string
  const logged = new Map<number, number>()
  let open = true
  let failed: unknown
  const loop = (async () => {
    for (let step = 0; open; step++) {
      const t = Date.now()
      await mlflow(url, 'runs/log-batch', { run_id: run, metrics: [{ key: 'loss', value: 1 / (step + 1), timestamp: t, step }] })
      logged.set(step, t)
      await sleep(EVERY)
    }
  })().catch((e: unknown) => { failed = e }) // reported by stop(), so a failure elsewhere is not masked by this one
  return { kind: 'mlflow', id: run, logged, stop: async () => { open = false; await loop; if (failed) throw failed; await mlflow(url, 'runs/update', { run_id: run, status: 'FINISHED', end_time: Date.now() }) } }
}

/** The run page's read before the series cache (reader.ts + collectRun then): every chunk through one JSON.parse, an object per point, a sort, encodeSeries. */
async function previousRead(book: import('../src/index.js').Labbook, id: string) {
  const { decodePointRow } = await import('../src/format/jsonl.js')
  const { encodeSeries } = await import('../src/site/browser/charts/series.js')
  const trees = await (await book.at('labbook')).runTrees()
  const metrics = (await book.objects.readTree(trees.get(id)!)).find((e) => e.name === 'metrics')!
  const chunks = (await book.objects.readTree(metrics.oid)).sort((a, b) => (a.name < b.name ? -1 : 1))
  const pts: Array<{ key: string; value: number; step: number; timestamp: number }> = []
  for (const c of chunks) {
    const text = (await book.objects.readBlob(c.oid)).toString('utf8')
    for (const row of JSON.parse('[' + text.trimEnd().replace(/\n/g, ',') + ']') as unknown[]) pts.push(decodePointRow(row)!)
  }
  pts.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp)
  return encodeSeries('loss', pts, 1500)
}

// what a busy neighbour costs any process on this machine, measured before anything else runs (bench/box-contention.ts)
const box = await (await import('./box-contention.js')).boxContention()
/**
 * --pin: serve on CPU 0, and this process (the clients) and everything it starts after (Chromium, the loggers) on
 * CPU 1: what the pages cost serve itself, apart from the browser taking serve's core on a 2-core box (a machine with
 * cores to spare for the browser). The figure without --pin stays the issue's.
 */
const PIN = process.argv.includes('--pin')
/** Seconds of logging with the pages open before a pages phase is counted (--settle S, see the phase). */
const SETTLE = arg('settle', 0)
const UI_APART = process.argv.includes('--ui-apart') ? arg('ui-apart', 0) : undefined
if (PIN) {
  const r = spawnSync('taskset', ['-a', '-cp', '1', String(process.pid)], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`--pin: taskset failed: ${r.stderr || r.error}`)
  console.log('pinned: serve on CPU 0; the clients, Chromium and the loggers on CPU 1')
}
console.log(`the machine: a fixed piece of work costs ${box.ratio.toFixed(2)}x the CPU time with the other cores busy (medians: ${box.busy.toFixed(0)} ms against ${box.alone.toFixed(0)} ms alone; ${box.spread})`)
const repo = gitRepo()
let serveProc: ChildProcess | undefined
const browser = await launchChromium()
try {
  // The live renderer is compiled once per labbook version; share one across bench runs (as an install would).
  const shared = (await import('../test/helpers/renderer.js')).TEST_RENDERER_DIR
  const folder = await ensureRenderer(shared)
  const own = join(repo.dir, '.git', 'labbook', 'live-site')
  mkdirSync(own, { recursive: true })
  symlinkSync(folder, join(own, `r-${await rendererKey()}`))
  console.log(`renderer ready (${basename(folder)})`)

  // 2 (prepared before serve starts): a run with POINTS points and one with 1,000
  const book = await Labbook.open({ repo: repo.dir })
  const mk = async (name: string, n: number) => {
    const r = await book.startRun({ experiment: 'big', name })
    for (let i = 0; i < n; i++) r.logMetric('loss', Math.exp(-i / n) + 0.01 * Math.sin(i), { step: i, timestamp: 1_700_000_000_000 + i })
    await r.end('FINISHED')
    return r.id
  }
  let t0 = performance.now()
  const big = await mk('big', POINTS)
  console.log(`logged ${POINTS.toLocaleString('en')} points in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const small = await mk('small', 1000)
  await book.close()

  const skipRender = process.argv.includes('--skip-render')
  // 2, in this process: the previous read (as reader.ts did before the series cache) vs metricSample cold and warm,
  // three rounds alternating (medians): cold = no series file and no parsed chunk in memory
  if (!skipRender) {
    const { forgetParsedChunks } = await import('../src/track/history.js')
    const reader = await Labbook.open({ repo: repo.dir })
    const seriesDir = join(repo.dir, '.git', 'labbook', 'series')
    const cold: number[] = [], warm: number[] = [], previous: number[] = []
    for (let round = 0; round < 3; round++) {
      rmSync(seriesDir, { recursive: true, force: true })
      forgetParsedChunks()
      let t = performance.now()
      const sample = (await reader.metricSample(big, 1500)).loss!
      cold.push(performance.now() - t)
      t = performance.now()
      await reader.metricSample(big, 1500)
      warm.push(performance.now() - t)
      t = performance.now()
      const before = await previousRead(reader, big)
      previous.push(performance.now() - t)
      if (before.n !== sample.total || before.dq!.length !== sample.points.length) throw new Error('the previous read and metricSample disagree')
    }
    rmSync(seriesDir, { recursive: true, force: true })
    forgetParsedChunks()
    await reader.close()
    const med = (xs: number[]) => pct(xs, 0.5)
    console.log(`read + downsample of a ${POINTS.toLocaleString('en')}-point metric in the library (median of 3): previous way ${med(previous).toFixed(0)} ms; metricSample cold ${med(cold).toFixed(0)} ms (${(med(previous) / med(cold)).toFixed(1)}x faster), warm (series cache) ${med(warm).toFixed(1)} ms (${(med(previous) / med(warm)).toFixed(0)}x)`)
  }

  // 2, through serve: a fresh process with no series cache, then a fresh process with it
  const time = async (url: string, path: string) => { const t = performance.now(); const r = await call(url, 'GET', path); if (r.status !== 200) throw new Error(`${path}: ${r.status}`); return performance.now() - t }
  let bigCold = NaN, bigAgain = NaN
  if (!skipRender) {
  const first = await startServe(repo.dir)
  serveProc = first.p
  while ((await call(first.url, 'GET', '/')).status !== 200) await sleep(200)
  await call(first.url, 'GET', '/runs/-/') // as the server's own warm-up: page modules loaded
  await time(first.url, `/runs/${small}/`) // the run page's own code warmed up, so the big page measures the read
  bigCold = await time(first.url, `/runs/${big}/`)
  bigAgain = await time(first.url, `/runs/${big}/`)
  first.p.kill('SIGINT')
  await new Promise((r) => first.p.once('exit', r))
  }

  const { p, url } = await startServe(repo.dir)
  serveProc = p
  while ((await call(url, 'GET', '/')).status !== 200) await sleep(200)
  await call(url, 'GET', '/runs/-/')
  const smallFirst = await time(url, `/runs/${small}/`)
  const bigWarm = await time(url, `/runs/${big}/`)
  if (!skipRender) console.log(`first render of a run page, ${POINTS.toLocaleString('en')}-point metric: cold ${bigCold.toFixed(0)} ms, warm (series cache) ${bigWarm.toFixed(0)} ms (same page again: ${bigAgain.toFixed(0)} ms; 1,000-point run, first: ${smallFirst.toFixed(0)} ms)`)

  // 1. idle CPU
  const skipIdle = process.argv.includes('--skip-idle')
  if (!skipIdle) {
  await sleep(2000)
  let c0 = cpuMs(p.pid!)
  await sleep(10_000)
  const idle = (cpuMs(p.pid!) - c0) / 100
  const one = await browser.newPage()
  await one.goto(`${url}/`)
  await sleep(1000)
  c0 = cpuMs(p.pid!)
  await sleep(10_000)
  const watched = (cpuMs(p.pid!) - c0) / 100
  await one.close()
  console.log(`idle serve CPU: ${idle.toFixed(2)}% over 10 s, nothing open (one page open, nothing logging: ${watched.toFixed(2)}%)`)
  }

  // the probe on from here (off during the idle measurement: its delay monitor wakes the loop every 5 ms)
  p.kill('SIGUSR2')

  // 3. latency to drawn
  const expId = (await mlflow(url, 'experiments/create', { name: 'bench' })).experiment_id as string
  let all: number[] = []
  if (!process.argv.includes('--skip-latency')) {
    const loggers: Logger[] = []
    const only = process.argv.includes('--kinds') ? process.argv[process.argv.indexOf('--kinds') + 1]!.split(',') : undefined
    const kinds = (['lib', 'env', 'mlflow'] as const).filter((k) => !only || only.includes(k))
    console.error(`${new Date().toISOString()} starting ${LOGGERS} loggers`)
    // all settled before a failure is thrown: every logger that did start is tracked, so `finally` stops it
    const started = await Promise.allSettled(Array.from({ length: LOGGERS }, async (_, i) => {
      const kind = kinds[i % kinds.length]!
      loggers[i] = track(kind === 'lib' ? await libLogger(repo.dir, `lib-${i}`) : kind === 'env' ? await envLogger(repo.dir, url, expId, `env-${i}`) : await mlflowLogger(url, expId, `mlflow-${i}`))
    }))
    const failed = started.filter((x): x is PromiseRejectedResult => x.status === 'rejected')
    if (failed.length) throw new Error(`${failed.length} of ${LOGGERS} loggers did not start: ${String(failed[0]!.reason)}`)
    console.error(`${new Date().toISOString()} loggers started; opening ${PAGES} pages`)
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } })
    const inFlight = watchRequests(ctx)
    const pages: Array<{ page: Page; logger: Logger }> = []
    for (let j = 0; j < PAGES; j++) {
      const logger = loggers[j % LOGGERS]!
      const page = await ctx.newPage()
      // a loaded machine can take longer than playwright's 30 s to the load event; the chart is what counts
      await stalled(url, `/runs/${logger.id}/`, inFlight, async () => {
        await page.goto(`${url}/runs/${logger.id}/`, { waitUntil: 'domcontentloaded', timeout: 180_000 })
        await page.waitForSelector('.run-charts figure[data-metric="loss"]', { timeout: 180_000 })
      })
      console.error(`${new Date().toISOString()} page ${j + 1} open`)
      await watchDrawn(page)
      pages.push({ page, logger })
    }
    console.error(`${new Date().toISOString()} pages open`)
    const since = Date.now()
    const lat0 = { serve: cpuMs(p.pid!), chrome: chromiumCpu(), t: performance.now() }
    await sleep(SECONDS * 1000)
    const latCores = { serve: (cpuMs(p.pid!) - lat0.serve) / (performance.now() - lat0.t), chrome: chromiumSince(lat0.chrome) / (performance.now() - lat0.t), kinds: chromiumKinds(lat0.chrome, performance.now() - lat0.t) }
    await Promise.all(loggers.map((l) => l.stop()))
    await sleep(3000)
    const lat: Record<string, number[]> = Object.fromEntries(kinds.map((k) => [k, []]))
    let missed = 0
    for (const { page, logger } of pages) {
      const seen = (await page.evaluate('window.__seen')) as Record<number, number>
      for (const [step, t] of logger.logged) {
        if (t < since) continue // logged before this page watched
        const s = seen[step]
        if (s === undefined) missed++
        else lat[logger.kind]!.push(s - t)
      }
    }
    await ctx.close()
    all = Object.values(lat).flat()
    const fmt = (xs: number[]) => `p50 ${pct(xs, 0.5)} ms, p95 ${pct(xs, 0.95)} ms (${xs.length} points)`
    console.log(`latency logged → drawn, ${LOGGERS} loggers × ${PAGES} pages: ${fmt(all)}; ${missed} not drawn within 3 s of the end (meanwhile serve ${latCores.serve.toFixed(2)}, Chromium ${latCores.chrome.toFixed(2)} cores; load ${loadavg()[0]!.toFixed(1)})`)
    for (const k of kinds) console.log(`  ${k}: ${fmt(lat[k]!)}`)
    console.log(`  Chromium cores by process meanwhile: ${latCores.kinds}`)
  }

  // 4. throughput through serve
  // serve's group commits come every DEFAULT_COMMIT_INTERVAL from its first open run (these: the loggers' runs ended)
  const commitsFrom = Date.now()
  const runs = await Promise.all(Array.from({ length: LOGGERS }, async (_, i) => (await mlflow(url, 'runs/create', { experiment_id: expId, run_name: `tp-${i}`, start_time: Date.now() })).run.info.run_id as string))
  // --ui-apart N (experiment): the pages phases' pages on a `labbook ui` of the same repository at nice N, not on serve
  const apart = UI_APART === undefined ? undefined : await startServe(repo.dir, { ui: true, nice: UI_APART })
  const pagesUrl = apart?.url ?? url
  let step = 0
  const blast = async (ms: number) => {
    let points = 0
    const took: number[] = []
    const end = Date.now() + ms
    await Promise.all(runs.map(async (run) => {
      while (Date.now() < end) {
        const s0 = step; step += 100
        const t = performance.now()
        await mlflow(url, 'runs/log-batch', { run_id: run, metrics: Array.from({ length: 100 }, (_, k) => ({ key: 'loss', value: Math.random(), timestamp: Date.now(), step: s0 + k })) })
        took.push(performance.now() - t)
        points += 100
      }
    }))
    return { points, took }
  }
  /** Commits on the branch so far (the group commits serve made). */
  const commitCount = () => Number(spawnSync('git', ['-C', repo.dir, 'rev-list', '--count', 'labbook'], { encoding: 'utf8' }).stdout.trim() || 0)
  /** One phase: points/s, and where the 2 cores went meanwhile (serve, the browser, this process's clients). */
  /**
   * Waits until a phase of `ms` started now holds as many of serve's group commits as any other: its start lies
   * halfway between where the commits fall (a 30 s phase then holds one, a 15 s phase none). A commit holds serve's
   * event loop for up to ~2 s and its writes weigh on the disk: unaligned, the reference and the pages phase held 0 and
   * 2 of them in one run, and the ratio moved by a third.
   */
  const untilAligned = (ms: number) => {
    const every = DEFAULT_COMMIT_INTERVAL
    const start = (every - (ms % every)) / 2
    const into = (Date.now() - commitsFrom) % every
    return (start - into + every) % every
  }
  const aligned = (ms: number) => sleep(untilAligned(ms))
  /**
   * Logs, not counted, for at least `minMs` and until a phase of `ms` started then is aligned (`aligned`): the wait
   * filled with logging, so the open pages are in their live state when the phase starts.
   */
  const settled = async (minMs: number, ms: number) => {
    let wait = untilAligned(ms)
    while (wait < minMs) wait += DEFAULT_COMMIT_INTERVAL
    await blast(wait)
  }
  const phase = async (ms: number, align = true) => {
    if (align) await aligned(ms)
    const ui0 = apart ? cpuMs(apart.p.pid!) : 0
    const serve0 = cpuMs(p.pid!), serveThreads0 = threadCpu([p.pid!]), chrome0 = chromiumCpu(), threads0 = rendererThreads(), self0 = process.cpuUsage(), t0 = performance.now(), from = Date.now(), commits0 = commitCount()
    const io0 = chromiumIo(), disk0 = diskOf(repo.dir), ctxt0 = switchesOf(p.pid!)
    const mono0 = Number(process.hrtime.bigint() / 1000n)
    const { points, took } = await blast(ms)
    const wall = performance.now() - t0
    // the phase on the monotonic clock, in µs: the clock of serve's --cpu-prof timestamps (BENCH_SERVE_PROF)
    const mono = [mono0, Number(process.hrtime.bigint() / 1000n)] as const
    const ctxt = switchesOf(p.pid!)
    const io = chromiumIo(), disk = diskOf(repo.dir)
    const perS = (n: number) => (n / (wall / 1000)).toFixed(0)
    const diskSaid = disk && disk0 ? `; the disk: ${perS(disk.writes - disk0.writes)} writes/s, ${perS(disk.kb - disk0.kb)} KB/s, ${perS(disk.flushes - disk0.flushes)} flushes/s (mean ${((disk.flushMs - disk0.flushMs) / Math.max(1, disk.flushes - disk0.flushes)).toFixed(1)} ms)` : ''
    const commits = commitCount() - commits0
    const self = process.cpuUsage(self0)
    const seen = probes.filter((x) => x.at > from + 1000 && x.at <= Date.now())
    const syncs = seen.reduce((a, x) => a + x.syncs, 0)
    return {
      // serve commits its open runs every 30 s (DEFAULT_COMMIT_INTERVAL): a phase that holds a commit pays for the
      // points logged before it too (chunks, trees, the journals' rotation), so the count is printed beside the figures
      call: `${commits} commit${commits === 1 ? '' : 's'} of the branch; log-batch p50 ${pct(took, 0.5).toFixed(1)} ms, p95 ${pct(took, 0.95).toFixed(1)} ms; serve's event loop busy ${(100 * seen.reduce((a, x) => a + x.busy, 0) / Math.max(1, seen.length)).toFixed(0)}%, its delay p99 ${pct(seen.map((x) => x.loopP99), 0.5).toFixed(0)} ms (median second), max ${Math.max(0, ...seen.map((x) => x.loopMax)).toFixed(0)} ms; ${(syncs / Math.max(1, seen.length)).toFixed(0)} fdatasyncs/s, mean ${(seen.reduce((a, x) => a + x.syncs * x.syncMean, 0) / Math.max(1, syncs)).toFixed(1)} ms, max ${Math.max(0, ...seen.map((x) => x.syncMax)).toFixed(0)} ms${diskSaid}; Chromium wrote ${perS((io.disk - io0.disk) / 1024)} KB/s to the disk (${perS(io.calls - io0.calls)} write calls/s)`,
      rate: points / (ms / 1000),
      mono,
      // its main thread, and the others together (V8's helpers: garbage collection, compiling; libuv's pool: fs calls)
      serveThreads: mainAndOthers(p.pid!, serveThreads0, threadCpu([p.pid!]), wall),
      switches: `${perS(ctxt.all - ctxt0.all)}/s on the machine, serve's main thread preempted ${perS(ctxt.preempted - ctxt0.preempted)}/s, on a CPU ${(100 * (ctxt.runMs - ctxt0.runMs) / wall).toFixed(0)}% and waiting for one ${(100 * (ctxt.waitMs - ctxt0.waitMs) / wall).toFixed(0)}% of the phase`,
      serveMsPerK: (cpuMs(p.pid!) - serve0) / (points / 1000),
      serveCores: (cpuMs(p.pid!) - serve0) / wall,
      uiCores: apart ? (cpuMs(apart.p.pid!) - ui0) / wall : 0,
      chromeCores: chromiumSince(chrome0) / wall,
      chromeKinds: chromiumKinds(chrome0, wall),
      threads: threadsSince(threads0, wall),
      clientCores: (self.user + self.system) / 1000 / wall,
    }
  }
  // --rounds N: none, pages, none, pages … none. Each pages phase is compared with the mean of the no-page phases on
  // either side of it, and the median of the rounds is the figure: the machine's own speed moves by up to 2x between
  // minutes (bench/box-contention.ts), and one pair could not tell 0.90 from 0.85 (session 15).
  // a first phase, not counted: right after the latency phase (its 20 loggers' runs ending, their journals committed
  // away) or a cold start, the first no-page phase measured 64,000-95,000 points/s where the next ones measured
  // 140,000-160,000 (session 16), and flattered the first round's ratio
  await phase(SECONDS * 1000)
  const nones = [await phase(SECONDS * 1000)]
  const rounds: Array<{ withPages: Awaited<ReturnType<typeof phase>>; ratio: number; ref: { rate: number; serveMsPerK: number; serveCores: number } }> = []
  for (let round = 0; round < ROUNDS; round++) {
    const first = round === 0
    const ctx2 = await browser.newContext({ viewport: { width: 1200, height: 900 } })
    const tpPages: Page[] = []
    // what the pages ask the server for during the phase, by kind (ticks make a run page's redraw ask for nothing)
    const asked = new Map<string, number>()
    let counting = false
    const kindOfRequest = (u: string) => (/\/data\/runs\/[^/]+\.json/.test(u) ? 'run JSON' : /\/m\/\d+/.test(u) ? 'series' : /\/live\/watch/.test(u) ? 'watch' : /\/runs\/[^/]+\/(\?|$)/.test(u) ? 'page' : 'other')
    for (let j = 0; j < PAGES; j++) {
      const page = await ctx2.newPage()
      page.on('request', (r) => { if (counting) { const k = kindOfRequest(r.url()); asked.set(k, (asked.get(k) ?? 0) + 1) } })
      await page.goto(`${pagesUrl}/runs/${runs[j % runs.length]}/`, { waitUntil: 'domcontentloaded', timeout: 180_000 })
      tpPages.push(page)
    }
    // --settle S: the pages loaded and hydrated, then S seconds of logging, not counted, before the phase: what open
    // pages cost once open (their first live draw, the JIT compiling their code in every tab) apart from what opening
    // 20 tabs costs; 0 measures from 2 s after the last one loaded, as sessions 12-16 did
    if (SETTLE > 0) {
      await Promise.all(tpPages.map((pg) => pg.waitForSelector('.run-charts[data-hydrated="true"]', { timeout: 180_000 }).catch(() => {})))
      await settled(SETTLE * 1000, SECONDS * 1000)
    } else await sleep(2000)
    // BENCH_PAGE_PROF=1: where a page's main thread spends its time meanwhile (CDP Profiler, self time): a tab that does
    // not read the change stream for the others (live-channel.ts); BENCH_PAGE_PROF_PAGE=lead for the one that does
    // the tab reading the change stream for the others (live-channel.ts marks it), and another
    const leads = await Promise.all(tpPages.map((pg) => pg.evaluate('document.documentElement.dataset.liveStream === "lead"')))
    const leader = tpPages[Math.max(0, leads.indexOf(true))]!
    const follower = tpPages.find((pg) => pg !== leader)
    const profPage = process.env.BENCH_PAGE_PROF_PAGE === 'lead' ? leader : follower
    const prof = first && process.env.BENCH_PAGE_PROF && profPage ? await ctx2.newCDPSession(profPage) : undefined

    // aligned here: what the pages did is counted over the phase alone
    if (SETTLE <= 0) await aligned(SECONDS * 1000)
    if (prof) { await prof.send('Profiler.enable'); await prof.send('Profiler.start') }
    // the change stream as a page reads it meanwhile (its events carry the ticks of the runs the pages show)
    let streamBytes = 0, streamEvents = 0
    const streamReq = http.get(`${url}/live/events`, (res) => res.on('data', (d: Buffer) => { streamBytes += d.length; streamEvents += (String(d).match(/^event: change$/gm) ?? []).length }))
    streamReq.on('error', () => {})
    await Promise.all(tpPages.map(countDraws))
    // BENCH_TRACE=FILE: a Chromium trace of the phase (every process and thread), for what the pages' time went to
    const tracing = first && process.env.BENCH_TRACE ? browser.startTracing(follower, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'blink', 'cc', 'gpu', 'toplevel'] }) : undefined
    await tracing
    counting = true
    const withPages = await phase(SECONDS * 1000, false)
    counting = false
    if (tracing) (await import('node:fs')).writeFileSync(process.env.BENCH_TRACE!, await browser.stopTracing())
    streamReq.destroy()
    const drew = await drawsPerPage(tpPages, SECONDS)
    const say = ROUNDS > 1 ? `  round ${round + 1}: ` : '  '
    console.log(`${say}each page meanwhile, a second: ${drew.full.toFixed(2)} charts drawn anew, ${drew.inPlace.toFixed(2)} lines extended in place`)
    console.log(`${say}the change stream meanwhile: ${(streamEvents / SECONDS).toFixed(1)} events/s, ${(streamBytes / 1024 / SECONDS).toFixed(1)} KB/s`)
    console.log(`${say}the ${PAGES} pages' requests per second meanwhile: ${[...asked].map(([k, n]) => `${k} ${(n / SECONDS).toFixed(1)}`).join(', ') || 'none'}`)
    if (prof) {
      const { profile } = await prof.send('Profiler.stop')
      if (process.env.BENCH_PAGE_PROF !== '1') (await import('node:fs')).writeFileSync(process.env.BENCH_PAGE_PROF!, JSON.stringify(profile)) // a file name: the whole profile
      const self = new Map<string, number>()
      const byId = new Map(profile.nodes.map((n) => [n.id, n]))
      const dt = profile.timeDeltas ?? []
      ;(profile.samples ?? []).forEach((id, i) => {
        const f = byId.get(id)!.callFrame
        const k = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber}`
        self.set(k, (self.get(k) ?? 0) + (dt[i] ?? 0) / 1000)
      })
      const total = [...self.values()].reduce((a, b) => a + b, 0)
      console.log(`${profPage === leader ? 'the streaming tab' : 'another tab'}'s main thread over ${(total / 1000).toFixed(1)} s (self ms): ${[...self].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, ms]) => `${k} ${ms.toFixed(0)}`).join('; ')}`)
    }
    await ctx2.close()
    // The reference again, after: serve's state moves on while the phases run (longer journals, a group commit every
    // 30 s), and a reference taken only before favoured it by up to 2× in one run. The ratios use the mean of the two.
    const before = nones[nones.length - 1]!, after = await phase(SECONDS * 1000)
    nones.push(after)
    const ref = { rate: (before.rate + after.rate) / 2, serveMsPerK: (before.serveMsPerK + after.serveMsPerK) / 2, serveCores: (before.serveCores + after.serveCores) / 2 }
    rounds.push({ withPages, ratio: withPages.rate / ref.rate, ref })
    if (ROUNDS > 1) console.log(`${say}${withPages.rate.toFixed(0)} points/s with ${PAGES} pages, ${before.rate.toFixed(0)} before and ${after.rate.toFixed(0)} after: ratio ${(withPages.rate / ref.rate).toFixed(2)}; Chromium ${withPages.chromeCores.toFixed(2)} cores;${apart ? ` the pages' \`labbook ui\` ${withPages.uiCores.toFixed(2)} cores;` : ''} serve's CPU per point ${(withPages.serveMsPerK / ref.serveMsPerK).toFixed(2)}x; context switches ${withPages.switches} (without: ${before.switches}); serve's threads ${withPages.serveThreads} (without: ${before.serveThreads})`)
  }
  // the round whose ratio is the median (the lower middle one of an even count): its figures are the ones printed below
  const mid = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor((rounds.length - 1) / 2)]!
  const { withPages, ref } = mid
  const none = nones[rounds.indexOf(mid)]!, none2 = nones[rounds.indexOf(mid) + 1]!
  // The same number of pages open on runs that ended (nothing they show changes): what open live pages cost with no
  // redraw at all (the change stream, its fan-out to every tab, the server's look at each journal that moved). The
  // bound on the ratio above: a page that draws can cost no less.
  const rest = await Promise.all(Array.from({ length: PAGES }, async (_, i) => {
    const id = (await mlflow(url, 'runs/create', { experiment_id: expId, run_name: `rest-${i}`, start_time: Date.now() })).run.info.run_id as string
    await mlflow(url, 'runs/log-batch', { run_id: id, metrics: Array.from({ length: 100 }, (_, k) => ({ key: 'loss', value: 1 / (k + 1), timestamp: Date.now(), step: k })) })
    await mlflow(url, 'runs/update', { run_id: id, status: 'FINISHED', end_time: Date.now() })
    return id
  }))
  const ctx3 = await browser.newContext({ viewport: { width: 1200, height: 900 } })
  for (const id of rest) {
    const page = await ctx3.newPage()
    await page.goto(`${url}/runs/${id}/`, { waitUntil: 'domcontentloaded', timeout: 180_000 })
  }
  await sleep(2000)
  const atRest = await phase(SECONDS * 1000)
  await ctx3.close()
  const last = nones[nones.length - 1]!
  // And the same number of blank pages (about:blank): what the browser costs this box with nothing served at all,
  // the floor under both ratios above. Measured after a no-page phase of its own.
  const beforeBlank = await phase(SECONDS * 1000)
  const ctx4 = await browser.newContext({ viewport: { width: 1200, height: 900 } })
  for (let j = 0; j < PAGES; j++) await (await ctx4.newPage()).goto('about:blank')
  await sleep(2000)
  const blank = await phase(SECONDS * 1000)
  await ctx4.close()
  const cores = (x: typeof none) => `serve ${x.serveCores.toFixed(2)}, Chromium ${x.chromeCores.toFixed(2)}, bench clients ${x.clientCores.toFixed(2)} cores`
  console.log(`throughput through serve (log-batch, ${LOGGERS} clients × 100 points): ${ref.rate.toFixed(0)} points/s with no page (${none.rate.toFixed(0)} before the pages, ${none2.rate.toFixed(0)} after; ${cores(none)}), ${withPages.rate.toFixed(0)} with ${PAGES} pages open (${cores(withPages)}): ratio ${(withPages.rate / ref.rate).toFixed(2)}`)
  console.log(`  no page: ${none.call}; context switches ${none.switches}; serve's threads ${none.serveThreads}; after the pages: ${none2.call}; ${none2.switches}; serve's threads ${none2.serveThreads}`)
  console.log(`  ${PAGES} pages: ${withPages.call}; context switches ${withPages.switches}; serve's threads ${withPages.serveThreads}`)
  console.log(`  Chromium cores by process with ${PAGES} pages: ${withPages.chromeKinds}; the renderers' threads: ${withPages.threads}`)
  console.log(`  ${PAGES} pages open on ended runs (no redraw: the live channel alone): ${atRest.rate.toFixed(0)} points/s (${cores(atRest)}): ratio ${(atRest.rate / last.rate).toFixed(2)} to the phase before it; serve's CPU per point ${(atRest.serveMsPerK / last.serveMsPerK).toFixed(2)}x without pages; ${atRest.call}`)
  // where each phase lies in serve's profile (its samples' timestamps are on the same monotonic clock, µs)
  if (process.env.BENCH_SERVE_PROF) console.log(`serve's profile windows (µs): ${[...nones.map((x, i) => `none${i + 1} ${x.mono.join(' ')}`), ...rounds.map((r, i) => `pages${i + 1} ${r.withPages.mono.join(' ')}`), `ended ${atRest.mono.join(' ')}`, `blank ${blank.mono.join(' ')}`].join('; ')}`)
  console.log(`  ${PAGES} blank pages (the browser alone, nothing served): ${blank.rate.toFixed(0)} points/s (${cores(blank)}): ratio ${(blank.rate / beforeBlank.rate).toFixed(2)} to the phase before it; serve's CPU per point ${(blank.serveMsPerK / beforeBlank.serveMsPerK).toFixed(2)}x without pages`)
  console.log(`serve CPU per 1,000 points logged: ${ref.serveMsPerK.toFixed(1)} ms with no page, ${withPages.serveMsPerK.toFixed(1)} ms with ${PAGES} pages open (ratio ${(withPages.serveMsPerK / ref.serveMsPerK).toFixed(2)}); load ${loadavg()[0]!.toFixed(1)}`)
  // Where the drop comes from. Throughput = serve's cores ÷ serve's CPU per point, so the ratio is the product of
  // (a) serve's cores with pages ÷ without: below 1 when others (Chromium, the clients) took the cores serve had,
  //     a property of a 2-core box shared with a browser; and
  // (b) serve's CPU per point without ÷ with: below 1 when serving the pages costs serve itself CPU, ours, and when
  //     every CPU-second buys less beside a busy neighbour, the machine's (`box`, measured at the start): what is
  //     left after the machine's share is ours.
  const share = withPages.serveCores / ref.serveCores, perPoint = ref.serveMsPerK / withPages.serveMsPerK
  console.log(`  the drop: ${(withPages.rate / ref.rate).toFixed(2)} ≈ serve's cores with pages / without ${share.toFixed(2)} (the cores Chromium ${withPages.chromeCores.toFixed(2)} and the clients ${withPages.clientCores.toFixed(2)} left it: the box) × serve's CPU per point without / with ${perPoint.toFixed(2)} (of which the machine's, a busy neighbour: 1/${box.ratio.toFixed(2)}; ours, what serving the pages cost serve: ${Math.min(1, perPoint * box.ratio).toFixed(2)})`)
  console.log(`RESULT ${LOGGERS} loggers × ${PAGES} pages, same run: latency logged → drawn p95 ${pct(all, 0.95)} ms (target ≤ 2000); throughput with pages / without ${(withPages.rate / ref.rate).toFixed(2)}${rounds.length > 1 ? `, the median of ${rounds.length} rounds (${rounds.map((r) => r.ratio.toFixed(2)).join(', ')})` : ''} (target ≥ 0.90; with the pages on ended runs, no redraw: ${(atRest.rate / last.rate).toFixed(2)}; blank pages: ${(blank.rate / beforeBlank.rate).toFixed(2)}); serve CPU per point with pages / without ${(withPages.serveMsPerK / ref.serveMsPerK).toFixed(2)}; Chromium used ${withPages.chromeCores.toFixed(2)} of ${cpus().length} cores`)
} finally {
  await Promise.all([...running].map((l) => l.stop().catch(() => {})))
  await browser.close()
  for (const x of uiProcs) { x.kill('SIGINT'); await new Promise((r) => x.once('exit', r)) }
  if (serveProc) {
    serveProc.kill('SIGINT')
    await new Promise((r) => serveProc!.once('exit', r))
  }
  agent.destroy()
  repo.cleanup()
}
