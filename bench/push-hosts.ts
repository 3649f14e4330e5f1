// Many machines, one remote (issue 17): CLONES clones with RUNS new runs each all push at once to one bare remote
// served by `git daemon` on 127.0.0.1, with per-host refs (`labbook push --hosts`). Checked: every run is on the
// remote and in a fresh clone's `labbook ls` after `labbook pull`; push attempts per push (target ≤ 1.5).
// References, same run: one clone pushing all CLONES × RUNS runs to an equal fresh remote in one push (target: wall
// ≤ 2× its time), and the same clone-count of pushes of RUNS runs from one clone, one after another.
// Also, unless --no-shared: the same clones pushing to the shared branch at once (the previous way; attempts, wall).
// Usage: npx tsx bench/push-hosts.ts [--clones 32] [--runs 10] [--processes] [--no-shared]
//   --processes: each clone pushes from its own `labbook push` process (node dist/cli/main.js; `npm run build` first)
//   instead of concurrent pushes from this process (on a 2-core machine 32 Node start-ups cost more than the pushes).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import { join } from 'node:path'
import { Labbook } from '../src/index.js'
import { pull, push, type PushResult } from '../src/sync/remote.js'
import { generateRuns } from './generate.js'

const arg = (name: string, def: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : def }
const CLONES = arg('clones', 32), RUNS = arg('runs', 10), PROCESSES = process.argv.includes('--processes'), SHARED = !process.argv.includes('--no-shared')
const TOTAL = CLONES * RUNS
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname
const root = fs.mkdtempSync(join(os.tmpdir(), 'labbook-bench-hosts-'))
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
let daemon: ChildProcess | undefined

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
async function pushAll(dirs: string[], remote: string, mode: 'hosts' | 'shared'): Promise<{ ms: number; results: Array<Pick<PushResult, 'retries'>> }> {
  const t = performance.now()
  let results: Array<Pick<PushResult, 'retries'>>
  if (PROCESSES) {
    results = await Promise.all(dirs.map((dir) => new Promise<Pick<PushResult, 'retries'>>((resolve, reject) => {
      const p = spawn(process.execPath, [CLI, '--repo', dir, 'push', remote, `--${mode}`, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = '', err = ''
      p.stdout.on('data', (d) => (out += d))
      p.stderr.on('data', (d) => (err += d))
      p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`push from ${dir} failed: ${err}`))))
    })))
  } else {
    const books = await Promise.all(dirs.map((dir) => Labbook.open({ repo: dir })))
    const t2 = performance.now()
    results = await Promise.all(books.map((b) => push(b, remote, { mode, attempts: 50 })))
    const ms = performance.now() - t2
    await Promise.all(books.map((b) => b.close()))
    return { ms, results }
  }
  return { ms: performance.now() - t, results }
}

