// Large artifacts through Git LFS with real components: two clones, a bare remote (git-lfs's standalone file
// transfer), the real git-lfs client, the real HTTP server, a real site build.
import { execFileSync, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { encodePointer } from '../../src/track/artifacts.js'
import { Labbook } from '../../src/index.js'
import { ARTIFACTS_DIR, ROOT_FILE, runDir } from '../../src/model/layout.js'
import { serve } from '../../src/server/index.js'
import { artifactOutPath } from '../../src/site/build/artifact-files.js'
import { buildSite } from '../../src/site/build/index.js'
import { resetLfsAvailable } from '../../src/store/lfs-transfer.js'
import { pull, push } from '../../src/sync/remote.js'
import { captureIO } from '../helpers/cli.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

const cleanup: Array<() => void | Promise<void>> = []
afterEach(async () => { while (cleanup.length) await cleanup.pop()!() })

function tmp(prefix: string): string {
  const d = fs.mkdtempSync(join(os.tmpdir(), prefix))
  cleanup.push(() => fs.rmSync(d, { recursive: true, force: true }))
  return d
}

/** A bare remote and `n` clones of it; each clone's .git/config is recorded to prove labbook never changes it. */
function remoteAndClones(n: number): { bare: string; clones: Array<TestRepo & { config: string }> } {
  const origin = gitRepo()
  cleanup.push(() => origin.cleanup())
  const bare = join(tmp('labbook-lfs-remote-'), 'remote.git')
  execFileSync('git', ['clone', '-q', '--bare', origin.dir, bare])
  const clones = Array.from({ length: n }, (_, i) => {
    const dir = join(tmp(`labbook-lfs-clone${i}-`), 'repo')
    execFileSync('git', ['clone', '-q', bare, dir])
    execFileSync('git', ['config', 'user.name', `Clone ${i}`], { cwd: dir })
    execFileSync('git', ['config', 'user.email', `c${i}@example.com`], { cwd: dir })
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' })
    return { ...origin, dir, git, cleanup: () => {}, config: fs.readFileSync(join(dir, '.git', 'config'), 'utf8') }
  })
  return { bare, clones }
}

function sha256File(file: string): string {
  const h = createHash('sha256')
  const fd = fs.openSync(file, 'r')
  const buf = Buffer.allocUnsafe(1 << 20)
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n))
  } finally {
    fs.closeSync(fd)
  }
  return h.digest('hex')
}

function randomFile(dir: string, name: string, mb: number): { file: string; sha: string } {
  const file = join(dir, name)
  const fd = fs.openSync(file, 'w')
  const h = createHash('sha256')
  for (let i = 0; i < mb; i++) {
    const chunk = randomBytes(1 << 20)
    h.update(chunk)
    fs.writeSync(fd, chunk)
  }
  fs.closeSync(fd)
  return { file, sha: h.digest('hex') }
}

/** GET a URL and hash the body as it streams in (nothing buffered on this side either). */
function download(url: string): Promise<{ status: number; sha: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const h = createHash('sha256')
      let bytes = 0
      res.on('data', (c: Buffer) => { h.update(c); bytes += c.length })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, sha: h.digest('hex'), bytes }))
      res.on('error', reject)
    }).on('error', reject)
  })
}

function remoteLfsFiles(bare: string): string[] {
  const root = join(bare, 'lfs', 'objects')
  if (!fs.existsSync(root)) return []
  return fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
}

