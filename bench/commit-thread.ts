// The commit thread (src/track/commit-thread.ts) through `labbook serve`: 20 keep-alive clients (a process of their
// own, as k6) x PER creates, the server in a process of its own per round, alternating with the thread
// ($LABBOOK_COMMIT_THREAD=1, what `labbook serve` does) and without it (=0, the group commit on the event loop: the
// reference, same run). Per round: average create latency, creates/s, the event loop's CPU a create during the phase
// (main thread utime+stime from /proc), the whole process's CPU a create (the thread included) up to the last commit,
// and how long the last commits took after the clients stopped. Prints each round and the medians.
//   nice -n 10 npx tsx bench/commit-thread.ts [--rounds 3] [--per 50]
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : d
}
const PER = arg('per', 50)
const CLIENTS = 20
interface Round { avg: number; perSec: number; loopPhase: number; procAll: number; tailMs: number }

if (process.argv.includes('--round')) {
  // one server, one phase: this process is the server
  const { Labbook } = await import('../src/index.ts')
  const { serve } = await import('../src/server/index.ts')
  const d = mkdtempSync(join(os.tmpdir(), 'labbook-commit-thread-'))
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: d })
  execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '--allow-empty', '-m', 'init'], { cwd: d })
  const book = await Labbook.open({ repo: d })
  const srv = await serve({ book, port: 0 })
  const loopCpuMs = () => {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100 // utime + stime of the main thread, USER_HZ 100
  }
  const procCpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }
  const clients = (n: number, per: number) => new Promise<{ avg: number; perSec: number; n: number }>((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, join(import.meta.dirname, 'mlflow-calls.ts'), '--clients-of', srv.url, 'create', String(n), String(per), ''], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    p.stdout.on('data', (x) => (out += x))
    p.on('close', (c) => (c === 0 ? resolve(JSON.parse(out)) : reject(new Error(`clients exited ${c}`))))
  })
  await clients(CLIENTS, 2) // warm up (and the thread started)
  await book.flush()
  const l0 = loopCpuMs(), p0 = procCpuMs()
  const r = await clients(CLIENTS, PER)
  const l1 = loopCpuMs()
  const t = performance.now()
  await book.flush()
  const tailMs = performance.now() - t
  const p2 = procCpuMs()
  const out: Round = { avg: r.avg, perSec: r.perSec, loopPhase: (l1 - l0) / r.n, procAll: (p2 - p0) / r.n, tailMs }
  await srv.close()
  await book.close()
  execFileSync('git', ['fsck', '--strict', '--no-progress'], { cwd: d, stdio: 'ignore' }) // throws if not clean
  rmSync(d, { recursive: true, force: true })
  console.log(JSON.stringify(out))
  process.exit(0)
}

const round = (thread: boolean) => JSON.parse(execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, '--round', '--per', String(PER)], { env: { ...process.env, LABBOOK_COMMIT_THREAD: thread ? '1' : '0' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!) as Round
const rounds = arg('rounds', 3)
const res: Record<'thread' | 'loop', Round[]> = { thread: [], loop: [] }
const fmt = (r: Round) => `avg ${r.avg.toFixed(1)} ms, ${r.perSec.toFixed(0)}/s, event loop ${r.loopPhase.toFixed(2)} ms a create, process ${r.procAll.toFixed(2)} ms a create, last commits ${r.tailMs.toFixed(0)} ms after`
for (let i = 0; i < rounds; i++) {
  for (const k of (i % 2 ? ['loop', 'thread'] : ['thread', 'loop']) as Array<'thread' | 'loop'>) {
    const r = round(k === 'thread')
    res[k].push(r)
    console.log(`round ${i + 1} ${k === 'thread' ? 'commit thread      ' : 'on the event loop  '} ${fmt(r)} (load ${os.loadavg()[0]!.toFixed(1)})`)
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const m = (k: 'thread' | 'loop') => ({ avg: med(res[k].map((r) => r.avg)), perSec: med(res[k].map((r) => r.perSec)), loopPhase: med(res[k].map((r) => r.loopPhase)), procAll: med(res[k].map((r) => r.procAll)), tailMs: med(res[k].map((r) => r.tailMs)) })
const a = m('thread'), b = m('loop')
console.log(`${CLIENTS} clients x ${PER} creates, medians of ${rounds} alternating rounds:`)
console.log(`  commit thread (labbook serve)     ${fmt(a)}`)
console.log(`  group commit on the event loop    ${fmt(b)}`)
console.log(`  thread / loop: event-loop CPU a create ${(a.loopPhase / b.loopPhase).toFixed(2)}x, process CPU ${(a.procAll / b.procAll).toFixed(2)}x, latency ${(a.avg / b.avg).toFixed(2)}x (target: <= 12.7 ms avg, <= 0.63 ms of event loop a create)`)
