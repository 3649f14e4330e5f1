import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { pull, push } from '../../src/sync/remote.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { freePort, waitFor } from '../helpers/processes.js'

const CHILD = new URL('../helpers/child.ts', import.meta.url).pathname
const cleanup: Array<() => void> = []
afterEach(() => { while (cleanup.length) cleanup.pop()!() })

/** A bare remote with main, and `n` clones of it (real repos, real git). */
function setup(n: number) {
  const origin = gitRepo()
  const bare = fs.mkdtempSync(join(os.tmpdir(), 'labbook-remote-')) + '/remote.git'
  execFileSync('git', ['clone', '-q', '--bare', origin.dir, bare])
  const clones: TestRepo[] = []
  for (let i = 0; i < n; i++) {
    const dir = fs.mkdtempSync(join(os.tmpdir(), `labbook-clone${i}-`))
    execFileSync('git', ['clone', '-q', bare, dir])
    execFileSync('git', ['config', 'user.name', `Clone ${i}`], { cwd: dir })
    execFileSync('git', ['config', 'user.email', `c${i}@example.com`], { cwd: dir })
    clones.push({ ...origin, dir, git: (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) })
  }
  cleanup.push(() => { origin.cleanup(); fs.rmSync(join(bare, '..'), { recursive: true, force: true }); clones.forEach((c) => c.cleanup()) })
  return { bare, clones }
}

function remoteRuns(bare: string): string[] {
  return execFileSync('git', ['--git-dir', bare, 'ls-tree', '-r', '--name-only', 'labbook'], { encoding: 'utf8' })
    .split('\n').filter((p) => p.endsWith('/run.yaml'))
}

function child(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    p.stderr.on('data', (d) => (stderr += d))
    p.on('close', (code) => resolve({ code, stderr }))
  })
}

describe('push and pull', () => {
  it('merges concurrent histories into the union, without a checkout', async () => {
    const { bare, clones: [a, b] } = setup(2)
    const before = b!.userState()
    const bookA = await Labbook.open({ repo: a!.dir })
    const bookB = await Labbook.open({ repo: b!.dir })
    const ra = await bookA.startRun({ name: 'from-a' }); ra.logMetric('acc', 0.8); await ra.end()
    const rb = await bookB.startRun({ name: 'from-b' }); rb.logMetric('acc', 0.9); await rb.end()
    expect((await push(bookA)).retries).toBe(0)
    const pushedB = await push(bookB) // loses the race: fetches, merges, retries
    expect(pushedB.retries).toBe(1)
    expect(pushedB.pulls[0]!.branch).toBe('merged')
    expect(remoteRuns(bare)).toHaveLength(2)
    const pulledA = await pull(bookA)
    expect(pulledA.branch).toBe('fast-forward')
    expect((await bookA.listRuns()).map((r) => r.name).sort()).toEqual(['from-a', 'from-b'])
    expect(b!.git('log', '--format=%s', '-1', 'labbook')).toContain('Merge labbook runs from origin')
    expect(b!.git('cat-file', '-p', 'labbook').match(/^parent /gm)).toHaveLength(2)
    expect(fsck(a!)).toBe('')
    expect(fsck(b!)).toBe('')
    expect(b!.userState()).toBe(before)
    expect(b!.git('status', '--porcelain')).toBe('')
    expect(await pull(bookA)).toMatchObject({ branch: 'up-to-date' })
  })

  it('merges a run changed on both sides field by field: every point of both sides survives (docs/format.md)', async () => {
    const { clones: [a, b] } = setup(2)
    const bookA = await Labbook.open({ repo: a!.dir })
    const run = await bookA.startRun({ name: 'shared' })
    run.logMetric('acc', 1)
    await run.end()
    await push(bookA)
    const bookB = await Labbook.open({ repo: b!.dir })
    await pull(bookB)
    const inA = await bookA.openRun(run.id); inA.logMetric('acc', 2); await inA.end()
    const inB = await bookB.openRun(run.id); inB.logMetric('acc', 3); inB.logMetric('acc', 4)
    await new Promise((r) => setTimeout(r, 5))
    await inB.end()
    await push(bookA)
    const result = await push(bookB)
    expect(result.pulls[0]!.conflicts).toEqual([])
    expect((await bookB.metricHistory(run.id, 'acc')).map((p) => p.value)).toEqual([1, 2, 3, 4])
    expect((await bookB.getRun(run.id)).metrics.acc).toMatchObject({ count: 4, value: 4, min: 1, max: 4 })
  })

  it('four clones logging and pushing at once end with every run on the remote (bare repo on disk)', async () => {
    const { bare, clones } = setup(4)
    const results = await Promise.all(clones.map((c, i) => child(['log-and-push', c.dir, `c${i}`, '3', '5', 'origin'])))
    for (const r of results) expect(r.stderr).toBe('')
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0])
    expect(remoteRuns(bare)).toHaveLength(60)
    expect(execFileSync('git', ['--git-dir', bare, 'fsck', '--strict', '--no-dangling'], { encoding: 'utf8' })).toBe('')
    const names = execFileSync('git', ['--git-dir', bare, 'grep', '-h', '^name:', 'labbook', '--', 'runs'], { encoding: 'utf8' })
    for (let c = 0; c < 4; c++) for (let r = 0; r < 3; r++) for (let i = 0; i < 5; i++) expect(names).toContain(`name: c${c}-${r}-${i}\n`)
  }, 180_000)

  it('four clones pushing at once through git daemon on 127.0.0.1', async () => {
    const { bare, clones } = setup(4)
    const port = await freePort()
    const daemon: ChildProcess = spawn('git', ['daemon', '--reuseaddr', '--export-all', '--enable=receive-pack', '--listen=127.0.0.1', `--port=${port}`, `--base-path=${join(bare, '..')}`, join(bare, '..')], { stdio: 'ignore' })
    cleanup.push(() => daemon.kill())
    const url = `git://127.0.0.1:${port}/remote.git`
    await waitFor(() => execFileSync('git', ['ls-remote', url], { stdio: 'ignore' }))
    const results = await Promise.all(clones.map((c, i) => child(['log-and-push', c.dir, `d${i}`, '2', '4', url])))
    for (const r of results) expect(r.stderr).toBe('')
    expect(remoteRuns(bare)).toHaveLength(32)
    expect(execFileSync('git', ['--git-dir', bare, 'fsck', '--strict', '--no-dangling'], { encoding: 'utf8' })).toBe('')
  }, 180_000)
})

