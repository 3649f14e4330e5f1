// Many machines, one remote (issue 17): CLONES clones with RUNS new runs each all push at once to one bare remote
// served by `git daemon` on 127.0.0.1, with per-host refs (`labbook push --hosts`), for ROUNDS rounds (each round
// logs RUNS new runs per clone and pushes again). Printed, the three targets:
//   1. every run on the remote, and in a fresh clone's `labbook ls` after one `labbook pull` (CLONES×RUNS×ROUNDS);
//   2. push attempts per push (target ≤ 1.5);
//   3. wall time of the CLONES pushes at once vs ONE clone pushing the same number of runs (CLONES×RUNS) in one push
//      to an equal remote, measured in the same round, the two taking turns at going first (target ≤ 2×; median).
// Also: the fresh clone's pull of CLONES host refs as ONE merge commit vs a merge commit per ref (the previous way),
// same remote, same run (their trees must be equal); with --seq, one clone pushing CLONES pushes of RUNS one after
// another; with --shared, the same clones pushing to the shared branch at once (the previous way).
// Usage: npx tsx bench/push-hosts.ts [--clones 32] [--runs 10] [--rounds 3] [--processes] [--seq] [--shared]
//   --processes: each clone pushes from its own `labbook push` process (node dist/cli/main.js; `npm run build` first)
//   instead of concurrent pushes from this process (on a 2-core machine 32 Node start-ups cost more than the pushes).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import { join } from 'node:path'
import { Labbook } from '../src/index.js'
import { pull, push, type PullOptions, type PushResult } from '../src/sync/remote.js'
import { generateRuns } from './generate.js'

const arg = (name: string, def: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : def }
const CLONES = arg('clones', 32), RUNS = arg('runs', 10), ROUNDS = Math.max(1, arg('rounds', 3))
const PROCESSES = process.argv.includes('--processes'), SHARED = process.argv.includes('--shared'), SEQ = process.argv.includes('--seq')
const TOTAL = CLONES * RUNS
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname
const root = fs.mkdtempSync(join(os.tmpdir(), 'labbook-bench-hosts-'))
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 })
const gen = (dir: string, n: number, seed: number) => generateRuns(dir, n, { seed, experiments: 1, batch: Math.max(1, Math.ceil(RUNS / 10)), metrics: 3, params: 5 })
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!
let daemon: ChildProcess | undefined

/**
 * CPU time (ms) spent so far by this process, the children it waited for (git push, pack-objects…) and the daemon's
 * (receive-pack, index-pack…): what the pushes cost whatever else the machine is doing, beside the wall time.
 */
function cpuMs(): number {
  const ticks = (pid: number | string, fields: number[]) => {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // fields from 3 on: state is f[0]
    return fields.reduce((n, i) => n + Number(f[i - 3]), 0)
  }
  return (ticks('self', [14, 15, 16, 17]) + (daemon?.pid ? ticks(daemon.pid, [16, 17]) : 0)) * 10 // CLK_TCK 100
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
}

/** Every run id on the remote: the union over the shared branch and every host ref. */
function remoteRunIds(bare: string): Set<string> {
  const refs = git(root, '--git-dir', bare, 'for-each-ref', '--format=%(refname)', 'refs/heads/labbook', 'refs/labbook/hosts/').split('\n').filter(Boolean)
  const ids = new Set<string>()
  for (const ref of refs) {
    for (const p of git(root, '--git-dir', bare, 'ls-tree', '-r', '--name-only', ref, 'runs').split('\n')) {
      const m = /^runs\/[^/]+\/([^/]+)\/run\.yaml$/.exec(p)
      if (m) ids.add(m[1]!)
    }
  }
  return ids
}

