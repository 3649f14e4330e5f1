// The model registry's REST API, replaying the 2.12.2 client's request shapes (test/fixtures/mlflow/registry-requests.jsonl,
// built from model_registry.proto and the client's RestStore: GET fields in the query string, DELETE/PATCH in a JSON body).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { api } from './client.js'
import { loadRecording, replay, uploadBytes, type Replayed } from './replay.js'

let repo: TestRepo
let book: Labbook
let srv: RunningServer
let results: Replayed[]
let runId: string
let before: string
const recording = loadRecording('registry-requests.jsonl')

beforeAll(async () => {
  repo = gitRepo()
  before = repo.userState()
  book = await Labbook.open({ repo: repo.dir })
  srv = await serve({ book, port: 0 })
  const out = await replay(srv.url, recording)
  results = out.results
  runId = [...out.runIds.values()][0]!
}, 60_000)

afterAll(async () => {
  await srv?.close()
  await book?.close()
  repo?.cleanup()
})

const at = (endpoint: string, nth = 0) => results.filter((r) => r.req.path.endsWith(endpoint))[nth]!
const body = (r: Replayed) => r.json as any

describe('model registry REST API (MLflow 2.x shapes)', () => {
  it('answers every request as the client needs', () => {
    const statuses = results.map((r) => `${r.req.method} ${r.req.path.split('/mlflow/')[1] ?? r.req.path} ${r.status}`)
    const expectedErrors = [
      'POST registered-models/create 400', // the second register_model: RESOURCE_ALREADY_EXISTS, which the client catches
      'GET registered-models/alias 404', // after the alias was deleted
      'GET model-versions/get 404', // after the version was deleted
      'GET registered-models/get 404', // after the model was deleted
    ]
    expect(statuses.filter((s) => !s.endsWith(' 200'))).toEqual(expectedErrors)
    for (const r of results.filter((x) => x.status !== 200)) expect(body(r)).toMatchObject({ error_code: expect.stringMatching(/RESOURCE_ALREADY_EXISTS|RESOURCE_DOES_NOT_EXIST/) })
    expect(body(at('registered-models/create', 1)).error_code).toBe('RESOURCE_ALREADY_EXISTS')
  })

  it('registers versions 1 and 2 from the run, with MLflow entity shapes', () => {
    const v1 = body(at('model-versions/create')).model_version
    expect(v1).toMatchObject({ name: 'iris-rf', version: '1', current_stage: 'None', status: 'READY', run_id: runId, user_id: 'root', source: `mlflow-artifacts:/0/${runId}/artifacts/model`, tags: [], aliases: [] })
    expect(typeof v1.creation_timestamp).toBe('number')
    expect(body(at('model-versions/create', 1)).model_version).toMatchObject({ version: '2', description: 'retrained', tags: [{ key: 'data', value: 'v2' }] })
    expect(body(at('model-versions/get')).model_version.version).toBe('1')
  })

  it('aliases, stages, latest versions, tags and descriptions', () => {
    expect(body(at('registered-models/alias', 0))).toEqual({}) // POST
    expect(body(results.find((r) => r.req.method === 'GET' && r.req.path.endsWith('registered-models/alias'))!).model_version).toMatchObject({ version: '1', aliases: ['champion'] })
    expect(body(at('model-versions/transition-stage')).model_version).toMatchObject({ version: '2', current_stage: 'Production' })
    expect(body(at('registered-models/get-latest-versions')).model_versions.map((v: any) => v.version)).toEqual(['2'])
    const model = body(at('registered-models/get')).registered_model
    expect(model).toMatchObject({ name: 'iris-rf', description: 'Iris random forest', tags: [{ key: 'team', value: 'vision' }], aliases: [{ alias: 'champion', version: '1' }] })
    expect(model.latest_versions.map((v: any) => [v.version, v.current_stage])).toEqual([['1', 'None'], ['2', 'Production']])
  })

  it('searches models and versions with MLflow filters and order_by', () => {
    expect(body(at('registered-models/search')).registered_models.map((m: any) => m.name)).toEqual(['iris-rf'])
    expect(body(at('model-versions/search')).model_versions.map((v: any) => v.version)).toEqual(['2', '1'])
    expect(body(at('model-versions/search', 1)).model_versions.map((v: any) => v.version)).toEqual(['2'])
  })

  it('resolves models:/iris-rf/1 and models:/iris-rf@champion to the run artifacts, downloadable through the proxy', () => {
    const uri = `mlflow-artifacts:/0/${runId}/artifacts/model`
    expect(body(at('model-versions/get-download-uri', 0))).toEqual({ artifact_uri: uri })
    expect(body(at('model-versions/get-download-uri', 1))).toEqual({ artifact_uri: uri })
    const listing = results.find((r) => r.req.path === '/api/2.0/mlflow-artifacts/artifacts')!
    expect(body(listing).files.map((f: any) => f.path)).toEqual(['MLmodel', 'model.pkl'])
    const get = results.find((r) => r.req.method === 'GET' && r.req.path.endsWith('/model/MLmodel'))!
    expect(get.status).toBe(200)
    expect(String(get.json)).toContain(`run_id: `)
    expect(uploadBytes(recording.find((r) => r.path.endsWith('/model/MLmodel'))!.body!).byteLength).toBeGreaterThan(0)
  })

  it('every change is a commit on the branch: git log is the audit trail', async () => {
    const log = repo.git('log', '--format=%s', 'labbook', '--', 'models').trim().split('\n').reverse()
    expect(log).toEqual([
      'register model iris-rf',
      `register iris-rf version 1 from run ${runId}`,
      `register iris-rf version 2 from run ${runId}`,
      'alias iris-rf@champion to version 1',
      'promote iris-rf version 2 to Production',
      'describe iris-rf version 1',
      'tag iris-rf version 1',
      'tag model iris-rf',
      'describe model iris-rf',
      'untag iris-rf version 1',
      'untag model iris-rf',
      'remove alias iris-rf@champion',
      'rename model iris-rf to iris-forest',
      'delete iris-forest version 1',
      `register iris-forest version 3 from run ${runId}`,
      'delete model iris-forest',
    ])
    // a deleted version's number is never reused (version 3 after deleting 1 of 2)
    expect(repo.git('log', '-1', '--format=%B', 'labbook', '--grep', 'version 3')).toContain('Labbook-Model-Version: 3')
    expect(repo.userState()).toBe(before)
    fsck(repo)
  })

  it('MLflow 3: registers a logged model (model_id, source models:/<id>) and resolves its files', async () => {
    const call = api(srv.url)
    const model = (await call('POST', 'logged-models', { experiment_id: '0', name: 'clf', source_run_id: runId })).json.model
    const id = model.info.model_id as string
    expect((await call('POST', 'registered-models/create', { name: 'clf' })).status).toBe(200)
    const v = await call('POST', 'model-versions/create', { name: 'clf', source: `models:/${id}`, run_id: runId, model_id: id })
    expect(v.status).toBe(200)
    expect(v.json.model_version).toMatchObject({ version: '1', model_id: id, source: `models:/${id}` })
    const uri = await call('GET', 'model-versions/get-download-uri', { name: 'clf', version: '1' })
    expect(uri.json).toEqual({ artifact_uri: `mlflow-artifacts:/0/models/${id}/artifacts` })
  })

  it('refuses bad input with MLflow errors', async () => {
    const call = api(srv.url)
    expect((await call('POST', 'registered-models/create', {})).json.error_code).toBe('INVALID_PARAMETER_VALUE')
    expect((await call('GET', 'model-versions/get', { name: 'nope', version: '1' })).json.error_code).toBe('RESOURCE_DOES_NOT_EXIST')
    await call('POST', 'registered-models/create', { name: 'bad' })
    expect((await call('POST', 'model-versions/create', { name: 'bad', source: 'x', run_id: 'f'.repeat(32) })).json.error_code).toBe('RESOURCE_DOES_NOT_EXIST')
    expect((await call('GET', 'model-versions/get', { name: 'bad', version: 'one' })).json.error_code).toBe('INVALID_PARAMETER_VALUE')
    expect((await call('POST', 'registered-models/alias', { name: 'bad', alias: 'v1', version: '1' })).json.error_code).toBe('INVALID_PARAMETER_VALUE')
    expect((await call('POST', 'model-versions/transition-stage', { name: 'bad', version: '1', stage: 'Prod' })).json.error_code).toBe('INVALID_PARAMETER_VALUE')
    expect((await call('GET', 'model-versions/search', { filter: 'nonsense ~~ 1' })).json.error_code).toBe('INVALID_PARAMETER_VALUE')
  })
})