/** Every LFS pointer on the remote's branch has its object in the remote's LFS store, whole. */
function remoteComplete(bare: string, branch = 'labbook'): { pointers: number } {
  const has = spawnSyncOk('git', ['--git-dir', bare, 'rev-parse', '--verify', '-q', `refs/heads/${branch}`])
  if (!has) return { pointers: 0 }
  const files = execFileSync('git', ['--git-dir', bare, 'ls-tree', '-r', '-l', branch], { encoding: 'utf8' }).split('\n').filter(Boolean)
  let pointers = 0
  for (const line of files) {
    const [meta, path] = line.split('\t')
    const [, , oid, size] = meta!.trim().split(/\s+/)
    if (Number(size) > 1024 || !path!.includes('/artifacts/')) continue
    const text = execFileSync('git', ['--git-dir', bare, 'cat-file', 'blob', oid!], { encoding: 'utf8' })
    const m = /^oid sha256:([0-9a-f]{64})$/m.exec(text)
    if (!text.startsWith('version https://git-lfs.github.com/spec/v1') || !m) continue
    pointers++
    const obj = join(bare, 'lfs', 'objects', m[1]!.slice(0, 2), m[1]!.slice(2, 4), m[1]!)
    expect(fs.existsSync(obj), `remote object for ${path}`).toBe(true)
    expect(sha256File(obj)).toBe(m[1])
  }
  return { pointers }
}

