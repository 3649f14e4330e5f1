import { spawn, execFileSync } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { runChild } from '../helpers/processes.js'

const CHILD = new URL('../helpers/child.ts', import.meta.url).pathname
const child = runChild

let repo: TestRepo
afterEach(() => repo?.cleanup())

describe('concurrent writers', () => {
  it('8 processes writing 50 runs each end with all 400 runs, with C git update-ref and gc alongside', async () => {
    repo = gitRepo()
    const before = repo.userState()
    await (await Labbook.open({ repo: repo.dir })).init()
    let gitBusy = true
    const gitNoise = (async () => {
      let n = 0
      while (gitBusy) {
        // C git moving another ref and packing refs/objects while we write must break nothing.
        execFileSync('git', ['update-ref', 'refs/heads/scratch', 'HEAD'], { cwd: repo.dir, stdio: 'ignore' })
        // gc's pack-refs may print "cannot lock ref" when we move the branch under it: C git's own, harmless.
        if (n++ % 5 === 0) execFileSync('git', ['gc', '--quiet'], { cwd: repo.dir, stdio: 'ignore' })
        await new Promise((r) => setTimeout(r, 200))
      }
    })()
    const results = await Promise.all(Array.from({ length: 8 }, (_, w) => child(['runs', repo.dir, '50', `w${w}`])))
    gitBusy = false
    await gitNoise
    for (const r of results) expect(r.stderr).toBe('')
    for (const r of results) expect(r.code).toBe(0)
    const book = await Labbook.open({ repo: repo.dir })
    const runs = await book.listRuns()
    expect(runs).toHaveLength(400)
    expect(new Set(runs.map((r) => r.name)).size).toBe(400)
    for (const r of runs) {
      expect(r.status).toBe('FINISHED')
      expect(r.metrics.loss!.count).toBe(2)
    }
    expect((await book.listExperiments()).filter((e) => e.name === 'race')).toHaveLength(1)
    expect(fsck(repo)).toBe('')
    execFileSync('git', ['update-ref', '-d', 'refs/heads/scratch'], { cwd: repo.dir })
    expect(repo.userState()).toBe(before)
  }, 240_000)

  it('many processes creating one new experiment end with one experiment', async () => {
    repo = gitRepo()
    const results = await Promise.all(Array.from({ length: 8 }, () => child(['experiment', repo.dir, 'brand new'])))
    const ids = new Set(results.map((r) => r.stdout.trim()))
    expect(ids.size).toBe(1)
    const book = await Labbook.open({ repo: repo.dir })
    expect((await book.listExperiments()).map((e) => e.name)).toEqual(['brand new'])
    expect(fsck(repo)).toBe('')
  }, 120_000)
})

