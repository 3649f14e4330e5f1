import { createHash } from 'node:crypto'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join, relative } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { importMlruns, parseMetricLines } from '../../src/import/index.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

const FIXTURE = new URL('../fixtures/mlflow/mlruns/', import.meta.url).pathname

// An independent, deliberately simple reading of the fixture, to check the import against the files.
function files(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true }).map(String).filter((p) => statSync(join(dir, p)).isFile()).sort()
  } catch {
    return []
  }
}
const kv = (dir: string) => Object.fromEntries(files(dir).map((k) => [k, readFileSync(join(dir, k), 'utf8')]))
const num = (s: string) => (s === 'nan' ? NaN : s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s))
const STATUS: Record<number, string> = { 1: 'RUNNING', 3: 'FINISHED', 4: 'FAILED', 5: 'KILLED' }

interface Expected { id: string; exp: string; meta: Record<string, unknown>; params: Record<string, string>; tags: Record<string, string>; dir: string }
const experiments: Array<{ name: string; lifecycle: string; tags: Record<string, string>; runs: Expected[] }> = []
for (const e of readdirSync(FIXTURE)) {
  const meta = parseYaml(readFileSync(join(FIXTURE, e, 'meta.yaml'), 'utf8')) as Record<string, string>
  const runs: Expected[] = []
  for (const r of readdirSync(join(FIXTURE, e))) {
    const dir = join(FIXTURE, e, r)
    if (r === 'tags' || !statSync(dir).isDirectory()) continue
    runs.push({ id: r, exp: e, dir, meta: parseYaml(readFileSync(join(dir, 'meta.yaml'), 'utf8')), params: kv(join(dir, 'params')), tags: kv(join(dir, 'tags')) })
  }
  experiments.push({ name: meta.name!, lifecycle: meta.lifecycle_stage!, tags: kv(join(FIXTURE, e, 'tags')), runs })
}

let repo: TestRepo
let storeCopy: string
beforeAll(() => {
  repo = gitRepo()
  // a moved store: its meta.yaml files point at file:///data/mlruns, which does not exist here
  storeCopy = mkdtempSync(join(os.tmpdir(), 'mlruns-'))
  cpSync(FIXTURE, storeCopy, { recursive: true })
})
afterAll(() => {
  repo?.cleanup()
  rmSync(storeCopy, { recursive: true, force: true })
})

