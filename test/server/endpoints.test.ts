import { describe, expect, it } from 'vitest'
import { request } from './client.js'
import { servedRepo } from './served.js'

const t = servedRepo()

async function newRun(experiment_id: string, run_name: string, tags: Array<{ key: string; value: string }> = []) {
  const r = await t.call('POST', 'runs/create', { experiment_id, run_name, start_time: Date.now(), tags })
  expect(r.status).toBe(200)
  return r.json.run.info.run_id as string
}

describe('experiments', () => {
  it('create, get, search with filter/order/paging, update, tags, delete and restore', async () => {
    const ids: string[] = []
    for (const name of ['alpha', 'beta', 'gamma']) {
      const r = await t.call('POST', 'experiments/create', { name, tags: [{ key: 'team', value: name === 'beta' ? 'vision' : 'nlp' }] })
      ids.push(r.json.experiment_id)
    }
    const got = (await t.call('GET', 'experiments/get', { experiment_id: ids[1]! })).json.experiment
    expect(got).toMatchObject({ name: 'beta', lifecycle_stage: 'active', artifact_location: `mlflow-artifacts:/${ids[1]}`, tags: [{ key: 'team', value: 'vision' }] })
    expect(typeof got.creation_time).toBe('number')

    const nlp = await t.call('POST', 'experiments/search', { filter: "tags.team = 'nlp'", order_by: ['name DESC'] })
    expect(nlp.json.experiments.map((e: { name: string }) => e.name)).toEqual(['gamma', 'alpha'])
    const like = await t.call('GET', 'experiments/search', { filter: "name LIKE '%a'", max_results: 10 })
    expect(like.json.experiments.map((e: { name: string }) => e.name).sort()).toEqual(['alpha', 'beta', 'gamma'])
    const page1 = await t.call('POST', 'experiments/search', { max_results: 2, order_by: ['name ASC'] })
    expect(page1.json.experiments.map((e: { name: string }) => e.name)).toEqual(['Default', 'alpha'])
    const page2 = await t.call('POST', 'experiments/search', { max_results: 2, order_by: ['name ASC'], page_token: page1.json.next_page_token })
    expect(page2.json.experiments.map((e: { name: string }) => e.name)).toEqual(['beta', 'gamma'])
    expect(page2.json.next_page_token).toBeUndefined()
    expect((await t.call('POST', 'experiments/search', { filter: 'name ~ 3' })).status).toBe(400)

    expect((await t.call('POST', 'experiments/update', { experiment_id: ids[2]!, new_name: 'delta' })).status).toBe(200)
    expect((await t.call('GET', 'experiments/get-by-name', { experiment_name: 'delta' })).json.experiment.experiment_id).toBe(ids[2])
    expect((await t.call('POST', 'experiments/set-experiment-tag', { experiment_id: ids[2]!, key: 'stage', value: 'prod' })).status).toBe(200)
    expect((await t.book.getExperiment(ids[2]!)).tags).toMatchObject({ stage: 'prod' })

    expect((await t.call('POST', 'experiments/delete', { experiment_id: ids[0]! })).status).toBe(200)
    expect((await t.call('GET', 'experiments/get-by-name', { experiment_name: 'alpha' })).json.experiment.lifecycle_stage).toBe('deleted')
    const deleted = await t.call('POST', 'experiments/search', { view_type: 'DELETED_ONLY' })
    expect(deleted.json.experiments.map((e: { name: string }) => e.name)).toEqual(['alpha'])
    const refused = await t.call('POST', 'runs/create', { experiment_id: ids[0]!, start_time: 1 })
    expect(refused.status).toBe(400)
    expect((await t.call('POST', 'experiments/restore', { experiment_id: ids[0]! })).status).toBe(200)
    expect((await t.call('POST', 'experiments/delete', { experiment_id: '0' })).status).toBe(400)
  })
})