describe('a writer killed with SIGKILL', () => {
  it.each([['no commit before the kill', '3600000'], ['commits every 50 ms while logging', '50']])('loses at most the last second (%s): recovery commits the journal, once, and marks the run KILLED', async (_what, interval) => {
    repo = gitRepo()
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, 'log-forever', repo.dir, interval], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let flushedAtKill = 0
    await new Promise<void>((resolve) => {
      p.stdout.on('data', (d) => {
        out += d
        const steps = [...out.matchAll(/flushed (\d+)/g)].map((m) => Number(m[1]))
        if (steps.length && steps[steps.length - 1]! >= 20_000) resolve()
      })
    })
    const steps = [...out.matchAll(/flushed (\d+)/g)].map((m) => Number(m[1]))
    flushedAtKill = steps[steps.length - 1]!
    p.kill('SIGKILL')
    await new Promise((r) => p.on('close', r))
    const id = out.split('\n')[0]!
    const before = await (await Labbook.open({ repo: repo.dir, recover: false })).getRun(id)
    expect(before.status).toBe('RUNNING')
    const book = await Labbook.open({ repo: repo.dir, recover: false })
    const recovered = await book.recover()
    expect(recovered.map((r) => r.id)).toEqual([id])
    const run = await book.getRun(id)
    expect(run.status).toBe('KILLED')
    expect(run.endTime).toBeGreaterThanOrEqual(run.startTime)
    expect(run.params).toEqual({ lr: 0.1 })
    expect(run.tags.phase).toBe('training')
    // Every point on disk before the kill (the child prints a batch after run.durable()) is there, once, in order.
    expect(run.metrics.loss!.count).toBeGreaterThanOrEqual(flushedAtKill)
    const history = await book.metricHistory(id, 'loss')
    expect(history).toHaveLength(run.metrics.loss!.count)
    history.forEach((p, i) => expect(p.step).toBe(i))
    // A second recovery finds nothing left to do.
    expect(await (await Labbook.open({ repo: repo.dir })).recover()).toEqual([])
    expect(fsck(repo)).toBe('')
  }, 120_000)

  it('leaves runs of live writers alone', async () => {
    repo = gitRepo()
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, 'log-forever', repo.dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    const id = await new Promise<string>((resolve) => p.stdout.once('data', (d) => resolve(String(d).split('\n')[0]!)))
    const book = await Labbook.open({ repo: repo.dir })
    expect(await book.recover()).toEqual([])
    expect((await book.getRun(id)).status).toBe('RUNNING')
    p.kill('SIGKILL')
    await new Promise((r) => p.on('close', r))
  }, 60_000)
})

describe('one writer per run', () => {
  it('refuses to open a run that a live process is writing, and recovers one whose writer died', async () => {
    repo = gitRepo()
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, 'log-forever', repo.dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    const id = await new Promise<string>((resolve) => p.stdout.once('data', (d) => resolve(String(d).split('\n')[0]!)))
    const book = await Labbook.open({ repo: repo.dir })
    await expect(book.openRun(id)).rejects.toMatchObject({ code: 'RUN_LOCKED' })
    p.kill('SIGKILL')
    await new Promise((r) => p.on('close', r))
    const run = await book.openRun(id) // recovers the dead writer's journal first
    run.setTag('after', 'recovery')
    await run.end('KILLED')
    const r = await book.getRun(id)
    expect(r.tags.after).toBe('recovery')
    expect((await book.metricHistory(id, 'loss')).length).toBe(r.metrics.loss?.count ?? 0) // killed maybe before its first flush
  }, 60_000)
})

describe('a writer killed while it holds the branch lock', () => {
  it('does not block the next writer: the dead labbook process\'s lock is removed at once', async () => {
    repo = gitRepo()
    await (await Labbook.open({ repo: repo.dir })).init()
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, 'hold-lock', repo.dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    await new Promise<void>((resolve) => p.stdout.on('data', (d) => String(d).includes('locked') && resolve()))
    p.kill('SIGKILL')
    await new Promise((r) => p.on('close', r))
    const started = Date.now()
    const book = await Labbook.open({ repo: repo.dir })
    await (await book.startRun({ name: 'after the crash' })).end()
    expect(Date.now() - started).toBeLessThan(5000)
    expect((await book.listRuns()).map((r) => r.name)).toEqual(['after the crash'])
    expect(fsck(repo)).toBe('')
  }, 60_000)

  it('still waits for a lock held by a live process', async () => {
    repo = gitRepo()
    await (await Labbook.open({ repo: repo.dir })).init()
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, 'hold-lock', repo.dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    await new Promise<void>((resolve) => p.stdout.on('data', (d) => String(d).includes('locked') && resolve()))
    const book = await Labbook.open({ repo: repo.dir })
    let done = false
    const write = book.startRun({ name: 'waits' }).then(async (r) => { await r.end(); done = true })
    await new Promise((r) => setTimeout(r, 1500))
    expect(done).toBe(false)
    p.kill('SIGKILL')
    await write
    expect(done).toBe(true)
  }, 60_000)
})
