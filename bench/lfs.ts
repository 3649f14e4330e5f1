// Git LFS benchmark, each figure beside a reference measured in the same run:
//  1. `labbook push` of N runs holding TOTAL MB of large artifacts vs the plain-git equivalent to an equal fresh
//     remote: `git lfs push --object-id` of the same objects, then `git push` of the same branch and notes refs
//     (target: ≤ 1.2× its time);
//  2. a 1 GB artifact through the MLflow artifact proxy of a server process: its RSS growth (target < 100 MB) vs the
//     growth of reading the same artifact whole (the buffered way).
// Usage: npx tsx bench/lfs.ts [--runs 20] [--mb 1024] [--proxy-mb 1024] [--rounds 3]
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import { join } from 'node:path'
import { Labbook } from '../src/index.js'
import { lfsHelperDir, lfsPointersToPush } from '../src/store/lfs-transfer.js'
import { push } from '../src/sync/remote.js'

const arg = (name: string, def: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : def }
const RUNS = arg('runs', 20), MB = arg('mb', 1024), PROXY_MB = arg('proxy-mb', 1024), ROUNDS = arg('rounds', 3)
const root = fs.mkdtempSync(join(os.tmpdir(), 'labbook-bench-lfs-'))
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' })
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

function randomFile(file: string, mb: number): void {
  const fd = fs.openSync(file, 'w')
  for (let i = 0; i < mb; i++) fs.writeSync(fd, randomBytes(1 << 20))
  fs.closeSync(fd)
}

try {
  fs.mkdirSync(join(root, 'seed'))
  git(join(root, 'seed'), 'init', '-q', '-b', 'main')
  git(join(root, 'seed'), '-c', 'user.name=b', '-c', 'user.email=b@x', 'commit', '-q', '--allow-empty', '-m', 'init')
  git(root, 'clone', '-q', 'seed', 'a')
  const a = join(root, 'a')
  const book = await Labbook.open({ repo: a })
  const per = Math.max(1, Math.round(MB / RUNS))
  for (let i = 0; i < RUNS; i++) {
    const f = join(root, `ckpt-${i}.bin`)
    randomFile(f, per)
    const run = await book.startRun({ name: `run-${i}` })
    await run.logArtifact(f)
    await run.end()
    fs.rmSync(f)
  }
  const oids = (await lfsPointersToPush(join(a, '.git'), book.objects, (await book.tip())!, [])).map((p) => p.oid)
  console.log(`${RUNS} runs, ${oids.length} LFS objects, ${RUNS * per} MB`)
  if (oids.length !== RUNS) throw new Error(`expected ${RUNS} LFS objects: each run's ${per} MiB must be over the 10 MiB threshold (raise --mb or lower --runs)`)

  // 1. push: ours and the reference, ROUNDS rounds, each to a fresh bare remote.
  const ours: number[] = [], plain: number[] = []
  const helper = lfsHelperDir(join(a, '.git')) // git lfs runs where labbook runs it, so both skip the same setup
  for (let round = 0; round < ROUNDS; round++) {
    const r1 = join(root, `ours-${round}.git`), r2 = join(root, `plain-${round}.git`)
    git(root, 'init', '-q', '--bare', r1)
    git(root, 'init', '-q', '--bare', r2)
    const tip = git(a, 'rev-parse', 'refs/heads/labbook').trim(), notes = git(a, 'rev-parse', 'refs/notes/labbook').trim()
    const reference = () => {
      const t = performance.now()
      const res = spawnSync('git', ['lfs', 'push', '--object-id', `file://${r2}`, ...oids], { cwd: helper, env: { ...process.env, GIT_DIR: helper }, stdio: ['ignore', 'ignore', 'pipe'] })
      if (res.status !== 0) throw new Error(`git lfs push: status ${res.status} ${res.error?.message ?? ''} ${res.stderr}`)
      git(a, 'push', '--porcelain', '--quiet', r2, `${tip}:refs/heads/labbook`, `${notes}:refs/notes/labbook`)
      plain.push(performance.now() - t)
    }
    if (round % 2 === 0) reference() // alternate who goes first, so neither always reads a warm page cache
    const t = performance.now()
    const pushed = await push(book, r1)
    ours.push(performance.now() - t)
    if (round % 2 === 1) reference()
    if (pushed.lfsObjects !== oids.length) throw new Error(`pushed ${pushed.lfsObjects} objects, expected ${oids.length}`)
    fs.rmSync(r1, { recursive: true, force: true })
    fs.rmSync(r2, { recursive: true, force: true })
  }
  const o = median(ours), p = median(plain)
  console.log(`  rounds (ms): labbook push ${ours.map(Math.round).join(', ')}; reference ${plain.map(Math.round).join(', ')}`)
  console.log(`push ${RUNS * per} MB in ${RUNS} runs: labbook push ${Math.round(o)} ms (branch + LFS objects) vs git lfs push --object-id + git push ${Math.round(p)} ms: ${(o / p).toFixed(2)}x   target <= 1.2x`)
  await book.close()

  // 2. memory: a PROXY_MB artifact through a server process, streamed vs read whole.
  const big = join(root, 'proxy.bin')
  randomFile(big, PROXY_MB)
  const b2 = await Labbook.open({ repo: a })
  const run = await b2.startRun({ name: 'proxy' })
  await run.logArtifact(big)
  await run.end()
  fs.rmSync(big)
  const exp = (await b2.getRun(run.id)).experiment
  await b2.close()
  const helperScript = new URL('../test/helpers/serve-process.ts', import.meta.url).pathname
  const srv = spawn(process.execPath, ['--import', 'tsx', helperScript, a], { stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise<string>((resolve) => { let out = ''; srv.stdout!.on('data', (d) => { out += d; const m = /url (\S+)/.exec(out); if (m) resolve(m[1]!) }) })
  const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${srv.pid}/status`, 'utf8'))![1]) * 1024
  const download = (onData: () => void) => new Promise<{ bytes: number; sha: string }>((resolve, reject) => {
    http.get(`${url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${run.id}/artifacts/proxy.bin`, (res) => {
      const h = createHash('sha256'); let bytes = 0
      res.on('data', (c: Buffer) => { h.update(c); bytes += c.length; onData() })
      res.on('end', () => resolve({ bytes, sha: h.digest('hex') }))
    }).on('error', reject)
  })
  await download(() => {})
  const base = rss()
  let peak = base
  const t = performance.now()
  const got = await download(() => { peak = Math.max(peak, rss()) })
  const secs = (performance.now() - t) / 1000
  srv.kill('SIGTERM')
  const buffered = execFileSync(process.execPath, ['--import', 'tsx', helperScript, a, 'buffer', run.id, 'proxy.bin'], { encoding: 'utf8' })
  const growth = Number(/rss-growth (\d+)/.exec(buffered)![1])
  console.log(`proxy ${PROXY_MB} MB (${(got.bytes / 1048576).toFixed(0)} MB received, ${(got.bytes / 1048576 / secs).toFixed(0)} MB/s): server RSS growth ${((peak - base) / 1048576).toFixed(1)} MB streamed   target < 100 MB;` +
    ` reference: reading it whole grows RSS by ${(growth / 1048576).toFixed(0)} MB`)
} finally {
  fs.rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })
}