describe('git notes', () => {
  it('keeps one bounded summary per code commit, and merges concurrent notes three-way', async () => {
    const { clones: [a, b] } = setup(2)
    const bookA = await Labbook.open({ repo: a!.dir })
    const bookB = await Labbook.open({ repo: b!.dir })
    const head = a!.git('rev-parse', 'main').trim()
    const ra = await bookA.startRun({ name: 'note-a', experiment: 'iris' }); ra.logMetric('accuracy', 0.91); await ra.end()
    const ra2 = await bookA.startRun({ name: 'note-a2', experiment: 'iris' }); ra2.logMetric('accuracy', 0.5); await ra2.end('FAILED')
    const rb = await bookB.startRun({ name: 'note-b', experiment: 'iris' }); rb.logMetric('accuracy', 0.95); await rb.end()
    const expId = (await bookA.getExperiment('iris')).id
    await bookA.flush() // group commit: the runs, then their note
    const log = a!.git('log', '-1', '--notes=labbook', '--format=%N', 'main')
    expect(log).toBe(`labbook: 2 runs on this commit · FINISHED 1 · FAILED 1 · list them: labbook ls --commit ${head.slice(0, 12)}\n` +
      `labbook: experiment ${expId} "iris" · FINISHED 1 · FAILED 1 · best "accuracy" max 0.91 by "note-a" [${ra.id}]\n\n`)
    await push(bookA)
    await push(bookB) // b's experiment "iris" merges into a's; its note merges with a's: counts add up
    await pull(bookA)
    const both = a!.git('log', '-1', '--notes=labbook', '--format=%N', 'main').trim().split('\n')
    expect(both[0]).toBe(`labbook: 3 runs on this commit · FINISHED 2 · FAILED 1 · list them: labbook ls --commit ${head.slice(0, 12)}`)
    expect(both.join('\n')).toContain(`best "accuracy" max 0.95 by "note-b" [${rb.id}]`)
    // pulling again merges nothing twice
    await pull(bookB)
    expect(b!.git('log', '-1', '--notes=labbook', '--format=%N', 'main').trim().split('\n')[0]).toBe(both[0])
    expect(fsck(a!)).toBe('')
  })

  it('a note stays at most 20 lines and its size does not grow with the number of runs', async () => {
    const { clones: [a] } = setup(1)
    const book = await Labbook.open({ repo: a!.dir })
    const sizes: number[] = []
    for (let i = 0; i < 30; i++) {
      const r = await book.startRun({ name: `r${i}`, experiment: `exp-${i % 20}` })
      r.logMetric('val_loss', 1 / (i + 1))
      await r.end()
      if (i === 19 || i === 29) {
        await book.flush()
        sizes.push(a!.git('notes', '--ref=labbook', 'show', 'main').length)
      }
    }
    const lines = a!.git('log', '-1', '--notes=labbook', '--format=%N', 'main').trim().split('\n')
    expect(lines.length).toBeLessThanOrEqual(20)
    expect(lines[0]).toMatch(/^labbook: 30 runs on this commit · FINISHED 30 · /)
    expect(lines.at(-1)).toBe('labbook: more experiments · FINISHED 4') // exp-16..19, one run each
    expect(sizes[1]! - sizes[0]!).toBeLessThan(200) // numbers and best runs change; no line per run is added
    expect(sizes[1]!).toBeLessThan(2500)
  })
})