try {
  const seed = join(root, 'seed')
  fs.mkdirSync(seed)
  git(seed, 'init', '-q', '-b', 'main')
  git(seed, '-c', 'user.name=b', '-c', 'user.email=b@x', 'commit', '-q', '--allow-empty', '-m', 'init')
  for (const r of ['hosts.git', 'one.git', 'seq.git', 'shared.git']) git(root, 'clone', '-q', '--bare', 'seed', r)
  const port = await freePort()
  daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', '--enable=receive-pack', '--listen=127.0.0.1', `--port=${port}`, `--base-path=${root}`, root], { stdio: 'ignore' })
  const url = (name: string) => `git://127.0.0.1:${port}/${name}`
  for (let i = 0; ; i++) {
    try { git(root, 'ls-remote', url('hosts.git')); break } catch (e) { if (i > 100) throw e; await new Promise((r) => setTimeout(r, 100)) }
  }

  const t0 = performance.now()
  const dirs: string[] = []
  for (let c = 0; c < CLONES; c++) {
    const dir = join(root, `clone-${c}`)
    git(root, 'clone', '-q', 'hosts.git', dir)
    git(dir, 'remote', 'set-url', 'origin', url('hosts.git'))
    await generateRuns(dir, RUNS, { seed: c + 1, experiments: 1, batch: Math.max(1, Math.ceil(RUNS / 10)), metrics: 3, params: 5 })
    dirs.push(dir)
  }
  const one = join(root, 'one')
  git(root, 'clone', '-q', 'one.git', one)
  git(one, 'remote', 'set-url', 'origin', url('one.git'))
  await generateRuns(one, TOTAL, { seed: 999, experiments: 1, batch: Math.max(1, Math.ceil(RUNS / 10)), metrics: 3, params: 5 })
  const seq = join(root, 'seq')
  git(root, 'clone', '-q', 'seq.git', seq)
  git(seq, 'remote', 'set-url', 'origin', url('seq.git'))
  console.log(`setup: ${CLONES} clones x ${RUNS} runs and one clone with ${TOTAL} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s; pushes ${PROCESSES ? 'from one process per clone' : 'concurrent from this process'}`)

  // Reference: one clone pushing every run.
  const ref = await pushAll([one], 'origin', 'shared')
  // Second reference: one clone pushing the same runs in the same CLONES pushes of RUNS, one after another (the pushes timed).
  let seqMs = 0
  const seqBook = await Labbook.open({ repo: seq })
  for (let c = 0; c < CLONES; c++) {
    await generateRuns(seq, RUNS, { seed: 1000 + c, experiments: 1, batch: Math.max(1, Math.ceil(RUNS / 10)), metrics: 3, params: 5 })
    const t = performance.now()
    await push(seqBook, 'origin', { mode: 'shared' })
    seqMs += performance.now() - t
  }
  await seqBook.close()
  // Per-host refs: every clone at once.
  const hosts = await pushAll(dirs, 'origin', 'hosts')
  const attempts = hosts.results.reduce((n, r) => n + 1 + r.retries, 0) / hosts.results.length
  const onRemote = remoteRunIds(join(root, 'hosts.git')).size
  execFileSync('git', ['--git-dir', join(root, 'hosts.git'), 'fsck', '--strict', '--no-dangling'], { stdio: 'pipe' })
  const fresh = join(root, 'fresh')
  git(root, 'clone', '-q', url('hosts.git'), fresh)
  const tp = performance.now()
  const book = await Labbook.open({ repo: fresh })
  const pulled = await pull(book)
  const pullMs = performance.now() - tp
  const listed = (await book.listRuns({ includeDeleted: true })).length
  await book.close()
  console.log(`hosts: ${onRemote}/${TOTAL} runs on the remote (${pulled.hosts} host refs), ${listed}/${TOTAL} in a fresh clone's ls after one pull (${Math.round(pullMs)} ms); ` +
    `attempts per push ${attempts.toFixed(2)} (target <= 1.5); wall ${Math.round(hosts.ms)} ms vs one clone pushing ${TOTAL} runs ${Math.round(ref.ms)} ms in one push: ${(hosts.ms / ref.ms).toFixed(2)}x (target <= 2x), ` +
    `or ${Math.round(seqMs)} ms in ${CLONES} pushes of ${RUNS} one after another: ${(hosts.ms / seqMs).toFixed(2)}x`)
  if (onRemote !== TOTAL || listed !== TOTAL) process.exitCode = 1

  if (SHARED) {
    for (const dir of dirs) git(dir, 'remote', 'set-url', 'origin', url('shared.git'))
    const shared = await pushAll(dirs, 'origin', 'shared')
    const a2 = shared.results.reduce((n, r) => n + 1 + r.retries, 0) / shared.results.length
    const n2 = remoteRunIds(join(root, 'shared.git')).size
    console.log(`shared branch (the previous way), same clones: ${n2}/${TOTAL} runs on the remote; attempts per push ${a2.toFixed(2)}; wall ${Math.round(shared.ms)} ms: ${(shared.ms / ref.ms).toFixed(2)}x the reference`)
  }
} finally {
  daemon?.kill()
  fs.rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })
}
