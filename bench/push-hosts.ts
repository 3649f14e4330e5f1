// Many machines, one remote (issue 17): CLONES clones with RUNS new runs each all push at once to one bare remote
// served by `git daemon` on 127.0.0.1, with per-host refs (`labbook push --hosts`), for ROUNDS rounds (each round
// logs RUNS new runs per clone and pushes again). Printed, the three targets:
//   1. every run on the remote, and in a fresh clone's `labbook ls` after one `labbook pull` (CLONES×RUNS×ROUNDS);
//   2. push attempts per push (target ≤ 1.5);
//   3. wall time of the CLONES pushes at once vs ONE clone pushing the same number of runs (CLONES×RUNS) in one push
//      to an equal remote, measured in the same round, the two taking turns at going first (target ≤ 2×; median).
// Beside it, same round: the same clones' commits pushed with plain `git push` at once (the same refspecs) to an equal
// remote: what git itself costs for 32 pushes, the floor labbook's own per-push cost sits on.
// How 32 machines on one box are accounted for: every client (labbook's push, git push, pack-objects), the daemon and
// its receive-packs share this machine's cores. Wall time is printed as the issue asks; beside it CPU split into the
// clients' side (this process and the git processes it waited for) and the remote's side (the daemon's reaped
// receive-pack, unpack-objects/index-pack, rev-list and gc processes). A fleet runs each client on its own machine,
// so here the wall ratio also pays 32 clients' CPU on 2 cores: an upper bound; the remote's CPU ratio is what the one
// shared remote pays.
// Also: the fresh clone's pull of CLONES host refs as ONE merge commit vs a merge commit per ref (the previous way),
// same remote, same run (their trees must be equal); with --seq, one clone pushing CLONES pushes of RUNS one after
// another; with --shared, the same clones pushing to the shared branch at once (the previous way).
// Usage: npx tsx bench/push-hosts.ts [--clones 32] [--runs 10] [--rounds 3] [--processes] [--seq] [--shared] [--keep-packs]
//   --processes: each clone pushes from its own `labbook push` process (node dist/cli/main.js; `npm run build` first)
//   instead of concurrent pushes from this process (on a 2-core machine 32 Node start-ups cost more than the pushes).
//   --keep-packs: the remotes keep every received pack (git config transfer.unpackLimit 1) instead of git's default,
//   which explodes packs under 100 objects (a push of 10 runs) into loose objects and indexes larger ones (the one push).
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
const KEEP_PACKS = process.argv.includes('--keep-packs')
const TOTAL = CLONES * RUNS
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname
const root = fs.mkdtempSync(join(os.tmpdir(), 'labbook-bench-hosts-'))
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 })
const gen = (dir: string, n: number, seed: number) => generateRuns(dir, n, { seed, experiments: 1, batch: Math.max(1, Math.ceil(RUNS / 10)), metrics: 3, params: 5 })
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!
let daemon: ChildProcess | undefined

interface Cpu { client: number; remote: number }

/**
 * CPU time (ms) spent so far on the clients' side (this process and the children it waited for: git push,
 * pack-objects, labbook push processes) and on the remote's side (the daemon's reaped children: git daemon --serve,
 * receive-pack, unpack-objects/index-pack, rev-list, gc --auto): what the pushes cost whatever else the machine is
 * doing, beside the wall time. The daemon is git-daemon itself (not the `git daemon` wrapper, which would hold its
 * children's time until it exits).
 */
function cpuMs(): Cpu {
  const ticks = (pid: number | string, fields: number[]) => {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // fields from 3 on: state is f[0]
    return fields.reduce((n, i) => n + Number(f[i - 3]), 0)
  }
  return { client: ticks('self', [14, 15, 16, 17]) * 10, remote: daemon?.pid ? ticks(daemon.pid, [16, 17]) * 10 : 0 } // CLK_TCK 100
}

/** Waits (up to 10 s) until the daemon has no child left: a receive-pack may still run `gc --auto` after it answered. */
async function daemonIdle(): Promise<void> {
  for (let i = 0; i < 200 && daemon?.pid; i++) {
    const kids = fs.readFileSync(`/proc/${daemon.pid}/task/${daemon.pid}/children`, 'utf8').trim()
    if (!kids) return
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Times `f` (wall until it resolves) and its CPU on both sides (read once the remote is idle again). */
async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; cpu: Cpu; value: T }> {
  await daemonIdle()
  const c = cpuMs(), t = performance.now()
  const value = await f()
  const ms = performance.now() - t
  await daemonIdle()
  const d = cpuMs()
  return { ms, cpu: { client: d.client - c.client, remote: d.remote - c.remote }, value }
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

type Timed = { ms: number; cpu: Cpu }

/** Pushes from every clone at once; returns the wall time, the CPU on both sides and each push's result. */
async function pushAll(dirs: string[], remote: string, mode: 'hosts' | 'shared'): Promise<Timed & { results: Array<Pick<PushResult, 'retries'>> }> {
  if (PROCESSES) {
    const { ms, cpu, value } = await timed(() => Promise.all(dirs.map((dir) => new Promise<Pick<PushResult, 'retries'>>((resolve, reject) => {
      const p = spawn(process.execPath, [CLI, '--repo', dir, 'push', remote, `--${mode}`, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = '', err = ''
      p.stdout.on('data', (d) => (out += d))
      p.stderr.on('data', (d) => (err += d))
      p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`push from ${dir} failed: ${err}`))))
    }))))
    return { ms, cpu, results: value }
  }
  const books = await Promise.all(dirs.map((dir) => Labbook.open({ repo: dir })))
  const { ms, cpu, value } = await timed(() => Promise.all(books.map((b) => push(b, remote, { mode, attempts: 50 }))))
  await Promise.all(books.map((b) => b.close()))
  return { ms, cpu, results: value }
}