/** Pushes from every clone at once; returns the wall time and each push's result. */
async function pushAll(dirs: string[], remote: string, mode: 'hosts' | 'shared'): Promise<{ ms: number; cpu: number; results: Array<Pick<PushResult, 'retries'>> }> {
  if (PROCESSES) {
    const t = performance.now(), c = cpuMs()
    const results = await Promise.all(dirs.map((dir) => new Promise<Pick<PushResult, 'retries'>>((resolve, reject) => {
      const p = spawn(process.execPath, [CLI, '--repo', dir, 'push', remote, `--${mode}`, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = '', err = ''
      p.stdout.on('data', (d) => (out += d))
      p.stderr.on('data', (d) => (err += d))
      p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`push from ${dir} failed: ${err}`))))
    })))
    return { ms: performance.now() - t, cpu: cpuMs() - c, results }
  }
  const books = await Promise.all(dirs.map((dir) => Labbook.open({ repo: dir })))
  const t = performance.now(), c = cpuMs()
  const results = await Promise.all(books.map((b) => push(b, remote, { mode, attempts: 50 })))
  const ms = performance.now() - t, cpu = cpuMs() - c
  await Promise.all(books.map((b) => b.close()))
  return { ms, cpu, results }
}

/** A fresh clone of `url` and one `labbook pull`, timed; what it then lists. */
async function freshPull(url: string, name: string, merge: PullOptions['merge']) {
  const dir = join(root, name)
  git(root, 'clone', '-q', url, dir)
  const t = performance.now()
  const book = await Labbook.open({ repo: dir })
  const pulled = await pull(book, 'origin', { merge })
  const ms = performance.now() - t
  const listed = (await book.listRuns({ includeDeleted: true })).length
  await book.close()
  execFileSync('git', ['--git-dir', join(dir, '.git'), 'fsck', '--strict', '--no-dangling'], { stdio: 'pipe' })
  return { ms, listed, hosts: pulled.hosts, merges: Number(git(dir, 'rev-list', '--count', '--min-parents=2', 'labbook', '--not', '--remotes', '--glob=refs/labbook/remotes/*').trim()), tree: git(dir, 'rev-parse', 'labbook^{tree}').trim() }
}

