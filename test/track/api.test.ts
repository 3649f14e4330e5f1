import fs from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Labbook, LabbookError } from '../../src/index.js'
import * as lab from '../../src/track/fluent.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo
afterEach(() => repo?.cleanup())

async function open(o: Parameters<typeof Labbook.open>[0] = {}) {
  repo = gitRepo({ 'train.py': 'print(1)\n', 'data/a.csv': 'x,y\n1,2\n' })
  return Labbook.open({ repo: repo.dir, ...o })
}

describe('logging API', () => {
  it('records a run end to end and leaves the user\'s work byte-identical', async () => {
    const book = await open()
    const before = repo.userState()
    const exp = await book.experiment('iris_classification')
    const id = await exp.run({ name: 'random_forest_v1', params: { n_estimators: 100 } }, async (run) => {
      run.logParam('max_depth', 5)
      run.logMetric('accuracy', 0.9)
      run.logMetric('accuracy', 0.93)
      run.logMetrics({ loss: 0.2, 'val/loss': 0.3 }, { step: 10 })
      run.setTag('team', 'vision')
      await run.logJson({ trees: 100 }, 'model.json')
      return run.id
    })
    const run = await book.getRun(id)
    expect(run).toMatchObject({ name: 'random_forest_v1', status: 'FINISHED', lifecycle: 'active', experiment: exp.id, params: { n_estimators: 100, max_depth: 5 }, tags: { team: 'vision' } })
    expect(run.metrics.accuracy).toMatchObject({ value: 0.93, step: 1, min: 0.9, max: 0.93, count: 2 })
    expect(run.metrics['val/loss']).toMatchObject({ value: 0.3, step: 10, count: 1 })
    expect(run.source.commit).toBe(repo.git('rev-parse', 'HEAD').trim())
    expect(run.source).toMatchObject({ branch: 'main', dirty: false })
    expect(run.endTime).toBeGreaterThanOrEqual(run.startTime)
    expect((await book.metricHistory(id, 'accuracy')).map((p) => [p.step, p.value])).toEqual([[0, 0.9], [1, 0.93]])
    expect(JSON.parse(Buffer.from(await book.readArtifact(id, 'model.json')).toString())).toEqual({ trees: 100 })
    expect(repo.userState()).toBe(before)
    expect(repo.git('status', '--porcelain')).toBe('')
    expect(fsck(repo)).toBe('')
    const log = repo.git('log', '--format=%B', '-1', 'labbook')
    expect(log).toContain(`Labbook-Run: ${id}`)
    expect(log).toContain(`Code-Commit: ${run.source.commit}`)
  })

  it('marks a run FAILED when the callback throws, and rethrows', async () => {
    const book = await open()
    const exp = await book.experiment('e')
    let id = ''
    await expect(exp.run({}, async (run) => { id = run.id; throw new Error('boom') })).rejects.toThrow('boom')
    expect((await book.getRun(id)).status).toBe('FAILED')
  })

  it('applies MLflow semantics: immutable params, overwriting tags, NaN metrics', async () => {
    const book = await open()
    const run = await book.startRun({ name: 'sem' })
    run.logParam('lr', 0.1)
    run.logParam('lr', 0.1)
    expect(() => run.logParam('lr', 0.2)).toThrow(expect.objectContaining({ code: 'PARAM_CHANGED' }))
    run.setTag('t', 'a')
    run.setTag('t', 'b')
    run.logMetric('m', NaN)
    run.logMetric('m', Infinity)
    run.logMetric('m', -Infinity)
    await run.end()
    const r = await book.getRun(run.id)
    expect(r.params.lr).toBe(0.1)
    expect(r.tags.t).toBe('b')
    expect((await book.metricHistory(run.id, 'm')).map((p) => p.value)).toEqual([NaN, Infinity, -Infinity])
  })

  it('refuses bad input with a code, a message naming the value and rule, and writes nothing half', async () => {
    const book = await open()
    const run = await book.startRun({ name: 'bad' })
    const cases: Array<[() => unknown, string, RegExp]> = [
      [() => run.logMetric('bad key!', 1), 'INVALID_KEY', /"bad key!"/],
      [() => run.logMetric('../up', 1), 'INVALID_KEY', /\.\./],
      [() => run.logMetric('/abs', 1), 'INVALID_KEY', /starts with/],
      [() => run.logMetric('a//b', 1), 'INVALID_KEY', /\/\//],
      [() => run.logMetric('k'.repeat(251), 1), 'INVALID_KEY', /250/],
      [() => run.logMetric('m', '0.5' as never), 'INVALID_VALUE', /must be a number/],
      [() => run.logMetric('m', 1, 1.5), 'INVALID_VALUE', /integer/],
      [() => run.logParam('p', 'x'.repeat(6001)), 'VALUE_TOO_LONG', /6000/],
      [() => run.setTag('t', 'x'.repeat(8001)), 'VALUE_TOO_LONG', /8000/],
      [() => run.logParams({ ok: 1, 'bad!': 2 }), 'INVALID_KEY', /bad!/],
    ]
    for (const [fn, code, message] of cases) {
      let err: unknown
      try { fn() } catch (e) { err = e }
      expect(err).toBeInstanceOf(LabbookError)
      expect((err as LabbookError).code).toBe(code)
      expect((err as LabbookError).message).toMatch(message)
    }
    await expect(run.logBytes('../escape.txt', 'x')).rejects.toMatchObject({ code: 'PATH_ESCAPE' })
    await expect(run.logBytes('/etc/passwd', 'x')).rejects.toMatchObject({ code: 'PATH_ESCAPE' })
    await run.end()
    const r = await book.getRun(run.id)
    expect(r.params).toEqual({}) // logParams with one bad key logged nothing
    expect(r.metrics).toEqual({})
    expect(await book.listArtifacts(run.id)).toEqual([])
    expect(() => run.logMetric('m', 1)).toThrow(expect.objectContaining({ code: 'RUN_ENDED' }))
  })

  it('logs files and directories as artifacts, large ones outside the branch, and refuses escaping symlinks', async () => {
    const book = await open({ artifactThreshold: 1000 })
    const dir = join(repo.dir, 'out')
    fs.mkdirSync(join(dir, 'sub'), { recursive: true })
    fs.writeFileSync(join(dir, 'small.txt'), 'hello')
    fs.writeFileSync(join(dir, 'sub', 'big.bin'), Buffer.alloc(5000, 7))
    const run = await book.startRun({ name: 'art' })
    await run.logArtifact(dir, { to: 'outputs' })
    await run.logArtifact(join(repo.dir, 'train.py'))
    fs.symlinkSync('/etc/hostname', join(dir, 'link'))
    await expect(run.logArtifact(dir)).rejects.toMatchObject({ code: 'PATH_ESCAPE' })
    await run.end()
    const list = await book.listArtifacts(run.id)
    expect(list.map((a) => [a.path, a.size, a.external])).toEqual([
      ['outputs/out/small.txt', 5, false],
      ['outputs/out/sub/big.bin', 5000, true],
      ['train.py', 9, false],
    ])
    expect(Buffer.from(await book.readArtifact(run.id, 'outputs/out/sub/big.bin'))).toEqual(Buffer.alloc(5000, 7))
    const pointer = repo.git('show', `labbook:${(await import('../../src/model/layout.js')).runDir(run.id)}/artifacts/outputs/out/sub/big.bin`)
    expect(pointer).toMatch(/^version https:\/\/git-lfs\.github\.com\/spec\/v1\noid sha256:[0-9a-f]{64}\nsize 5000\n$/)
    await expect(book.readArtifact(run.id, 'nope')).rejects.toMatchObject({ code: 'ARTIFACT_NOT_FOUND' })
  })

  it('records a dirty tree with its diff, and strips credentials from the remote', async () => {
    const book = await open()
    repo.git('remote', 'add', 'origin', 'https://user:s3cret@example.com/team/repo.git')
    fs.writeFileSync(join(repo.dir, 'train.py'), 'print(2)\n')
    const before = repo.userState()
    await new Promise((r) => setTimeout(r, 5100)) // past the code-link cache
    const run = await book.startRun({ name: 'dirty' })
    await run.end()
    const r = await book.getRun(run.id)
    expect(r.source.dirty).toBe(true)
    expect(r.source.remote).toBe('https://example.com/team/repo.git')
    expect(Buffer.from(await book.readArtifact(run.id, 'labbook/uncommitted.diff')).toString()).toContain('+print(2)')
    expect(repo.userState()).toBe(before)
  }, 20_000)

  it('reads runs, experiments and edits: list, resolve, rename, delete, restore, describe', async () => {
    const book = await open()
    const a = await (await book.experiment('A')).startRun({ name: 'alpha' })
    await a.end()
    const b = await (await book.experiment('B')).startRun({ name: 'beta', parent: a.id })
    await b.end()
    expect((await book.listRuns()).map((r) => r.name)).toEqual(['beta', 'alpha'])
    expect((await book.listRuns({ experiment: 'A' })).map((r) => r.name)).toEqual(['alpha'])
    expect((await book.resolveRun('beta')).id).toBe(b.id)
    expect((await book.resolveRun(b.id.slice(0, 24))).id).toBe(b.id)
    expect((await book.getRun(b.id)).parent).toBe(a.id)
    await book.deleteRun(a.id)
    expect((await book.listRuns()).map((r) => r.name)).toEqual(['beta'])
    expect((await book.listRuns({ includeDeleted: true })).length).toBe(2)
    await book.restoreRun(a.id)
    await book.renameRun(a.id, 'alpha2')
    await book.setRunDescription(a.id, '# Notes\nmulti-line')
    const r = await book.getRun(a.id)
    expect(r).toMatchObject({ name: 'alpha2', lifecycle: 'active', description: '# Notes\nmulti-line' })
    const expA = await book.getExperiment('A')
    await book.renameExperiment(expA.id, 'A-renamed')
    expect((await book.getExperiment(expA.id)).name).toBe('A-renamed')
    await expect(book.getRun('nope')).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' })
    await expect(book.resolveRun('0')).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' })
    expect(fsck(repo)).toBe('')
  })

  it('keeps an edit made elsewhere while the run is still being written', async () => {
    const book = await open()
    const run = await book.startRun({ name: 'live' })
    const other = await Labbook.open({ repo: repo.dir })
    await other.deleteRun(run.id)
    await other.renameRun(run.id, 'renamed elsewhere')
    run.logMetric('x', 1)
    await run.end()
    expect(await book.getRun(run.id)).toMatchObject({ lifecycle: 'deleted', name: 'renamed elsewhere', status: 'FINISHED' })
  })

  it('appends to a finished run through openRun, with steps continuing', async () => {
    const book = await open()
    const run = await book.startRun({ name: 'again' })
    run.logMetric('x', 1)
    await run.end()
    const again = await book.openRun(run.id)
    again.logMetric('x', 2)
    again.setTag('late', 'yes')
    await again.end('FINISHED')
    const hist = await book.metricHistory(run.id, 'x')
    expect(hist.map((p) => [p.step, p.value])).toEqual([[0, 1], [1, 2]])
    expect((await book.getRun(run.id)).metrics.x!.count).toBe(2)
  })

  it('reads any revision, also after git gc packed everything', async () => {
    const book = await open()
    const first = await book.startRun({ name: 'one' })
    await first.end()
    const rev1 = (await book.tip())!
    const second = await book.startRun({ name: 'two' })
    second.logMetric('m', 3)
    await second.end()
    await book.flush() // its group commit, before C git packs and prunes under it
    repo.git('gc', '--quiet', '--prune=now') // no writer is running here
    expect(fs.readdirSync(join(repo.dir, '.git/objects')).filter((d) => /^[0-9a-f]{2}$/.test(d))).toEqual([])
    const fresh = await Labbook.open({ repo: repo.dir })
    expect((await fresh.listRuns()).map((r) => r.name)).toEqual(['two', 'one'])
    expect((await (await fresh.at(rev1)).listRuns()).map((r) => r.name)).toEqual(['one'])
    // `labbook~N` back to rev1 (a run started and ended within the group-commit delay is one commit, else two)
    const since = repo.git('rev-list', '--count', `${rev1}..labbook`).trim()
    expect((await (await fresh.at(`labbook~${since}`)).listRuns()).map((r) => r.name)).toEqual(['one'])
    expect(await fresh.metricHistory(second.id, 'm')).toHaveLength(1)
  })

  it('works in a linked worktree: the branch lands in the common git dir', async () => {
    repo = gitRepo()
    const wt = join(repo.dir, '..', `${repo.dir.split('/').pop()}-wt`)
    repo.git('worktree', 'add', '-q', wt)
    try {
      const book = await Labbook.open({ repo: wt })
      await (await book.startRun({ name: 'from-worktree' })).end()
      await book.flush()
      expect(repo.git('log', '--format=%s', '-1', 'labbook')).toContain('from-worktree')
    } finally {
      fs.rmSync(wt, { recursive: true, force: true })
    }
  })

  it('offers an MLflow-style fluent module with nested runs', async () => {
    repo = gitRepo()
    lab.configure({ repo: repo.dir })
    await lab.setExperiment('fluent')
    const parent = await lab.startRun({ name: 'parent' })
    lab.logParam('a', 1)
    const child = await lab.startRun({ name: 'child' })
    lab.logMetric('m', 1)
    await lab.endRun()
    expect(lab.activeRun()?.id).toBe(parent.id)
    await lab.endRun()
    const book = await lab.getLabbook()
    expect((await book.getRun(child.id)).parent).toBe(parent.id)
    expect((await book.getRun(parent.id)).params).toEqual({ a: 1 })
  })
})

describe('keeping objects packed', () => {
  it('writes commits as packs and keeps their number bounded, so C git\'s gc --auto does not stall the user\'s next commit', async () => {
    repo = gitRepo()
    const book = await Labbook.open({ repo: repo.dir })
    const loose = () => Number(/^count: (\d+)/m.exec(repo.git('count-objects', '-v'))![1])
    const packs = () => Number(/^packs: (\d+)/m.exec(repo.git('count-objects', '-v'))![1])
    const before = loose()
    for (let i = 0; i < 20; i++) {
      const run = await book.startRun({ name: `r${i}` })
      run.logMetric('m', i)
      await run.end()
    }
    await book.flush() // the group commits of those runs
    expect(loose() - before).toBeLessThan(5) // each commit is one pack, not ~10 loose files
    expect(packs()).toBeGreaterThan(0)
    expect(packs()).toBeLessThan(20) // rolled up (gc.autoPackLimit is 50)
    const result = book.gc() // `labbook gc`: one delta-compressed pack of the branch as well
    expect(result.objects).toBeGreaterThan(100)
    expect(book.gc().objects).toBe(0) // nothing new since
    const run = await book.startRun({ name: 'after' })
    await run.end()
    await book.flush()
    expect(book.gc().objects).toBeGreaterThan(0)
    expect((await (await Labbook.open({ repo: repo.dir })).listRuns()).length).toBe(21)
    expect(fsck(repo)).toBe('')
  })
})

describe('resuming', () => {
  it('marks a finished run RUNNING again until it ends anew (MLflow start_run(run_id=…))', async () => {
    repo = gitRepo()
    const book = await Labbook.open({ repo: repo.dir })
    const run = await book.startRun({ name: 'resumable' })
    await run.end('FAILED')
    const again = await book.openRun(run.id)
    again.resume()
    await again.commit()
    const resumed = await book.getRun(run.id)
    expect(resumed.status).toBe('RUNNING')
    expect(resumed.endTime).toBeUndefined()
    await again.end('FINISHED')
    expect((await book.getRun(run.id)).status).toBe('FINISHED')
  })
})

describe('group commit', () => {
  it('runs started and ended together in one process go out in a few commits, not one per run', async () => {
    const book = await open()
    const exp = await book.experiment('sweep')
    const before = Number(repo.git('rev-list', '--count', 'labbook').trim())
    const runs = await Promise.all(Array.from({ length: 40 }, (_, i) => exp.startRun({ name: `r${i}`, params: { i } })))
    for (const r of runs) r.logMetric('loss', r.summary().params.i as number)
    await Promise.all(runs.map((r) => r.end()))
    await book.flush() // acknowledged from the journals; this commits them now instead of in ≤ 20 ms
    const commits = Number(repo.git('rev-list', '--count', 'labbook').trim()) - before
    // 80 edits (40 starts, 40 ends): the starts share a commit; the ends, each after its own journal's fdatasync,
    // share the commits of the 20 ms windows their fdatasyncs finish in
    expect(commits).toBeLessThanOrEqual(6)
    expect((await book.listRuns({ experiment: 'sweep' })).filter((r) => r.status === 'FINISHED')).toHaveLength(40)
    expect(repo.git('log', '-1', '--notes=labbook', '--format=%N', 'main').split('\n')[0]).toContain('40 runs on this commit · FINISHED 40')
    expect(fsck(repo)).toBe('')
  })
})
