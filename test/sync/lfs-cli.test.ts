// The CLI faces of Git LFS that the big end-to-end test does not cover: `init --lfs` (and plain init leaving LFS
// alone), `artifact get` to stdout (bytes, a download on demand, refusal on a terminal), and `show`'s storage notes.
// Real repositories, a real bare remote, the real git-lfs.
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import type { CliIO } from '../../cli/io.js'
import { Labbook } from '../../src/index.js'
import { push } from '../../src/sync/remote.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

const cleanup: Array<() => void> = []
afterEach(() => { while (cleanup.length) cleanup.pop()!() })

function repo(files?: Record<string, string>, o: { check?: boolean } = {}): TestRepo {
  const r = gitRepo(files)
  cleanup.push(() => r.cleanup(o))
  return r
}

/** main(argv, io) with stdout kept as bytes (artifacts are binary). */
async function cli(dir: string, argv: string[], o: { tty?: boolean } = {}) {
  const out: Buffer[] = [], err: string[] = []
  const io: CliIO = {
    stdout: { write: (c) => (out.push(Buffer.from(c)), true), isTTY: o.tty ?? false },
    stderr: { write: (c) => (err.push(Buffer.from(c).toString()), true), isTTY: false },
    env: { ...process.env, NO_COLOR: '1', LABBOOK_REPO: undefined, LABBOOK_BRANCH: undefined },
    cwd: dir,
  }
  const r = await main(argv, io)
  return { exitCode: r.exitCode, stdout: Buffer.concat(out), stderr: err.join('') }
}

const localConfig = (r: TestRepo) => fs.readFileSync(join(r.dir, '.git', 'config'), 'utf8')
const hooks = (r: TestRepo) => fs.readdirSync(join(r.dir, '.git', 'hooks')).filter((h) => !h.endsWith('.sample')).sort()
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

describe('labbook init and Git LFS', () => {
  it('plain init installs nothing of LFS; init --lfs installs hooks and filters and still leaves .gitattributes alone', async () => {
    const attributes = '*.csv text eol=lf\n# the user\'s own file\n'
    // check: false — the cleanup's push to a plain path remote would run the pre-push hook this test installs, which
    // git-lfs 3.3 cannot serve for a remote given as a bare path ("missing protocol"); fsck is asserted below.
    const r = repo({ 'train.py': 'print(1)\n', '.gitattributes': attributes }, { check: false })
    const config = localConfig(r)
    const state = r.userState()

    const plain = await cli(r.dir, ['init'])
    expect(plain.exitCode, plain.stderr).toBe(0)
    expect(localConfig(r)).toBe(config) // byte-identical: no filter.lfs.*, no lfs.repositoryformatversion
    expect(hooks(r)).toEqual([])
    expect(fs.readFileSync(join(r.dir, '.gitattributes'), 'utf8')).toBe(attributes)
    // Logging a large artifact needs no LFS setup either.
    const book = await Labbook.open({ repo: r.dir, artifactThreshold: 1000 })
    const run = await book.startRun({ name: 'big' })
    await run.logBytes('weights.bin', randomBytes(4000))
    await run.end()
    await book.close()
    expect(localConfig(r)).toBe(config)
    expect(hooks(r)).toEqual([])

    const lfs = await cli(r.dir, ['init', '--lfs', '--json'])
    expect(lfs.exitCode, lfs.stderr).toBe(0)
    expect(JSON.parse(lfs.stdout.toString())).toMatchObject({ created: false, lfs: true })
    expect(r.git('config', '--local', '--get', 'filter.lfs.process').trim()).toBe('git-lfs filter-process')
    expect(r.git('config', '--local', '--get', 'filter.lfs.required').trim()).toBe('true')
    expect(hooks(r)).toEqual(['post-checkout', 'post-commit', 'post-merge', 'pre-push'])
    expect(fs.readFileSync(join(r.dir, '.git', 'hooks', 'pre-push'), 'utf8')).toContain('git lfs pre-push')
    expect(fs.existsSync(join(r.dir, '.git', 'info', 'attributes'))).toBe(false) // no tracking patterns hidden there either
    expect(fs.readFileSync(join(r.dir, '.gitattributes'), 'utf8')).toBe(attributes)
    expect(r.userState()).toBe(state) // working tree, index, HEAD and refs untouched
    expect(r.git('status', '--porcelain')).toBe('')
    expect(fsck(r)).toBe('')

    const human = await cli(r.dir, ['init', '--lfs']) // asked twice: git-lfs says it is already set up, nothing breaks
    expect(human.exitCode, human.stderr).toBe(0)
    expect(human.stderr).toContain('Git LFS hooks and filters installed')
  }, 60_000)
})

