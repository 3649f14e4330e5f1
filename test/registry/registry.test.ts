// The model registry on the branch: library API, audit trail, and version numbers that stay unique across clones.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { modelDirName, modelNameOfDir } from '../../src/model/registry.js'
import { searchVersions } from '../../src/registry/search.js'
import { pull, push } from '../../src/sync/remote.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

const cleanup: Array<() => void> = []
afterEach(() => { while (cleanup.length) cleanup.pop()!() })

function repo(): TestRepo {
  const r = gitRepo()
  cleanup.push(() => r.cleanup())
  return r
}

describe('registry library', () => {
  it('registers, aliases, promotes; refuses what MLflow refuses; leaves the user untouched', async () => {
    const r = repo()
    const before = r.userState()
    const book = await Labbook.open({ repo: r.dir })
    const run = await book.startRun({ name: 'rf' })
    run.logMetric('acc', 0.9)
    await run.end()
    const v1 = await book.models.createVersion('iris', { source: `runs:/${run.id}/model`, runId: run.id, createModel: true })
    const v2 = await book.models.createVersion('iris', { source: `runs:/${run.id}/model`, runId: run.id })
    expect([v1.version, v2.version]).toEqual([1, 2])
    await book.models.setAlias('iris', 'champion', 1)
    await book.models.setAlias('iris', 'champion', 2) // a move
    await book.models.transitionStage('iris', 1, 'production')
    await book.models.transitionStage('iris', 2, 'Production', true) // archives version 1
    expect((await book.models.version('iris', '@champion')).version).toBe(2)
    expect((await book.models.version('iris', 'Production')).version).toBe(2)
    expect((await book.models.version('iris', 1)).stage).toBe('Archived')
    expect((await book.models.version('iris', 'latest')).version).toBe(2)
    await expect(book.models.createModel('iris')).rejects.toMatchObject({ code: 'MODEL_EXISTS' })
    await expect(book.models.createVersion('nope', { source: 'x' })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' })
    await expect(book.models.setAlias('iris', 'latest', 1)).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(book.models.version('iris', 7)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' })
    await expect(book.models.transitionStage('iris', 1, 'Prod')).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    const subjects = r.git('log', '--format=%s', 'labbook', '--', 'models').trim().split('\n').reverse()
    expect(subjects).toEqual([
      `register iris version 1 from run ${run.id}`, `register iris version 2 from run ${run.id}`,
      'alias iris@champion to version 1', 'move iris@champion from version 1 to 2',
      'promote iris version 1 to Production', 'promote iris version 2 to Production',
    ])
    // the author of each change is the git user: who promoted what, when
    expect(r.git('log', '-1', '--format=%an <%ae>', 'labbook', '--', 'models').trim()).toBe('Test User <test@example.com>')
    await book.close()
    expect(r.userState()).toBe(before)
    fsck(r)
  })

  it('names of any characters map to fsck-clean folders and back', () => {
    for (const n of ['iris', 'a/b', '..', '.hidden', 'x y', 'modèle', 'a.b', 'a..b', '%41', 'end.']) {
      const d = modelDirName(n)
      expect(d).toMatch(/^[A-Za-z0-9_%-][A-Za-z0-9_.%-]*$/)
      expect(d).not.toMatch(/\.\.|\.$/)
      expect(modelNameOfDir(d)).toBe(n)
    }
  })

  it('search_model_versions over 1,000 models x 10 versions stays fast when warm', async () => {
    // a synthetic registry, in memory: the search is a pure function over the records (bench/registry.ts measures the store)
    const records = Array.from({ length: 1000 }, (_, i) => ({
      model: { name: `m${i}`, createdAt: i, updatedAt: i, tags: {} },
      aliases: [],
      versions: Array.from({ length: 10 }, (_, v) => ({
        id: `${i}-${v}`, model: `m${i}`, version: v + 1, createdAt: v, updatedAt: v, source: 's', runId: `r${i % 50}`, stage: 'None' as const, status: 'READY' as const, tags: { k: String(v) },
      })),
    }))
    searchVersions(records, { filter: "name = 'm5'" })
    const t = performance.now()
    const { versions } = searchVersions(records, { filter: "run_id = 'r7' AND version_number >= 5", orderBy: ['version_number DESC'], limit: 100 })
    const ms = performance.now() - t
    expect(versions.length).toBe(100)
    expect(versions[0]!.version).toBe(10)
    expect(ms).toBeLessThan(2000) // bench/registry.ts holds the 100 ms target; this only guards against a quadratic slip on a loaded box
  })
})

describe('two clones register concurrently, then pull', () => {
  it('keeps every version, gives each a unique number, the same in both clones; aliases follow', async () => {
    const origin = repo()
    const bareDir = fs.mkdtempSync(join(os.tmpdir(), 'labbook-remote-'))
    cleanup.push(() => fs.rmSync(bareDir, { recursive: true, force: true }))
    const bare = join(bareDir, 'remote.git')
    execFileSync('git', ['clone', '-q', '--bare', origin.dir, bare])
    const clones = [0, 1].map((i) => {
      const dir = fs.mkdtempSync(join(os.tmpdir(), `labbook-clone${i}-`))
      cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }))
      execFileSync('git', ['clone', '-q', bare, dir])
      execFileSync('git', ['config', 'user.name', `Clone ${i}`], { cwd: dir })
      execFileSync('git', ['config', 'user.email', `c${i}@example.com`], { cwd: dir })
      return dir
    })
    // a shared start: clone 0 registers version 1 and pushes; clone 1 pulls it
    const a = await Labbook.open({ repo: clones[0] })
    await a.models.createVersion('iris', { source: 'runs:/base/model', createModel: true })
    await push(a, 'origin')
    const b = await Labbook.open({ repo: clones[1] })
    await pull(b, 'origin')
    // both register at once, without seeing each other: each thinks its versions are 2 and 3
    const [va, vb] = await Promise.all([
      (async () => [await a.models.createVersion('iris', { source: 'runs:/a1/model' }), await a.models.createVersion('iris', { source: 'runs:/a2/model' })])(),
      (async () => [await b.models.createVersion('iris', { source: 'runs:/b1/model' }), await b.models.createVersion('iris', { source: 'runs:/b2/model' })])(),
    ])
    expect(va.map((v) => v.version)).toEqual([2, 3])
    expect(vb.map((v) => v.version)).toEqual([2, 3])
    await b.models.setAlias('iris', 'champion', 3) // points at b2
    await push(a, 'origin')
    const pushedB = await push(b, 'origin') // loses the race, merges, pushes
    expect(pushedB).toBeTruthy()
    await pull(a, 'origin')
    const numbers = async (book: Labbook) => Object.fromEntries((await book.models.get('iris')).versions.map((v) => [v.source, v.version]))
    const inA = await numbers(a), inB = await numbers(b)
    expect(inA).toEqual(inB)
    expect(Object.values(inA).sort()).toEqual([1, 2, 3, 4, 5])
    expect(inA['runs:/base/model']).toBe(1)
    // the rule: the version registered first keeps a contested number
    const firstA = va[0]!, firstB = vb[0]!
    const first = firstA.createdAt < firstB.createdAt || (firstA.createdAt === firstB.createdAt && firstA.id < firstB.id) ? firstA : firstB
    expect(inA[first.source]).toBe(2)
    const renumbered = (await a.models.get('iris')).versions.filter((v) => v.renumberedFrom !== undefined)
    expect(renumbered.map((v) => v.renumberedFrom).sort()).toEqual([2, 3])
    // the alias follows its version, whatever number it has now
    expect((await a.models.version('iris', '@champion')).source).toBe('runs:/b2/model')
    expect((await b.models.version('iris', '@champion')).source).toBe('runs:/b2/model')
    // the next registration in either clone takes a fresh number
    expect((await a.models.createVersion('iris', { source: 'runs:/a3/model' })).version).toBe(6)
    await a.close()
    await b.close()
    for (const dir of clones) execFileSync('git', ['fsck', '--strict', '--no-progress'], { cwd: dir })
  }, 180_000)
})