describe('runs', () => {
  it('search pages with page_token, filters on system tags, orders; delete/restore follow run_view_type', async () => {
    const exp = (await t.call('POST', 'experiments/create', { name: 'search' })).json.experiment_id
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const id = await newRun(exp, `run-${i}`)
      ids.push(id)
      await t.call('POST', 'runs/log-batch', { run_id: id, metrics: [{ key: 'acc', value: i / 10, timestamp: 1, step: 0 }], params: [{ key: 'i', value: String(i) }] })
    }
    for (const id of ids.slice(0, 3)) await t.call('POST', 'runs/update', { run_id: id, status: 'FINISHED', end_time: Date.now() })
    const seen: string[] = []
    let token: string | undefined
    do {
      const r = await t.call('POST', 'runs/search', { experiment_ids: [exp], max_results: 2, order_by: ['metrics.acc DESC'], ...(token ? { page_token: token } : {}) })
      expect(r.status).toBe(200)
      seen.push(...r.json.runs.map((x: { info: { run_name: string } }) => x.info.run_name))
      token = r.json.next_page_token
    } while (token)
    expect(seen).toEqual(['run-4', 'run-3', 'run-2', 'run-1', 'run-0'])
    const byTag = await t.call('POST', 'runs/search', { experiment_ids: [exp], filter: "tags.mlflow.runName = 'run-2'" })
    expect(byTag.json.runs.map((x: { info: { run_id: string } }) => x.info.run_id)).toEqual([ids[2]])
    const finished = await t.call('POST', 'runs/search', { experiment_ids: [exp], filter: "attributes.status = 'FINISHED' and params.i != '0'" })
    expect(finished.json.runs).toHaveLength(2)
    expect((await t.call('POST', 'runs/search', { experiment_ids: [exp], filter: 'metrics.acc >' })).status).toBe(400)

    expect((await t.call('POST', 'runs/delete', { run_id: ids[1]! })).status).toBe(200)
    const active = await t.call('POST', 'runs/search', { experiment_ids: [exp] })
    expect(active.json.runs).toHaveLength(4)
    const del = await t.call('POST', 'runs/search', { experiment_ids: [exp], run_view_type: 'DELETED_ONLY' })
    expect(del.json.runs.map((x: { info: { run_id: string; lifecycle_stage: string } }) => [x.info.run_id, x.info.lifecycle_stage])).toEqual([[ids[1], 'deleted']])
    // MLflow refuses writes to a deleted run
    const refused = await t.call('POST', 'runs/log-metric', { run_id: ids[1]!, key: 'acc', value: 1, timestamp: 1, step: 1 })
    expect(refused.status).toBe(400)
    expect(refused.json.message).toMatch(/must be in the 'active' state/)
    expect((await t.call('POST', 'runs/restore', { run_id: ids[1]! })).status).toBe(200)
    expect((await t.call('POST', 'runs/log-metric', { run_id: ids[1]!, key: 'acc', value: 1, timestamp: 1, step: 1 })).status).toBe(200)
    expect((await t.call('POST', 'runs/search', { experiment_ids: [exp], run_view_type: 'ALL' })).json.runs).toHaveLength(5)
    // a run deleted elsewhere (the CLI, another server) is refused too
    await t.book.deleteRun(ids[4]!)
    await t.call('POST', 'runs/update', { run_id: ids[4]!, status: 'FINISHED', end_time: 5 })
    const elsewhere = await t.call('POST', 'runs/log-batch', { run_id: ids[4]!, metrics: [{ key: 'acc', value: 1, timestamp: 1, step: 9 }] })
    expect(elsewhere.status).toBe(400)
  })

  it('set-tag of system tags renames and describes; delete-tag; logging after the end reopens the run', async () => {
    const id = await newRun('0', 'first')
    await t.call('POST', 'runs/set-tag', { run_id: id, key: 'mlflow.runName', value: 'renamed' })
    await t.call('POST', 'runs/set-tag', { run_id: id, key: 'mlflow.note.content', value: 'a **note**' })
    await t.call('POST', 'runs/set-tag', { run_id: id, key: 'x', value: '1' })
    expect((await t.call('POST', 'runs/delete-tag', { run_id: id, key: 'x' })).status).toBe(200)
    const upd = await t.call('POST', 'runs/update', { run_id: id, status: 'KILLED', end_time: 12345678 })
    expect(upd.json.run_info).toMatchObject({ status: 'KILLED', end_time: 12345678, run_name: 'renamed' })
    // MLflow lets clients log to finished runs (log_artifact after end_run, late metrics)
    expect((await t.call('POST', 'runs/log-metric', { run_id: id, key: 'late', value: 1, timestamp: 5, step: 0 })).status).toBe(200)
    const run = (await t.call('GET', 'runs/get', { run_id: id })).json.run
    expect(run.info).toMatchObject({ run_name: 'renamed', status: 'KILLED' })
    expect(run.data.tags).toEqual(expect.arrayContaining([{ key: 'mlflow.note.content', value: 'a **note**' }]))
    expect(run.data.tags.map((t: { key: string }) => t.key)).not.toContain('x')
    expect(run.data.metrics).toEqual([{ key: 'late', value: 1, timestamp: 5, step: 0 }])
    expect((await t.book.getRun(id))).toMatchObject({ name: 'renamed', description: 'a **note**', status: 'KILLED' })
  })

  it('get-history pages; bulk-interval samples steps and keeps the ends', async () => {
    const id = await newRun('0', 'curves')
    const metrics = Array.from({ length: 100 }, (_, s) => ({ key: 'loss', value: 1 / (s + 1), timestamp: 1000 + s, step: s }))
    expect((await t.call('POST', 'runs/log-batch', { run_id: id, metrics })).status).toBe(200)
    const p1 = await t.call('GET', 'metrics/get-history', { run_id: id, metric_key: 'loss', max_results: 60 })
    expect(p1.json.metrics).toHaveLength(60)
    const p2 = await t.call('GET', 'metrics/get-history', { run_id: id, metric_key: 'loss', max_results: 60, page_token: p1.json.next_page_token })
    expect(p2.json.metrics.map((m: { step: number }) => m.step)).toEqual(Array.from({ length: 40 }, (_, i) => 60 + i))
    expect(p2.json.next_page_token).toBeUndefined()
    const bulk = await t.call('GET', 'metrics/get-history-bulk-interval', { run_ids: [id], metric_key: 'loss', max_results: 10 })
    const steps = bulk.json.metrics.map((m: { step: number }) => m.step)
    expect(steps).toHaveLength(10)
    expect(steps[0]).toBe(0)
    expect(steps[9]).toBe(99)
    expect(bulk.json.metrics[0]).toMatchObject({ run_id: id, key: 'loss', value: 1 })
    const window = await t.call('GET', 'metrics/get-history-bulk-interval', { run_ids: [id], metric_key: 'loss', start_step: 10, end_step: 19, max_results: 100 })
    expect(window.json.metrics.map((m: { step: number }) => m.step)).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i))
  })

  it('log-inputs keeps the datasets with the run, not as an artifact', async () => {
    const id = await newRun('0', 'with-data')
    const datasets = [{ tags: [{ key: 'mlflow.data.context', value: 'train' }], dataset: { name: 'iris', digest: 'abc123', source_type: 'local', source: '{}' } }]
    expect((await t.call('POST', 'runs/log-inputs', { run_id: id, datasets })).status).toBe(200)
    // Datasets live in the run (runs/get), not in an artifact: see test/server/datasets.test.ts for the full round trip.
    expect((await t.call('GET', 'runs/get', { run_id: id })).json.run.inputs.dataset_inputs).toEqual(datasets)
    await expect(t.book.readArtifact(id, 'mlflow/inputs.json')).rejects.toMatchObject({ code: 'ARTIFACT_NOT_FOUND' })
  })
})

