// Per-host refs (docs/format.md "Many machines, one remote"): each clone pushes to refs/labbook/hosts/<id>, so
// concurrent pushes never race; pull merges every host ref. Real clones, a real git daemon on loopback, real processes.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { hostId, pushMode } from '../../src/sync/hosts.js'
import { pull, push } from '../../src/sync/remote.js'
import { gitRepo } from '../helpers/git-repo.js'
import { freePort, runChild, waitFor } from '../helpers/processes.js'
import { assertSummariesExact } from '../helpers/summaries.js'

const cleanup: Array<() => void> = []
afterEach(() => { while (cleanup.length) cleanup.pop()!() })

function tmp(prefix: string): string {
  const d = fs.mkdtempSync(join(os.tmpdir(), prefix))
  cleanup.push(() => fs.rmSync(d, { recursive: true, force: true }))
  return d
}

const gitIn = (dir: string) => (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' })

/** A bare remote with main, and `n` clones of it. */
function setup(n: number) {
  const origin = gitRepo()
  cleanup.push(() => origin.cleanup())
  const root = tmp('labbook-hosts-')
  const bare = join(root, 'remote.git')
  execFileSync('git', ['clone', '-q', '--bare', origin.dir, bare])
  const clones = Array.from({ length: n }, (_, i) => {
    const dir = join(root, `clone${i}`)
    execFileSync('git', ['clone', '-q', bare, dir])
    gitIn(dir)('config', 'user.name', `Clone ${i}`)
    gitIn(dir)('config', 'user.email', `c${i}@example.com`)
    return { dir, git: gitIn(dir) }
  })
  return { root, bare, clones }
}

/** What of the user's repository labbook must never change: HEAD, index, working tree status, config, and every ref outside labbook's own. */
function userState(dir: string): Record<string, string> {
  const git = gitIn(dir)
  const status = git('status', '--porcelain') // first: it may refresh the index's stat data
  const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex')
  const refs = git('for-each-ref', '--format=%(refname) %(objectname)').split('\n')
    .filter((l) => l && !/^refs\/(heads\/labbook |notes\/labbook |labbook\/|remotes\/[^/]+\/labbook )/.test(l))
  return { status, refs: refs.join('\n'), head: fs.readFileSync(join(dir, '.git', 'HEAD'), 'utf8'), index: hash(fs.readFileSync(join(dir, '.git', 'index'))), config: fs.readFileSync(join(dir, '.git', 'config'), 'utf8') }
}

const fsckStrict = (gitdir: string) => execFileSync('git', ['--git-dir', gitdir, 'fsck', '--strict', '--no-dangling'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

function remoteRefs(bare: string, prefix: string): Map<string, string> {
  const out = execFileSync('git', ['--git-dir', bare, 'for-each-ref', '--format=%(refname) %(objectname)', prefix], { encoding: 'utf8' })
  return new Map(out.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]))
}

function runNames(bare: string, rev: string): string[] {
  return execFileSync('git', ['--git-dir', bare, 'grep', '-h', '^name:', rev, '--', 'runs'], { encoding: 'utf8' })
    .split('\n').filter(Boolean).map((l) => l.replace(/^name: /, ''))
}

describe('per-host refs', () => {
  it('six clones pushing at once through git daemon: no race to lose, and a fresh clone pulls every run', async () => {
    const { root, bare, clones } = setup(6)
    const port = await freePort()
    const daemon: ChildProcess = spawn('git', ['daemon', '--reuseaddr', '--export-all', '--enable=receive-pack', '--listen=127.0.0.1', `--port=${port}`, `--base-path=${root}`, root], { stdio: 'ignore' })
    cleanup.push(() => daemon.kill())
    const url = `git://127.0.0.1:${port}/remote.git`
    await waitFor(() => execFileSync('git', ['ls-remote', url], { stdio: 'ignore' }))
    const before = clones.map((c) => userState(c.dir))

    const results = await Promise.all(clones.map((c, i) => runChild(['log-and-push', c.dir, `h${i}`, '2', '2', url, 'hosts'])))
    for (const r of results) expect(r.stderr).toBe('')
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0])
    const pushes = results.flatMap((r) => r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { retries: number; ref: string; shared: boolean }))
    expect(pushes).toHaveLength(12)
    expect(pushes.map((p) => p.retries)).toEqual(Array(12).fill(0)) // no push ever lost a race
    const ids = clones.map((c) => hostId(join(c.dir, '.git')))
    expect(new Set(ids).size).toBe(6)
    expect(new Set(pushes.map((p) => p.ref))).toEqual(new Set(ids.map((id) => `refs/labbook/hosts/${id}`)))

    // On the remote: one ref per clone (and its notes), each holding that clone's 4 runs; 24 in all.
    const hosts = remoteRefs(bare, 'refs/labbook/hosts/')
    expect(hosts.size).toBe(6)
    expect(remoteRefs(bare, 'refs/labbook/host-notes/').size).toBe(6)
    const all = new Set([...hosts.keys()].flatMap((ref) => runNames(bare, ref)))
    expect(all.size).toBe(24)
    for (let c = 0; c < 6; c++) for (let r = 0; r < 2; r++) for (let i = 0; i < 2; i++) expect(all.has(`h${c}-${r}-${i}`)).toBe(true)
    // The shared branch moved too whenever that was a fast-forward (at least the first push's).
    expect(pushes.some((p) => p.shared)).toBe(true)
    expect(runNames(bare, 'refs/heads/labbook').length).toBeGreaterThanOrEqual(2)
    expect(fsckStrict(bare)).toBe('')

    // A fresh clone: one pull merges every host ref (runs and notes).
    const fresh = join(root, 'fresh')
    execFileSync('git', ['clone', '-q', url, fresh])
    const freshBefore = userState(fresh)
    const book = await Labbook.open({ repo: fresh })
    const pulled = await pull(book)
    expect(pulled.hosts).toBe(6)
    expect(new Set((await book.listRuns()).map((r) => r.name))).toEqual(all)
    const note = gitIn(fresh)('log', '-1', '--notes=labbook', '--format=%N', 'main')
    expect(note).toMatch(/^labbook: 24 runs on this commit · FINISHED 24 /)
    expect(await pull(book)).toMatchObject({ branch: 'up-to-date', notes: 'up-to-date', runsAdded: 0, hosts: 6 })
    await book.close()
    expect(fsckStrict(join(fresh, '.git'))).toBe('')
    expect(userState(fresh)).toEqual(freshBefore)
    for (const [i, c] of clones.entries()) {
      expect(userState(c.dir)).toEqual(before[i])
      expect(fsckStrict(join(c.dir, '.git'))).toBe('')
    }
  }, 240_000)

  it('a fresh clone pulls 32 host refs in ONE merge commit: every run and note, exact summaries', async () => {
    const N = 32
    const { root, bare, clones: [maker] } = setup(1)
    const book0 = await Labbook.open({ repo: maker!.dir })
    await (await book0.startRun({ name: 'base', experiment: 'e' })).end()
    await push(book0)
    // 32 machines that each pulled this branch, logged a run of their own and pushed it to their host ref. Made in
    // one clone (the branch and notes reset to the shared state between machines) and pushed in one `git push`:
    // what `labbook push --hosts` does from 32 machines (the six-clone test above pushes from real processes).
    const git0 = maker!.git
    const base = git0('rev-parse', 'labbook').trim(), baseNotes = git0('rev-parse', 'refs/notes/labbook').trim()
    const specs: string[] = []
    for (let i = 0; i < N; i++) {
      git0('update-ref', 'refs/heads/labbook', base)
      git0('update-ref', 'refs/notes/labbook', baseNotes)
      await (await book0.experiment('e')).run({ name: `h${i}`, params: { host: i } }, async (run) => run.logMetric('acc', i / N))
      await book0.flush()
      const id = `h${String(i).padStart(2, '0')}`
      specs.push(`${git0('rev-parse', 'labbook').trim()}:refs/labbook/hosts/${id}`, `${git0('rev-parse', 'refs/notes/labbook').trim()}:refs/labbook/host-notes/${id}`)
    }
    await book0.close()
    git0('push', '-q', 'origin', ...specs)
    const hostNames = Array.from({ length: N }, (_, i) => `h${i}`)
    expect(remoteRefs(bare, 'refs/labbook/hosts/').size).toBe(N)
    expect(remoteRefs(bare, 'refs/labbook/host-notes/').size).toBe(N)

    // A fresh clone's one pull. (bench/push-hosts.ts times it against a merge commit per ref and compares the trees.)
    const dir = join(root, 'fresh')
    execFileSync('git', ['clone', '-q', bare, dir])
    const before = userState(dir)
    const one = { dir, git: gitIn(dir), book: await Labbook.open({ repo: dir }) }
    expect(await pull(one.book)).toMatchObject({ hosts: N, branch: 'merged', notes: 'merged', conflicts: [], runsAdded: N - 1 })
    // One merge commit, whose parents are the 32 host tips (the shared branch is below them all).
    expect(one.git('rev-list', '--count', '--min-parents=2', 'labbook').trim()).toBe('1')
    const parents = one.git('rev-list', '--parents', '-1', 'labbook').trim().split(' ').slice(1)
    expect(new Set(parents)).toEqual(new Set(remoteRefs(bare, 'refs/labbook/hosts/').values()))
    expect(one.git('log', '-1', '--format=%s', 'labbook').trim()).toBe(`Merge labbook runs from ${N} refs of origin`)
    expect(one.git('rev-list', '--count', '--min-parents=2', 'refs/notes/labbook').trim()).toBe('1')
    // Every run, with summaries that match their run.yaml exactly.
    expect(new Set((await one.book.listRuns()).map((r) => r.name))).toEqual(new Set(['base', ...hostNames]))
    expect(await assertSummariesExact(one.book)).toBe(N + 1)
    // Notes: the counts of all 32 machines added three-way, once each.
    const note = one.git('log', '-1', '--notes=labbook', '--format=%N', 'main')
    expect(note).toMatch(new RegExp(`^labbook: ${N + 1} runs on this commit · FINISHED ${N + 1} `))
    expect(await pull(one.book)).toMatchObject({ branch: 'up-to-date', notes: 'up-to-date', runsAdded: 0, hosts: N })

    // Later: a run here, and two machines push again. One merge: our tip and the two moved host refs.
    await (await one.book.experiment('e')).run({ name: 'local' }, async (run) => run.logMetric('acc', 1))
    const again = await Labbook.open({ repo: maker!.dir })
    for (const id of ['h03', 'h17']) {
      git0('fetch', '-q', 'origin', `+refs/labbook/hosts/${id}:refs/heads/labbook`, `+refs/labbook/host-notes/${id}:refs/notes/labbook`) // the machine's own state
      await (await again.experiment('e')).run({ name: `${id}-again` }, async (run) => run.logMetric('acc', 0.5))
      await again.flush()
      git0('push', '-q', 'origin', `labbook:refs/labbook/hosts/${id}`, `refs/notes/labbook:refs/labbook/host-notes/${id}`)
    }
    await again.close()
    const tip = one.git('rev-parse', 'labbook').trim()
    expect(await pull(one.book)).toMatchObject({ branch: 'merged', notes: 'merged', runsAdded: 2, conflicts: [] })
    expect(one.git('rev-list', '--parents', '-1', 'labbook').trim().split(' ').slice(1)).toEqual([tip, remoteRefs(bare, 'refs/labbook/hosts/').get('refs/labbook/hosts/h03'), remoteRefs(bare, 'refs/labbook/hosts/').get('refs/labbook/hosts/h17')])
    expect(await assertSummariesExact(one.book)).toBe(N + 4)
    expect(one.git('log', '-1', '--notes=labbook', '--format=%N', 'main')).toMatch(new RegExp(`^labbook: ${N + 4} runs on this commit · FINISHED ${N + 4} `))
    await one.book.close()
    expect(fsckStrict(join(dir, '.git'))).toBe('')
    expect(userState(dir)).toEqual(before)
  }, 360_000)

  it('mode and host id: shared by default, hosts from git config; the id is derived (deleting .git/labbook keeps it) or named', async () => {
    const { bare, clones: [a, b] } = setup(2)
    const gitdir = join(a!.dir, '.git')
    expect(pushMode(gitdir, undefined, {})).toBe('shared')
    const id = hostId(gitdir, {})
    expect(id).toMatch(/^[0-9a-f]{16}$/)
    fs.rmSync(join(gitdir, 'labbook'), { recursive: true, force: true })
    expect(hostId(gitdir, {})).toBe(id)
    expect(hostId(join(b!.dir, '.git'), {})).not.toBe(id)
    expect(hostId(gitdir, { LABBOOK_HOST_ID: 'gpu-box-1' })).toBe('gpu-box-1')
    expect(() => hostId(gitdir, { LABBOOK_HOST_ID: 'bad/name' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => pushMode(gitdir, undefined, { LABBOOK_PUSH: 'octopus' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))

    const bookA = await Labbook.open({ repo: a!.dir })
    await (await bookA.startRun({ name: 'one' })).end()
    const shared = await push(bookA) // default: the shared branch, as before
    expect(shared).toMatchObject({ mode: 'shared', ref: 'refs/heads/labbook', shared: true, retries: 0 })
    expect(remoteRefs(bare, 'refs/labbook/').size).toBe(0)

    a!.git('config', 'labbook.push', 'hosts')
    a!.git('config', 'labbook.hostId', 'box-a')
    await (await bookA.startRun({ name: 'two' })).end()
    const hosted = await push(bookA)
    expect(hosted).toMatchObject({ mode: 'hosts', ref: 'refs/labbook/hosts/box-a', shared: true, retries: 0 })
    expect([...remoteRefs(bare, 'refs/labbook/').keys()].sort()).toEqual(['refs/labbook/host-notes/box-a', 'refs/labbook/hosts/box-a'])

    // Two clones that name themselves alike share a ref: the second loses the race, merges and lands; nothing is lost.
    b!.git('config', 'labbook.hostId', 'box-a')
    const bookB = await Labbook.open({ repo: b!.dir })
    await (await bookB.startRun({ name: 'three' })).end()
    const clash = await push(bookB, 'origin', { mode: 'hosts' })
    expect(clash.retries).toBe(1)
    expect(clash.shared).toBe(true) // after the merge, B's tip fast-forwards the shared branch too
    expect(runNames(bare, 'refs/labbook/hosts/box-a').sort()).toEqual(['one', 'three', 'two'])
    expect(runNames(bare, 'refs/heads/labbook').sort()).toEqual(['one', 'three', 'two'])
    await bookA.close(); await bookB.close()
    expect(fsckStrict(bare)).toBe('')
  }, 120_000)
})