try {
  const seed = join(root, 'seed')
  fs.mkdirSync(seed)
  git(seed, 'init', '-q', '-b', 'main')
  git(seed, '-c', 'user.name=b', '-c', 'user.email=b@x', 'commit', '-q', '--allow-empty', '-m', 'init')
  for (const r of ['hosts.git', 'one.git', 'seq.git', 'shared.git']) git(root, 'clone', '-q', '--bare', 'seed', r)
  const port = await freePort()
  // --max-connections=0: no limit (git daemon's default, 32, would turn the 33rd connection away).
  daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', '--enable=receive-pack', '--max-connections=0', '--listen=127.0.0.1', `--port=${port}`, `--base-path=${root}`, root], { stdio: 'ignore' })
  const url = (name: string) => `git://127.0.0.1:${port}/${name}`
  for (let i = 0; ; i++) {
    try { git(root, 'ls-remote', url('hosts.git')); break } catch (e) { if (i > 100) throw e; await new Promise((r) => setTimeout(r, 100)) }
  }
  const dirs = Array.from({ length: CLONES }, (_, c) => join(root, `clone-${c}`))
  for (const dir of dirs) {
    git(root, 'clone', '-q', 'hosts.git', dir)
    git(dir, 'remote', 'set-url', 'origin', url('hosts.git'))
  }
  const one = join(root, 'one')
  git(root, 'clone', '-q', 'one.git', one)
  git(one, 'remote', 'set-url', 'origin', url('one.git'))
  console.log(`${CLONES} clones x ${RUNS} runs, ${ROUNDS} rounds, against one clone pushing ${TOTAL} runs per round; pushes ${PROCESSES ? 'from one process per clone' : 'concurrent from this process'}; load average ${os.loadavg()[0]!.toFixed(1)}`)

  const ratios: number[] = [], cpuRatios: number[] = []
  const attempts: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const [c, dir] of dirs.entries()) await gen(dir, RUNS, 1 + c + round * 1000)
    await gen(one, TOTAL, 999 + round * 1000)
    // The two take turns at going first (page cache, the daemon's warm-up).
    let ref = { ms: 0, cpu: 0 }, hosts = { ms: 0, cpu: 0, results: [] as Array<Pick<PushResult, 'retries'>> }
    if (round % 2 === 0) { ref = await pushAll([one], 'origin', 'shared'); hosts = await pushAll(dirs, 'origin', 'hosts') }
    else { hosts = await pushAll(dirs, 'origin', 'hosts'); ref = await pushAll([one], 'origin', 'shared') }
    attempts.push(...hosts.results.map((r) => 1 + r.retries))
    ratios.push(hosts.ms / ref.ms)
    cpuRatios.push(hosts.cpu / ref.cpu)
    console.log(`round ${round + 1}: ${CLONES} pushes at once ${Math.round(hosts.ms)} ms vs one push of ${TOTAL} runs ${Math.round(ref.ms)} ms: ${(hosts.ms / ref.ms).toFixed(2)}x (CPU ${hosts.cpu} vs ${ref.cpu} ms: ${(hosts.cpu / ref.cpu).toFixed(2)}x); attempts ${(hosts.results.reduce((n, r) => n + 1 + r.retries, 0) / CLONES).toFixed(2)} per push; load ${os.loadavg()[0]!.toFixed(1)}`)
  }
  const expected = TOTAL * ROUNDS
  const onRemote = remoteRunIds(join(root, 'hosts.git')).size
  execFileSync('git', ['--git-dir', join(root, 'hosts.git'), 'fsck', '--strict', '--no-dangling'], { stdio: 'pipe' })
  // A fresh clone's pull: one merge commit, and the previous way (a merge commit per ref) for reference.
  const pulls = [await freshPull(url('hosts.git'), 'fresh-one', 'one'), await freshPull(url('hosts.git'), 'fresh-per-ref', 'per-ref')]
  const [p1, p2] = pulls as [typeof pulls[0], typeof pulls[0]]
  const perPush = attempts.reduce((a, b) => a + b, 0) / attempts.length
  console.log(`fresh clone's pull of ${p1.hosts} host refs: ONE merge ${Math.round(p1.ms)} ms (${p1.merges} merge commit) vs a merge per ref ${Math.round(p2.ms)} ms (${p2.merges} merge commits): ${(p2.ms / p1.ms).toFixed(1)}x faster; same tree: ${p1.tree === p2.tree}`)
  console.log(`RESULT runs ${onRemote}/${expected} on the remote, ${p1.listed}/${expected} in a fresh clone's ls after one pull (target all)`)
  console.log(`RESULT attempts per push ${perPush.toFixed(2)} over ${attempts.length} pushes (target <= 1.5)`)
  console.log(`RESULT wall ${CLONES} clones at once vs one clone pushing ${TOTAL} runs: ${median(ratios).toFixed(2)}x median of ${ROUNDS} rounds (${ratios.map((r) => r.toFixed(2)).join(', ')}) (target <= 2x); CPU ${median(cpuRatios).toFixed(2)}x`)
  if (onRemote !== expected || p1.listed !== expected || p2.listed !== expected || p1.tree !== p2.tree || p1.merges !== 1) process.exitCode = 1

  if (SEQ) {
    // One clone pushing the same CLONES pushes of RUNS runs, one after another (the pushes timed).
    const seq = join(root, 'seq')
    git(root, 'clone', '-q', 'seq.git', seq)
    git(seq, 'remote', 'set-url', 'origin', url('seq.git'))
    let seqMs = 0
    const seqBook = await Labbook.open({ repo: seq })
    for (let c = 0; c < CLONES; c++) {
      await gen(seq, RUNS, 5000 + c)
      const t = performance.now()
      await push(seqBook, 'origin', { mode: 'shared' })
      seqMs += performance.now() - t
    }
    await seqBook.close()
    console.log(`one clone pushing ${CLONES} pushes of ${RUNS} runs one after another: ${Math.round(seqMs)} ms`)
  }
  if (SHARED) {
    for (const dir of dirs) git(dir, 'remote', 'set-url', 'origin', url('shared.git'))
    const shared = await pushAll(dirs, 'origin', 'shared')
    const a2 = shared.results.reduce((n, r) => n + 1 + r.retries, 0) / shared.results.length
    const n2 = remoteRunIds(join(root, 'shared.git')).size
    console.log(`shared branch (the previous way), same clones: ${n2}/${expected} runs on the remote; attempts per push ${a2.toFixed(2)}; wall ${Math.round(shared.ms)} ms`)
  }
} finally {
  daemon?.kill()
  fs.rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })
}
