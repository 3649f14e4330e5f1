import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { loadRecording, replay, sha256, uploadBytes, type Replayed } from './replay.js'

// The MLflow 2.12.2 client's own requests (iris example + extras), replayed against a real server on loopback.
let repo: TestRepo
let srv: RunningServer
let book: Labbook
let results: Replayed[]
let runIds: Map<string, string>
const warnings: string[] = []
const recording = loadRecording()

beforeAll(async () => {
  repo = gitRepo({ 'demo.py': 'print("iris")\n' })
  book = await Labbook.open({ repo: repo.dir })
  srv = await serve({ book, port: 0, log: (level, m) => warnings.push(`${level}: ${m}`) })
  ;({ results, runIds } = await replay(srv.url, recording))
  await srv.close()
  await book.close()
}, 60_000)

afterAll(() => repo?.cleanup())

describe('replaying the MLflow 2.12.2 client', () => {
  it('answers every request as the client needs', () => {
    const statuses = results.map((r) => `${r.req.method} ${r.req.path.replace(/[0-9a-f]{32}/g, 'RUN')} ${r.status}`)
    // the first get-by-name must be a 404 RESOURCE_DOES_NOT_EXIST, or the client never creates the experiment
    expect(results[0]!.status).toBe(404)
    expect(results[0]!.json).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' })
    expect(statuses.slice(1).filter((s) => !s.endsWith(' 200'))).toEqual([])
    for (const r of results) expect(typeof r.json).toBe('object')
    expect(warnings.filter((w) => w.startsWith('error'))).toEqual([])
  })

  it('returns MLflow-shaped entities', () => {
    const exp = results.find((r) => r.req.path.endsWith('experiments/get'))!.json as { experiment: Record<string, unknown> }
    expect(exp.experiment).toMatchObject({ name: 'iris_classification', lifecycle_stage: 'active' })
    expect(exp.experiment.artifact_location).toBe(`mlflow-artifacts:/${exp.experiment.experiment_id}`)
    const created = results.find((r) => r.req.path.endsWith('runs/create'))!.json as { run: { info: Record<string, unknown>; data: { tags: Array<{ key: string; value: string }> } } }
    expect(created.run.info).toMatchObject({ run_name: 'random_forest_v1', status: 'RUNNING', user_id: 'root', start_time: 1795663176775, lifecycle_stage: 'active' })
    expect(created.run.info.artifact_uri).toBe(`mlflow-artifacts:/${exp.experiment.experiment_id}/${created.run.info.run_id}/artifacts`)
    expect(created.run.data.tags).toContainEqual({ key: 'mlflow.runName', value: 'random_forest_v1' })
    const got = results.find((r) => r.req.path.endsWith('runs/get'))!.json as { run: { data: { params: unknown[]; metrics: unknown[] } } }
    expect(got.run.data.params).toEqual(expect.arrayContaining([{ key: 'n_estimators', value: '100' }, { key: 'max_depth', value: '5' }]))
    expect(got.run.data.metrics).toEqual([{ key: 'accuracy', value: 0.9333333333333333, timestamp: 1795663177011, step: 0 }])
  })

  it('searches with the filter and returns whole runs; get-history has all 5 points', () => {
    const search = results.find((r) => r.req.path.endsWith('runs/search'))!.json as { runs: Array<{ info: { run_name: string }; data: object }>; next_page_token?: string }
    expect(search.runs.map((r) => r.info.run_name).sort()).toEqual(['child', 'extras', 'random_forest_v1'])
    expect(search.next_page_token).toBeUndefined()
    const hist = results.find((r) => r.req.path.endsWith('metrics/get-history'))!.json as { metrics: Array<{ step: number; value: number }> }
    expect(hist.metrics.map((m) => [m.step, m.value])).toEqual([[0, 0.5], [1, 0.6], [2, 0.7], [3, 0.8], [4, 0.9]])
  })

  it('leaves every param, metric point, tag and artifact on the branch', async () => {
    const fresh = await Labbook.open({ repo: repo.dir })
    const exp = await fresh.getExperiment('iris_classification')
    const runs = await fresh.listRuns({ experiment: exp.id })
    expect(runs).toHaveLength(3)
    const byName = Object.fromEntries(runs.map((r) => [r.name, r]))
    const iris = byName.random_forest_v1!, extras = byName.extras!, child = byName.child!
    expect(iris).toMatchObject({ status: 'FINISHED', startTime: 1795663176775, endTime: 1795663177692, user: 'root', params: { n_estimators: '100', max_depth: '5' } })
    expect(iris.tags).toMatchObject({ 'mlflow.source.name': 'demo.py', 'mlflow.source.type': 'LOCAL' })
    expect(JSON.parse(iris.tags['mlflow.log-model.history']!)[0]).toMatchObject({ artifact_path: 'model', run_id: iris.id })
    expect(await fresh.metricHistory(iris.id, 'accuracy')).toEqual([{ key: 'accuracy', value: 0.9333333333333333, step: 0, timestamp: 1795663177011 }])
    expect(extras).toMatchObject({ status: 'FINISHED', endTime: 1795663180885, tags: { team: 'ml-platform' } })
    expect((await fresh.metricHistory(extras.id, 'loss')).map((p) => p.value)).toEqual([1, 0.5, 0.3333333333333333, 0.25, 0.2])
    expect(child).toMatchObject({ parent: extras.id, params: { child_param: 'x' }, status: 'FINISHED' })
    // the client sent no git commit: nothing of the served repository is attached (see semantics.test.ts)
    expect(iris.source.commit).toBeUndefined()
    expect((await fresh.listArtifacts(iris.id)).map((a) => a.path)).not.toContain('labbook/uncommitted.diff')

    // every uploaded file, byte for byte
    for (const r of results.filter((x) => x.req.method === 'PUT')) {
      const m = /artifacts\/[^/]+\/([0-9a-f]{32})\/artifacts\/(.+)$/.exec(r.req.path)!
      const data = await fresh.readArtifact(runIds.get(m[1]!)!, m[2]!)
      expect(data.byteLength).toBe(r.req.body!._upload_bytes)
      expect(sha256(data)).toBe(sha256(uploadBytes(r.req.body!)))
      if (r.req.body!._text_head !== undefined && Buffer.byteLength(r.req.body!._text_head as string) === r.req.body!._upload_bytes) {
        expect(sha256(data)).toBe(r.req.body!._sha256)
      }
    }
    expect((await fresh.listArtifacts(iris.id)).map((a) => a.path)).toEqual(expect.arrayContaining(['model/MLmodel', 'model/model.pkl', 'model/metadata/conda.yaml']))
    await fresh.close()
    fsck(repo)
  })
})