function spawnSyncOk(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('large artifacts through Git LFS', () => {
  it('a 50 MB artifact logged in A reaches B byte-identical: artifact get, the MLflow artifact proxy and a site build', async () => {
    const { bare, clones: [a, b] } = remoteAndClones(2)
    const work = tmp('labbook-lfs-data-')
    const big = randomFile(work, 'model.ckpt', 50)
    const userA = a!.userState(), userB = b!.userState()

    const bookA = await Labbook.open({ repo: a!.dir })
    const run = await bookA.startRun({ name: 'big' })
    await run.logArtifact(big.file)
    run.logMetric('acc', 0.9)
    await run.end()
    const id = run.id
    // On the branch: a standard Git LFS pointer; the bytes: git-lfs's own local store.
    const pointer = a!.git('show', `labbook:${runDir(id)}/${ARTIFACTS_DIR}/model.ckpt`)
    expect(pointer).toBe(`version https://git-lfs.github.com/spec/v1\noid sha256:${big.sha}\nsize ${50 << 20}\n`)
    expect(sha256File(join(a!.dir, '.git', 'lfs', 'objects', big.sha.slice(0, 2), big.sha.slice(2, 4), big.sha))).toBe(big.sha)
    expect(a!.git('show', 'labbook:labbook.yaml')).toMatch(/format: 2/)

    const pushed = await push(bookA)
    expect(pushed.lfsObjects).toBe(1)
    expect(remoteComplete(bare).pointers).toBe(1)
    await bookA.close()

    // .git/labbook is disposable: everything committed still reads after deleting it.
    fs.rmSync(join(a!.dir, '.git', 'labbook'), { recursive: true, force: true })
    const reopened = await Labbook.open({ repo: a!.dir })
    expect(createHash('sha256').update(await reopened.readArtifact(id, 'model.ckpt')).digest('hex')).toBe(big.sha)
    expect((await reopened.getRun(id)).metrics.acc!.value).toBe(0.9)
    await reopened.close()

    const bookB = await Labbook.open({ repo: b!.dir })
    cleanup.push(() => bookB.close())
    expect((await pull(bookB)).branch).toBe('created')
    const [entry] = await bookB.listArtifacts(id)
    expect(entry).toMatchObject({ path: 'model.ckpt', size: 50 << 20, external: true, pointer: 'lfs', sha256: big.sha })
    expect(bookB.hasArtifactContent(entry!)).toBe(false) // pull does not download; reads do, by oid

    // 1. labbook artifact get (the CLI, in-process)
    const out = join(work, 'got.ckpt')
    const cli = captureIO(b!.dir)
    const r = await main(['artifact', 'get', id.slice(0, 8), 'model.ckpt', '-o', out], cli.io)
    expect(cli.stderr()).toContain('Wrote')
    expect(r.exitCode).toBe(0)
    expect(sha256File(out)).toBe(big.sha)

    // 2. the MLflow artifact proxy: the GET that mlflow's download_artifacts makes for mlflow-artifacts:/ URIs
    fs.rmSync(join(b!.dir, '.git', 'lfs', 'objects'), { recursive: true })
    const srv = await serve({ book: bookB, port: 0 })
    try {
      const exp = (await bookB.getRun(id)).experiment
      const got = await download(`${srv.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${id}/artifacts/model.ckpt`)
      expect(got).toEqual({ status: 200, sha: big.sha, bytes: 50 << 20 })
    } finally {
      await srv.close()
    }

    // 3. a site build with a cap above the file's size copies it (fetched on demand again)
    fs.rmSync(join(b!.dir, '.git', 'lfs', 'objects'), { recursive: true })
    const site = join(work, 'site')
    await buildSite({ repo: b!.dir, out: site, maxArtifactBytes: 64 << 20, logLevel: 'silent' })
    expect(sha256File(join(site, artifactOutPath(id, 'model.ckpt')))).toBe(big.sha)

    // Nothing of the users' checkouts or configs changed; all three repositories are sound.
    expect(a!.userState()).toBe(userA)
    expect(b!.userState()).toBe(userB)
    expect(fs.readFileSync(join(a!.dir, '.git', 'config'), 'utf8')).toBe(a!.config)
    expect(fs.readFileSync(join(b!.dir, '.git', 'config'), 'utf8')).toBe(b!.config)
    expect(fs.existsSync(join(a!.dir, '.gitattributes'))).toBe(false)
    fsck(a!); fsck(b!)
    execFileSync('git', ['--git-dir', bare, 'fsck', '--strict', '--no-dangling'], { stdio: 'pipe' })
  }, 300_000)

  it('without git-lfs: logging works, push fails with LFS_MISSING before moving any ref', async () => {
    const { bare, clones: [a] } = remoteAndClones(1)
    a!.git('config', 'labbook.artifactThreshold', '1k') // the threshold from git config (bytes, git's k/m/g suffixes)
    const onlyGit = tmp('labbook-nolfs-bin-')
    fs.symlinkSync(execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim(), join(onlyGit, 'git'))
    const path = process.env.PATH
    process.env.PATH = onlyGit
    resetLfsAvailable()
    try {
      const book = await Labbook.open({ repo: a!.dir })
      const run = await book.startRun({ name: 'offline' })
      await run.logBytes('weights.bin', randomBytes(5000))
      await run.end()
      await expect(push(book)).rejects.toMatchObject({ code: 'LFS_MISSING', hint: expect.stringContaining('apt-get install git-lfs') })
      await book.close()
    } finally {
      process.env.PATH = path
      resetLfsAvailable()
    }
    expect(spawnSyncOk('git', ['--git-dir', bare, 'rev-parse', '--verify', '-q', 'refs/heads/labbook'])).toBe(false)
    // With git-lfs back, the same push completes.
    const book = await Labbook.open({ repo: a!.dir })
    expect((await push(book)).lfsObjects).toBe(1)
    expect(remoteComplete(bare).pointers).toBe(1)
    await book.close()
  }, 60_000)

  it('a push after a push: no git rev-list when no new commit changes an artifacts folder; an LFS artifact below the tip is still found', async () => {
    const { bare, clones: [a] } = remoteAndClones(1)
    a!.git('config', 'labbook.artifactThreshold', '1k')
    const config = fs.readFileSync(join(a!.dir, '.git', 'config'), 'utf8')
    const book = await Labbook.open({ repo: a!.dir })
    const trace = tmp('labbook-lfs-trace-')
    /** One push with git's trace2 on: the result and how many `git rev-list` it started. */
    const tracedPush = async () => {
      for (const f of fs.readdirSync(trace)) fs.rmSync(join(trace, f))
      process.env.GIT_TRACE2_EVENT = trace
      try {
        const result = await push(book, 'origin', { mode: 'hosts' })
        const argvs = fs.readdirSync(trace).flatMap((f) => fs.readFileSync(join(trace, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)))
          .filter((e) => e.event === 'start').map((e) => e.argv as string[])
        return { result, revLists: argvs.filter((argv) => argv.includes('rev-list') && argv.some((x) => x.startsWith('--filter='))).length }
      } finally {
        delete process.env.GIT_TRACE2_EVENT
      }
    }
    const logRun = async (name: string, bytes?: Buffer) => {
      const run = await book.startRun({ name })
      await run.logMetric('loss', 1)
      if (bytes) await run.logBytes('weights.bin', bytes)
      await run.end()
      await book.flush() // a commit of its own: the artifact's commit is not the tip
    }
    await logRun('first')
    expect((await tracedPush()).revLists).toBe(1) // nothing on the remote yet: the rev-list decides
    await logRun('second')
    await logRun('third')
    const steady = await tracedPush()
    expect(steady.revLists).toBe(0)
    expect(steady.result.lfsObjects).toBe(0)
    const weights = randomBytes(5000)
    await logRun('with-artifact', weights)
    await logRun('after-it')
    const withLfs = await tracedPush()
    expect(withLfs.revLists).toBe(1)
    expect(withLfs.result.lfsObjects).toBe(1)
    // The remote's branch (moved with the host ref: one clone, a fast-forward) holds the pointer, its LFS store the object.
    expect(withLfs.result.shared).toBe(true)
    expect(execFileSync('git', ['--git-dir', bare, 'rev-parse', withLfs.result.ref, 'labbook'], { encoding: 'utf8' }).split('\n').filter(Boolean)).toEqual([withLfs.result.tip, withLfs.result.tip])
    expect(remoteComplete(bare).pointers).toBe(1)
    const lfsObject = join(bare, 'lfs', 'objects')
    expect(remoteLfsFiles(bare).map((f) => f.slice(lfsObject.length + 1).split('/').pop())).toEqual([createHash('sha256').update(weights).digest('hex')])
    await book.close()
    execFileSync('git', ['--git-dir', bare, 'fsck', '--strict', '--no-dangling'], { stdio: 'pipe' })
    expect(fs.readFileSync(join(a!.dir, '.git', 'config'), 'utf8')).toBe(config)
  }, 60_000)

  it('kill -9 during the upload: the remote ref never points at a missing object, and a rerun completes', async () => {
    const { bare, clones: [a] } = remoteAndClones(1)
    const work = tmp('labbook-lfs-kill-')
    const book = await Labbook.open({ repo: a!.dir })
    const files = Array.from({ length: 4 }, (_, i) => randomFile(work, `shard-${i}.bin`, 16))
    const run = await book.startRun({ name: 'checkpoints' })
    for (const f of files) await run.logArtifact(f.file)
    await run.end()
    await book.close()

    const cli = new URL('../../cli/main.ts', import.meta.url).pathname
    const p = spawn(process.execPath, ['--import', 'tsx', cli, '--repo', a!.dir, 'push'], { detached: true, stdio: 'ignore' })
    // Wait for git-lfs to be uploading (a process of the push's group), then kill the whole group with SIGKILL.
    const lfsRunning = () => fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).some((d) => {
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8')
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        return Number(fields[2]) === p.pid && /git-lfs/.test(stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')))
      } catch {
        return false
      }
    })
    const exited = new Promise<void>((r) => p.on('exit', () => r()))
    let killed = false
    for (let i = 0; i < 3000 && p.exitCode === null; i++) {
      if (lfsRunning()) {
        process.kill(-p.pid!, 'SIGKILL')
        killed = true
        break
      }
      await new Promise((r) => setTimeout(r, 5))
    }
    await exited
    expect(killed).toBe(true)
    // The ref did not move (the upload comes first), and whatever reached the remote's store is whole.
    expect(spawnSyncOk('git', ['--git-dir', bare, 'rev-parse', '--verify', '-q', 'refs/heads/labbook'])).toBe(false)
    for (const f of remoteLfsFiles(bare)) expect(sha256File(f)).toBe(f.split('/').pop())
    expect(remoteComplete(bare).pointers).toBe(0)

    const again = await Labbook.open({ repo: a!.dir })
    expect((await push(again)).lfsObjects).toBe(4)
    expect(remoteComplete(bare).pointers).toBe(4)
    await again.close()
  }, 120_000)

  it('gc --migrate-artifacts moves format-1 pointers to Git LFS; old commits still read, and a push shares them', async () => {
    const { bare, clones: [a, b] } = remoteAndClones(2)
    const book = await Labbook.open({ repo: a!.dir })
    const run = await book.startRun({ name: 'v1' })
    await run.end()
    // What labbook format 1 wrote: bytes in .git/labbook/objects/sha256, a labbook pointer on a format-1 branch.
    const bytes = randomBytes(300_000)
    const sha = createHash('sha256').update(bytes).digest('hex')
    const v1File = join(a!.dir, '.git', 'labbook', 'objects', 'sha256', sha.slice(0, 2), sha.slice(2))
    fs.mkdirSync(join(v1File, '..'), { recursive: true })
    fs.writeFileSync(v1File, bytes)
    const path = `${runDir(run.id)}/${ARTIFACTS_DIR}/old.bin`
    await book.store.update(async () => ({
      changes: [
        { path, blob: book.objects.writeBlob(encodePointer({ sha256: sha, size: bytes.length, name: 'old.bin' })) },
        { path: ROOT_FILE, blob: book.objects.writeBlob('format: 1\n') },
      ],
      subject: 'as format 1 wrote it', result: undefined,
    }))
    const v1Commit = (await book.tip())!
    expect(await book.listArtifacts(run.id)).toEqual([{ path: 'old.bin', size: bytes.length, external: true, sha256: sha, pointer: 'v1' }])
    expect(Buffer.from(await book.readArtifact(run.id, 'old.bin')).equals(bytes)).toBe(true)
    await book.close()

    const cli = captureIO(a!.dir)
    expect((await main(['gc', '--migrate-artifacts', '--json'], cli.io)).exitCode).toBe(0)
    expect(JSON.parse(cli.stdout())).toMatchObject({ migrated: [{ run: run.id, path: 'old.bin', size: bytes.length }], missing: [] })
    expect(fs.existsSync(v1File)).toBe(false)
    expect(a!.git('show', `labbook:${path}`)).toBe(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\nsize ${bytes.length}\n`)
    expect(a!.git('show', `labbook:${ROOT_FILE}`)).toMatch(/format: 2/)

    const after = await Labbook.open({ repo: a!.dir })
    expect(Buffer.from(await after.readArtifact(run.id, 'old.bin')).equals(bytes)).toBe(true)
    // The format-1 commit still reads: same sha256, now found in .git/lfs.
    expect(Buffer.from(await (await after.at(v1Commit)).readArtifact(run.id, 'old.bin')).equals(bytes)).toBe(true)
    expect((await push(after)).lfsObjects).toBe(1)
    await after.close()

    const bookB = await Labbook.open({ repo: b!.dir })
    await pull(bookB)
    expect(Buffer.from(await bookB.readArtifact(run.id, 'old.bin')).equals(bytes)).toBe(true)
    // Even the format-1 pointer in history is readable in a clone that never had .git/labbook/objects.
    expect(Buffer.from(await (await bookB.at(v1Commit)).readArtifact(run.id, 'old.bin')).equals(bytes)).toBe(true)
    await bookB.close()
    expect(remoteComplete(bare).pointers).toBe(1)
    expect(fs.readFileSync(join(a!.dir, '.git', 'config'), 'utf8')).toBe(a!.config)
  }, 60_000)
})