describe('labbook import mlruns', () => {
  it('imports every experiment, run, param, tag, metric point and artifact of the fixture store', async () => {
    const book = await Labbook.open({ repo: repo.dir })
    const progress: number[] = []
    const res = await importMlruns(book, storeCopy, { onProgress: (done) => progress.push(done) })
    const total = experiments.reduce((n, e) => n + e.runs.length, 0)
    expect(res).toMatchObject({ experiments: 3, imported: total, skipped: 0, failed: 0, problems: [] })
    expect(progress).toHaveLength(total)
    await book.close()

    const fresh = await Labbook.open({ repo: repo.dir })
    const exps = await fresh.listExperiments({ includeDeleted: true })
    let points = 0, artifacts = 0
    for (const e of experiments) {
      const got = exps.find((x) => x.name === e.name)!
      expect(got, e.name).toBeDefined()
      expect(got.lifecycle).toBe(e.lifecycle)
      expect(got.tags).toMatchObject(e.tags)
      const runs = await fresh.listRuns({ experiment: got.id, includeDeleted: true })
      expect(runs.map((r) => r.id).sort()).toEqual(e.runs.map((r) => r.id).sort())
      for (const x of e.runs) {
        const r = runs.find((y) => y.id === x.id)!
        expect(r.name).toBe(x.meta.run_name)
        expect(r.status).toBe(STATUS[x.meta.status as number])
        expect(r.lifecycle).toBe(x.meta.lifecycle_stage)
        expect(r.startTime).toBe(x.meta.start_time)
        expect(r.endTime).toBe(x.meta.end_time)
        expect(r.user).toBe(x.meta.user_id)
        expect(r.params).toEqual(x.params)
        const { 'mlflow.runName': _n, 'mlflow.user': _u, 'mlflow.parentRunId': parent, 'mlflow.note.content': note, ...rest } = x.tags
        expect(r.tags).toEqual(rest)
        expect(r.parent).toBe(parent)
        expect(r.description).toBe(note)
        const metricDir = join(x.dir, 'metrics')
        for (const key of files(metricDir)) {
          const expected = readFileSync(join(metricDir, key), 'utf8').trim().split('\n').map((l) => l.split(' '))
            .map(([t, v, s]) => ({ key, value: num(v!), step: Number(s ?? 0), timestamp: Number(t) }))
            .sort((a, b) => a.step - b.step || a.timestamp - b.timestamp)
          expect(await fresh.metricHistory(r.id, key), `${x.id} ${key}`).toEqual(expected)
          points += expected.length
        }
        const artDir = join(x.dir, 'artifacts')
        const expectedArtifacts = files(artDir)
        expect((await fresh.listArtifacts(r.id)).map((a) => a.path).sort()).toEqual(expectedArtifacts)
        for (const p of expectedArtifacts) {
          const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
          expect(sha(await fresh.readArtifact(r.id, p))).toBe(sha(readFileSync(join(artDir, p))))
          artifacts++
        }
      }
    }
    expect(res.metricPoints).toBe(points)
    expect(res.artifacts).toBe(artifacts)
    expect(points).toBeGreaterThan(400)
    // NaN and ±inf survive
    const weird = await fresh.metricHistory('7f05b61a50fc49ff8fc17f8b2824aef3', 'weird')
    expect(weird.map((p) => p.value)).toEqual([NaN, Infinity, -Infinity])
    await fresh.close()
    fsck(repo)
  }, 60_000)

  it('is idempotent: importing again adds nothing', async () => {
    const book = await Labbook.open({ repo: repo.dir })
    const tip = await book.tip()
    const res = await importMlruns(book, storeCopy)
    expect(res.imported).toBe(0)
    expect(res.skipped).toBe(experiments.reduce((n, e) => n + e.runs.length, 0))
    expect(await book.tip()).toBe(tip)
    await book.close()
  })

  it('collects problems and still imports the good runs', async () => {
    const broken = mkdtempSync(join(os.tmpdir(), 'mlruns-broken-'))
    cpSync(FIXTURE, broken, { recursive: true })
    const runDir = join(broken, '151964451878772600', '50c68347dd664a15aee4cceb32b5d840')
    writeFileSync(join(runDir, 'meta.yaml'), 'run_id: [unclosed\n')
    const r2 = gitRepo()
    try {
      const book = await Labbook.open({ repo: r2.dir })
      const res = await importMlruns(book, broken, { experiment: 'iris_classification' })
      expect(res.experiments).toBe(1)
      expect(res.problems).toHaveLength(1)
      expect(relative(broken, res.problems[0]!.path)).toBe('151964451878772600/50c68347dd664a15aee4cceb32b5d840/meta.yaml')
      const expected = experiments.find((e) => e.name === 'iris_classification')!.runs.length - 1
      expect(res.imported).toBe(expected)
      await book.close()
    } finally {
      r2.cleanup()
      rmSync(broken, { recursive: true, force: true })
    }
  })

  it('imports deleted experiments from .trash as deleted, and a RUNNING run without ending it', async () => {
    const store = mkdtempSync(join(os.tmpdir(), 'mlruns-trash-'))
    cpSync(join(FIXTURE, '0'), join(store, '0'), { recursive: true })
    cpSync(join(FIXTURE, '151964451878772600'), join(store, '.trash', '151964451878772600'), { recursive: true })
    const runMeta = join(store, '.trash', '151964451878772600', '50c68347dd664a15aee4cceb32b5d840', 'meta.yaml')
    writeFileSync(runMeta, readFileSync(runMeta, 'utf8').replace('status: 3', 'status: 1').replace(/end_time: \d+\n/, 'end_time: null\n'))
    const r2 = gitRepo()
    try {
      const book = await Labbook.open({ repo: r2.dir })
      const res = await importMlruns(book, store)
      expect(res).toMatchObject({ experiments: 2, failed: 0, problems: [] })
      const exp = (await book.listExperiments({ includeDeleted: true })).find((e) => e.name === 'iris_classification')!
      expect(exp.lifecycle).toBe('deleted')
      const running = await book.getRun('50c68347dd664a15aee4cceb32b5d840')
      expect(running.status).toBe('RUNNING')
      expect(running.endTime).toBeUndefined()
      expect(running.metrics.loss!.count).toBeGreaterThan(10)
      await book.close()
    } finally {
      r2.cleanup()
      rmSync(store, { recursive: true, force: true })
    }
  })

  it("falls back to meta.yaml's artifact_uri when the run folder has no artifacts", async () => {
    const store = mkdtempSync(join(os.tmpdir(), 'mlruns-remote-'))
    const elsewhere = mkdtempSync(join(os.tmpdir(), 'mlruns-artifacts-'))
    cpSync(join(FIXTURE, '151964451878772600'), join(store, '151964451878772600'), { recursive: true })
    const run = join(store, '151964451878772600', '50c68347dd664a15aee4cceb32b5d840')
    cpSync(join(run, 'artifacts'), elsewhere, { recursive: true })
    rmSync(join(run, 'artifacts'), { recursive: true })
    const meta = join(run, 'meta.yaml')
    writeFileSync(meta, readFileSync(meta, 'utf8').replace(/artifact_uri: .*/, `artifact_uri: file://${elsewhere}`))
    const r2 = gitRepo()
    try {
      const book = await Labbook.open({ repo: r2.dir })
      const res = await importMlruns(book, store)
      expect(res.failed).toBe(0)
      expect((await book.listArtifacts('50c68347dd664a15aee4cceb32b5d840')).map((a) => a.path)).toEqual(['config.json', 'notes/readme.txt'])
      await book.close()
    } finally {
      r2.cleanup()
      rmSync(store, { recursive: true, force: true })
      rmSync(elsewhere, { recursive: true, force: true })
    }
  })

  it('keeps run ids that YAML would read as numbers exactly as written', async () => {
    const store = mkdtempSync(join(os.tmpdir(), 'mlruns-ids-'))
    cpSync(join(FIXTURE, '0'), join(store, '0'), { recursive: true })
    const src = join(FIXTURE, '151964451878772600', '50c68347dd664a15aee4cceb32b5d840')
    const ids = ['00000000000000000000000000000000', '12345678901234567890123456789012', '1234e56789012345678901234567890a']
    for (const id of ids) {
      cpSync(src, join(store, '0', id), { recursive: true })
      const meta = join(store, '0', id, 'meta.yaml')
      writeFileSync(meta, readFileSync(meta, 'utf8').replaceAll('50c68347dd664a15aee4cceb32b5d840', id).replace(/experiment_id: .*/, "experiment_id: '0'"))
    }
    const r2 = gitRepo()
    try {
      const book = await Labbook.open({ repo: r2.dir })
      const res = await importMlruns(book, store)
      expect(res).toMatchObject({ imported: 3, skipped: 0, failed: 0 })
      expect((await book.listRuns()).map((r) => r.id).sort()).toEqual(ids.slice().sort())
      await book.close()
    } finally {
      r2.cleanup()
      rmSync(store, { recursive: true, force: true })
    }
  })

  it('reads 2-, 3- and 5-field metric lines and reports bad ones', () => {
    const bad: string[] = []
    const pts = parseMetricLines('m', '100 0.5\n200 nan 3\n300 -inf 4 ds digest\nnot a line\n\n', (line, msg) => bad.push(`${line}: ${msg}`))
    expect(pts).toEqual([
      { key: 'm', value: 0.5, step: 0, timestamp: 100 },
      { key: 'm', value: NaN, step: 3, timestamp: 200 },
      { key: 'm', value: -Infinity, step: 4, timestamp: 300 },
    ])
    expect(bad).toHaveLength(1)
    expect(bad[0]).toMatch(/^4: /)
  })
})