/**
 * The floor: the same commits pushed with plain `git push` from every clone at once to `url` (an equal remote), with
 * the refspecs labbook's hosts mode uses (the host ref, the shared branch best effort, and the notes when there are).
 */
function plainPushAll(dirs: string[], url: string): Promise<Timed> {
  return timed(() => Promise.all(dirs.map((dir, c) => new Promise<void>((resolve, reject) => {
    const notes = git(dir, 'for-each-ref', '--format=%(objectname)', 'refs/notes/labbook').trim()
    const specs = [`labbook:refs/labbook/hosts/plain-${c}`, 'labbook:refs/heads/labbook', ...(notes ? [`refs/notes/labbook:refs/labbook/host-notes/plain-${c}`, 'refs/notes/labbook:refs/notes/labbook'] : [])]
    const p = spawn('git', ['push', '--porcelain', '--quiet', url, ...specs], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    p.stdout.on('data', (d) => (out += d))
    // exit 1 when the best-effort shared branch lost the race; the host ref must have moved
    p.on('close', (code) => (code === 0 || (code === 1 && new RegExp(`^[ *]\t[^\t]*:refs/labbook/hosts/plain-${c}\t`, 'm').test(out)) ? resolve() : reject(new Error(`plain push from ${dir} failed (${code}): ${out}`))))
  }))))
}

const show = (t: Timed) => `${Math.round(t.ms)} ms (CPU clients ${t.cpu.client} ms, remote ${t.cpu.remote} ms)`

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
  for (const r of ['hosts.git', 'one.git', 'plain.git', 'seq.git', 'shared.git']) {
    git(root, 'clone', '-q', '--bare', 'seed', r)
    if (KEEP_PACKS) git(join(root, r), 'config', 'transfer.unpackLimit', '1')
  }
  const port = await freePort()
  // --max-connections=0: no limit (git daemon's default, 32, would turn the 33rd connection away).
  daemon = spawn(join(git(root, '--exec-path').trim(), 'git-daemon'), ['--reuseaddr', '--export-all', '--enable=receive-pack', '--max-connections=0', '--listen=127.0.0.1', `--port=${port}`, `--base-path=${root}`, root], { stdio: 'ignore' })
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
  console.log(`${CLONES} clones x ${RUNS} runs, ${ROUNDS} rounds, against one clone pushing ${TOTAL} runs per round; pushes ${PROCESSES ? 'from one process per clone' : 'concurrent from this process'}; remotes ${KEEP_PACKS ? 'keep every pack (transfer.unpackLimit 1)' : "with git's default unpack limit"}; ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)}`)

  const ratios: number[] = [], cpuRatios: number[] = [], remoteRatios: number[] = [], floorRatios: number[] = [], overheads: number[] = []
  const attempts: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const [c, dir] of dirs.entries()) await gen(dir, RUNS, 1 + c + round * 1000)
    await gen(one, TOTAL, 999 + round * 1000)
    // The three take turns at going first (page cache, the daemon's warm-up).
    let ref: Timed = { ms: 0, cpu: { client: 0, remote: 0 } }, floor = ref, hosts = { ...ref, results: [] as Array<Pick<PushResult, 'retries'>> }
    const steps = [
      async () => { ref = await pushAll([one], 'origin', 'shared') },
      async () => { hosts = await pushAll(dirs, 'origin', 'hosts') },
      async () => { floor = await plainPushAll(dirs, url('plain.git')) },
    ]
    for (let k = 0; k < steps.length; k++) await steps[(k + round) % steps.length]!()
    const cpu = (t: Timed) => t.cpu.client + t.cpu.remote
    attempts.push(...hosts.results.map((r) => 1 + r.retries))
    ratios.push(hosts.ms / ref.ms)
    cpuRatios.push(cpu(hosts) / cpu(ref))
    remoteRatios.push(hosts.cpu.remote / ref.cpu.remote)
    floorRatios.push(floor.ms / ref.ms)
    overheads.push((cpu(hosts) - cpu(floor)) / CLONES)
    console.log(`round ${round + 1}: ${CLONES} labbook pushes at once ${show(hosts)}; one push of ${TOTAL} runs ${show(ref)}; the same ${CLONES} pushes with plain git at once ${show(floor)}`)
    console.log(`  wall ${(hosts.ms / ref.ms).toFixed(2)}x the one push (plain git: ${(floor.ms / ref.ms).toFixed(2)}x); CPU ${(cpu(hosts) / cpu(ref)).toFixed(2)}x (remote's side ${(hosts.cpu.remote / ref.cpu.remote).toFixed(2)}x); labbook's own CPU over plain git ${((cpu(hosts) - cpu(floor)) / CLONES).toFixed(1)} ms per push; attempts ${(hosts.results.reduce((n, r) => n + 1 + r.retries, 0) / CLONES).toFixed(2)} per push; load ${os.loadavg()[0]!.toFixed(1)}`)
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
  console.log(`RESULT wall ${CLONES} clones at once vs one clone pushing ${TOTAL} runs: ${median(ratios).toFixed(2)}x median of ${ROUNDS} rounds (${ratios.map((r) => r.toFixed(2)).join(', ')}) (target <= 2x); CPU ${median(cpuRatios).toFixed(2)}x, the remote's side ${median(remoteRatios).toFixed(2)}x`)
  console.log(`RESULT floor: the same ${CLONES} pushes with plain git at once vs the one push: ${median(floorRatios).toFixed(2)}x wall median (${floorRatios.map((r) => r.toFixed(2)).join(', ')}); labbook's own CPU over plain git ${median(overheads).toFixed(1)} ms per push (median)`)
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