describe('artifact get and show with Git LFS', () => {
  it('writes a large artifact to stdout byte for byte, downloading it on demand; show marks where the bytes are', async () => {
    const origin = repo()
    const bare = fs.mkdtempSync(join(os.tmpdir(), 'labbook-lfs-cli-')) + '/remote.git'
    cleanup.push(() => fs.rmSync(join(bare, '..'), { recursive: true, force: true }))
    execFileSync('git', ['clone', '-q', '--bare', origin.dir, bare])
    const dir = fs.mkdtempSync(join(os.tmpdir(), 'labbook-lfs-cli-clone-'))
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }))
    execFileSync('git', ['clone', '-q', bare, dir])
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' })
    git('config', 'user.name', 'A'); git('config', 'user.email', 'a@example.com')
    git('config', 'labbook.artifactThreshold', '2k')
    const big = randomBytes(300_000), small = Buffer.from('{"acc": 0.9}\n')

    const book = await Labbook.open({ repo: dir })
    const run = await book.startRun({ name: 'ckpt' })
    await run.logBytes('model/weights.bin', big)
    await run.logBytes('metrics.json', small)
    await run.end()
    await push(book)
    await book.close()

    const shown = (await cli(dir, ['show', run.id])).stdout.toString()
    expect(shown).toMatch(/model\/weights\.bin \(Git LFS\)\s+293\.0 KiB/)
    expect(shown).toMatch(/metrics\.json\s+13 B/) // a small artifact is a plain blob: no note

    const got = await cli(dir, ['artifact', 'get', 'ckpt', 'model/weights.bin'])
    expect(got.exitCode, got.stderr).toBe(0)
    expect(got.stdout.length).toBe(big.length)
    expect(sha(got.stdout)).toBe(sha(big))
    expect(got.stderr).toBe('') // data to stdout, nothing else
    expect((await cli(dir, ['artifact', 'get', run.id.slice(0, 8), 'metrics.json'])).stdout.toString()).toBe(small.toString())

    // This clone loses its copy: show says so, and get downloads it from the remote's LFS store.
    fs.rmSync(join(dir, '.git', 'lfs', 'objects'), { recursive: true, force: true })
    expect((await cli(dir, ['show', run.id])).stdout.toString()).toMatch(/model\/weights\.bin \(Git LFS, not downloaded\)/)
    const again = await cli(dir, ['artifact', 'get', run.id, 'model/weights.bin'])
    expect(again.exitCode, again.stderr).toBe(0)
    expect(sha(again.stdout)).toBe(sha(big))
    expect((await cli(dir, ['show', run.id])).stdout.toString()).toMatch(/model\/weights\.bin \(Git LFS\)\s/)

    // Never binary onto a terminal; a path that is not there names it.
    const tty = await cli(dir, ['artifact', 'get', run.id, 'model/weights.bin'], { tty: true })
    expect(tty.exitCode).toBe(2)
    expect(tty.stdout.length).toBe(0)
    expect(tty.stderr).toContain('-o FILE')
    const missing = await cli(dir, ['artifact', 'get', run.id, 'model/nope.bin'])
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr).toMatch(/nope\.bin/)
    expect(git('status', '--porcelain')).toBe('')
  }, 90_000)
})