describe('artifacts', () => {
  it('PUT, list (tracking and proxy APIs), GET and DELETE through the artifact proxy', async () => {
    const id = await newRun('0', 'files')
    const base = `/api/2.0/mlflow-artifacts/artifacts/0/${id}/artifacts`
    const png = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff))
    expect((await request(t.srv.url, 'PUT', `${base}/plots/loss%20curve.png`, png, { 'content-type': 'application/octet-stream' })).status).toBe(200)
    expect((await request(t.srv.url, 'PUT', `${base}/readme.txt`, Buffer.from('hi\n'), { 'content-type': 'text/plain' })).status).toBe(200)
    const listed = await t.call('GET', 'artifacts/list', { run_id: id })
    expect(listed.json).toEqual({ root_uri: `mlflow-artifacts:/0/${id}/artifacts`, files: [{ path: 'plots', is_dir: true }, { path: 'readme.txt', is_dir: false, file_size: 3 }] })
    const sub = await t.call('GET', 'artifacts/list', { run_id: id, path: 'plots' })
    expect(sub.json.files).toEqual([{ path: 'plots/loss curve.png', is_dir: false, file_size: 300 }])
    const proxyList = await request(t.srv.url, 'GET', `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(`0/${id}/artifacts/plots`)}`)
    expect(proxyList.json).toEqual({ files: [{ path: 'loss curve.png', is_dir: false, file_size: 300 }] })
    const got = await request(t.srv.url, 'GET', `${base}/plots/loss%20curve.png`)
    expect(got.status).toBe(200)
    expect(got.bytes.equals(png)).toBe(true)
    expect((await request(t.srv.url, 'DELETE', `${base}/readme.txt`)).status).toBe(200)
    expect((await request(t.srv.url, 'GET', `${base}/readme.txt`)).status).toBe(404)
    expect((await request(t.srv.url, 'GET', `${base}/never.txt`)).json.error_code).toBe('RESOURCE_DOES_NOT_EXIST')
  })
})

describe('MLflow 3 logged models', () => {
  it('create, upload files, finalize, get, search, tags, params, outputs, delete — stored with the run', async () => {
    const exp = (await t.call('POST', 'experiments/create', { name: 'models' })).json.experiment_id
    const id = await newRun(exp, 'trainer')
    const created = await t.call('POST', 'logged-models', { experiment_id: exp, name: 'rf', source_run_id: id, model_type: 'sklearn', params: [{ key: 'n', value: '100' }], tags: [{ key: 'k', value: 'v' }] })
    expect(created.status).toBe(200)
    const model = created.json.model
    const modelId = model.info.model_id as string
    expect(model.info).toMatchObject({ experiment_id: exp, name: 'rf', status: 'LOGGED_MODEL_PENDING', source_run_id: id, artifact_uri: `mlflow-artifacts:/${exp}/models/${modelId}/artifacts` })
    const put = await request(t.srv.url, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/${exp}/models/${modelId}/artifacts/MLmodel`, Buffer.from('flavors: {}\n'))
    expect(put.status).toBe(200)
    const sub = await request(t.srv.url, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/${exp}/models/${modelId}/artifacts/data/model.pkl`, Buffer.from('pickle'))
    expect(sub.status).toBe(200)
    expect((await t.call('GET', `logged-models/${modelId}/artifacts/directories`)).json.files).toEqual([
      { path: 'MLmodel', is_dir: false, file_size: 12 }, { path: 'data', is_dir: true },
    ])
    expect((await t.call('GET', `logged-models/${modelId}/artifacts/directories`, { artifact_directory_path: 'data' })).json.files).toEqual([
      { path: 'data/model.pkl', is_dir: false, file_size: 6 },
    ])
    expect((await t.call('GET', `logged-models/${modelId}/artifacts/directories`, { artifact_directory_path: '../x' })).status).toBe(400)
    const fin = await t.call('PATCH', `logged-models/${modelId}`, { model_id: modelId, status: 'LOGGED_MODEL_READY' })
    expect(fin.json.model.info.status).toBe('LOGGED_MODEL_READY')
    expect((await t.call('PATCH', `logged-models/${modelId}/tags`, { tags: [{ key: 'k', value: 'w' }, { key: 'z', value: '1' }] })).status).toBe(200)
    expect((await t.call('DELETE', `logged-models/${modelId}/tags/z`)).status).toBe(200)
    expect((await t.call('POST', `logged-models/${modelId}/params`, { params: [{ key: 'depth', value: '3' }] })).status).toBe(200)
    const got = (await t.call('GET', `logged-models/${modelId}`)).json.model
    expect(got.info.tags).toEqual([{ key: 'k', value: 'w' }])
    expect(got.data.params).toEqual([{ key: 'n', value: '100' }, { key: 'depth', value: '3' }])
    const search = await t.call('POST', 'logged-models/search', { experiment_ids: [exp] })
    expect(search.json.models.map((m: { info: { model_id: string } }) => m.info.model_id)).toEqual([modelId])
    expect((await t.call('POST', 'runs/outputs', { run_id: id, models: [{ model_id: modelId, step: 0 }] })).status).toBe(200)
    // on the branch, with the run
    expect(Buffer.from(await t.book.readArtifact(id, `models/${modelId}/MLmodel`)).toString()).toBe('flavors: {}\n')
    expect(JSON.parse(Buffer.from(await t.book.readArtifact(id, 'mlflow/outputs.json')).toString())).toEqual([{ model_id: modelId, step: 0 }])
    // a model outside any run gets a run of its own
    const lone = await t.call('POST', 'logged-models', { experiment_id: exp, name: 'lonely' })
    expect(lone.status).toBe(200)
    expect((await t.call('GET', 'runs/get', { run_id: lone.json.model.info.source_run_id })).json.run.info.run_name).toBe('model lonely')
    // MLflow's model filter syntax: attributes by their model names, params/tags as strings, quotes untouched
    const ids = async (filter: string) => ((await t.call('POST', 'logged-models/search', { experiment_ids: [exp], filter })).json.models ?? []).map((m: { info: { name: string } }) => m.info.name)
    expect(await ids("name = 'rf'")).toEqual(['rf'])
    expect(await ids("attributes.name LIKE 'lone%'")).toEqual(['lonely'])
    expect(await ids("params.depth = '3' AND tags.k = 'w'")).toEqual(['rf'])
    expect(await ids(`source_run_id = '${id}' AND status = 'LOGGED_MODEL_READY'`)).toEqual(['rf'])
    expect(await ids("name = 'name = x' OR params.name = 'rf'")).toEqual([])
    const bad = await t.call('POST', 'logged-models/search', { experiment_ids: [exp], filter: 'name =' })
    expect(bad.status).toBe(400)
    expect(bad.json.error_code).toBe('INVALID_PARAMETER_VALUE')
    expect((await t.call('DELETE', `logged-models/${modelId}`)).status).toBe(200)
    expect((await t.call('GET', `logged-models/${modelId}`)).status).toBe(404)
    expect((await t.call('GET', 'logged-models/m-nonsense')).status).toBe(404)
    expect((await t.call('GET', 'logged-models/%E0%A4%A')).status).toBe(400)
  })
})

describe('the rest of the HTTP surface', () => {
  it('health, the ajax-api prefix, and a page at /', async () => {
    expect((await request(t.srv.url, 'GET', '/health')).text).toBe('OK')
    expect((await request(t.srv.url, 'GET', '/ajax-api/2.0/mlflow/experiments/get?experiment_id=0')).json.experiment.name).toBe('Default')
    const home = await request(t.srv.url, 'GET', '/')
    expect(home.status).toBe(200)
    expect(home.headers['content-type']).toMatch(/html/)
  })
})
