import { beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { serve } from '../../src/server/index.js'
import { gitRepo } from '../helpers/git-repo.js'
import { request } from './client.js'
import { servedRepo } from './served.js'

const t = servedRepo({ maxJsonBytes: 2_000_000 })
let runId: string
let expId: string
beforeAll(async () => {
  expId = (await t.call('POST', 'experiments/create', { name: 'errors' })).json.experiment_id
  runId = (await t.call('POST', 'runs/create', { experiment_id: expId, run_name: 'r', start_time: 1000 })).json.run.info.run_id
})

const isMlflowError = (r: { json: any }, code: string) => {
  expect(r.json).toEqual({ error_code: code, message: expect.any(String) })
}

describe('errors as MLflow sends them (never a 5xx for a client mistake)', () => {
  it('unknown endpoints and wrong methods', async () => {
    const r = await t.call('POST', 'runs/teleport', {})
    expect(r.status).toBe(404)
    isMlflowError(r, 'ENDPOINT_NOT_FOUND')
    const m = await t.call('DELETE', 'runs/create')
    expect(m.status).toBe(405)
    isMlflowError(m, 'ENDPOINT_NOT_FOUND')
  })

  it('malformed JSON, non-object bodies and missing parameters are 400', async () => {
    const bad = await t.call('POST', 'runs/log-metric', '{"run_id": ')
    expect(bad.status).toBe(400)
    isMlflowError(bad, 'INVALID_PARAMETER_VALUE')
    const arr = await t.call('POST', 'runs/log-metric', '[1,2]')
    expect(arr.status).toBe(400)
    isMlflowError(arr, 'BAD_REQUEST')
    const missing = await t.call('POST', 'runs/log-metric', { key: 'x', value: 1 })
    expect(missing.status).toBe(400)
    expect(missing.json.message).toMatch(/run_id/)
    const notNumber = await t.call('POST', 'runs/log-metric', { run_id: runId, key: 'x', value: 'abc', timestamp: 1, step: 0 })
    expect(notNumber.status).toBe(400)
    const badStep = await t.call('POST', 'runs/log-metric', { run_id: runId, key: 'x', value: 1, timestamp: 1, step: 1.5 })
    expect(badStep.status).toBe(400)
  })

  it('unknown runs and experiments are 404 RESOURCE_DOES_NOT_EXIST', async () => {
    for (const r of [
      await t.call('GET', 'runs/get', { run_id: 'nope0000' }),
      await t.call('POST', 'runs/log-batch', { run_id: 'nope0000', metrics: [] }),
      await t.call('GET', 'experiments/get', { experiment_id: '424242' }),
      await t.call('GET', 'experiments/get-by-name', { experiment_name: 'never' }),
      await t.call('GET', 'metrics/get-history', { run_id: 'nope0000', metric_key: 'x' }),
    ]) {
      expect(r.status).toBe(404)
      isMlflowError(r, 'RESOURCE_DOES_NOT_EXIST')
    }
  })

  it('duplicate experiments, bad keys, changed params, bad statuses are 400', async () => {
    const dup = await t.call('POST', 'experiments/create', { name: 'errors' })
    expect(dup.status).toBe(400)
    isMlflowError(dup, 'RESOURCE_ALREADY_EXISTS')
    const key = await t.call('POST', 'runs/log-metric', { run_id: runId, key: '../etc', value: 1, timestamp: 1, step: 0 })
    expect(key.status).toBe(400)
    isMlflowError(key, 'INVALID_PARAMETER_VALUE')
    expect((await t.call('POST', 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' })).status).toBe(200)
    expect((await t.call('POST', 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' })).status).toBe(200)
    const changed = await t.call('POST', 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.2' })
    expect(changed.status).toBe(400)
    isMlflowError(changed, 'INVALID_PARAMETER_VALUE')
    const status = await t.call('POST', 'runs/update', { run_id: runId, status: 'EXPLODED' })
    expect(status.status).toBe(400)
    const noTag = await t.call('POST', 'runs/delete-tag', { run_id: runId, key: 'never-set' })
    expect(noTag.status).toBe(404)
  })

  it('log-batch enforces MLflow limits, validates everything before writing anything', async () => {
    const metrics = Array.from({ length: 1001 }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: i }))
    const many = await t.call('POST', 'runs/log-batch', { run_id: runId, metrics })
    expect(many.status).toBe(400)
    expect(many.json.message).toMatch(/at most 1000 metrics/)
    const params = Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: 'x' }))
    expect((await t.call('POST', 'runs/log-batch', { run_id: runId, params })).status).toBe(400)
    const dupes = await t.call('POST', 'runs/log-batch', { run_id: runId, params: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] })
    expect(dupes.json.message).toMatch(/Duplicate parameter keys/)
    const big = await t.call('POST', 'runs/log-batch', { run_id: runId, tags: [{ key: 't', value: 'x'.repeat(1_100_000) }] })
    expect(big.status).toBe(400)
    expect(big.json.message).toMatch(/at most 1000000 bytes/)
    // one bad metric: nothing of the batch is logged
    const half = await t.call('POST', 'runs/log-batch', { run_id: runId, metrics: [{ key: 'ok', value: 1, timestamp: 1, step: 0 }, { key: 'bad key!', value: 1, timestamp: 1, step: 0 }] })
    expect(half.status).toBe(400)
    const run = (await t.call('GET', 'runs/get', { run_id: runId })).json.run
    expect(run.data.metrics.map((m: { key: string }) => m.key)).not.toContain('ok')
  })

  it('bodies over the server limit are refused with 413 before being read', async () => {
    const r = await request(t.srv.url, 'POST', '/api/2.0/mlflow/runs/log-batch', Buffer.alloc(2_100_000, 32))
    expect(r.status).toBe(413)
    isMlflowError(r, 'REQUEST_LIMIT_EXCEEDED')
  })

  it('truncates over-long param and tag values with a warning, as MLflow does', async () => {
    t.logs.length = 0
    expect((await t.call('POST', 'runs/log-parameter', { run_id: runId, key: 'long', value: 'p'.repeat(7000) })).status).toBe(200)
    expect((await t.call('POST', 'runs/set-tag', { run_id: runId, key: 'longtag', value: 't'.repeat(9000) })).status).toBe(200)
    const run = (await t.call('GET', 'runs/get', { run_id: runId })).json.run
    const find = (list: Array<{ key: string; value: string }>, k: string) => list.find((x) => x.key === k)!.value
    expect(find(run.data.params, 'long')).toHaveLength(6000)
    expect(find(run.data.tags, 'longtag')).toHaveLength(8000)
    expect(t.logs.filter((l) => l.startsWith('warn:') && /truncated to/.test(l))).toHaveLength(2)
  })

  it('accepts NaN and ±Infinity as strings or bare Python tokens and answers them as strings', async () => {
    const body = `{"run_id": "${runId}", "metrics": [{"key": "n", "value": NaN, "timestamp": 5, "step": 0}, {"key": "n", "value": "Infinity", "timestamp": 5, "step": 1}, {"key": "n", "value": -Infinity, "timestamp": 5, "step": 2}]}`
    expect((await t.call('POST', 'runs/log-batch', body)).status).toBe(200)
    const h = await t.call('GET', 'metrics/get-history', { run_id: runId, metric_key: 'n' })
    expect(h.json.metrics.map((m: { value: unknown }) => m.value)).toEqual(['NaN', 'Infinity', '-Infinity'])
  })

  it('refuses artifact paths that escape the run', async () => {
    const base = `/api/2.0/mlflow-artifacts/artifacts/${expId}/${runId}/artifacts`
    for (const p of [`${base}/../../../x`, `${base}/a/%2e%2e/%2e%2e/b`, `${base}/a//b`, `${base}/a\\..\\b`, `${base}/..%2Fx`]) {
      const r = await request(t.srv.url, 'PUT', p, Buffer.from('x'), { 'content-type': 'text/plain' })
      expect(r.status, p).toBe(400)
      isMlflowError(r, 'INVALID_PARAMETER_VALUE')
    }
    const other = await request(t.srv.url, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/999/${runId}/artifacts/x.txt`, Buffer.from('x'))
    expect(other.status).toBe(404)
    expect((await t.book.listArtifacts(runId)).map((a) => a.path)).toEqual([])
  })
})

describe('auth and binding', () => {
  it('with a token, requires Bearer or basic auth with the token as password', async () => {
    const r2 = gitRepo()
    const b2 = await Labbook.open({ repo: r2.dir })
    const s2 = await serve({ book: b2, port: 0, token: 's3cret' })
    try {
      const path = '/api/2.0/mlflow/experiments/get?experiment_id=0'
      const none = await request(s2.url, 'GET', path)
      expect(none.status).toBe(401)
      isMlflowError(none, 'UNAUTHENTICATED')
      expect(none.headers['www-authenticate']).toMatch(/^Basic/)
      expect((await request(s2.url, 'GET', path, undefined, { authorization: 'Bearer wrong' })).status).toBe(401)
      expect((await request(s2.url, 'GET', path, undefined, { authorization: 'Bearer s3cret' })).status).toBe(200)
      const basic = 'Basic ' + Buffer.from('anyone:s3cret').toString('base64')
      expect((await request(s2.url, 'GET', path, undefined, { authorization: basic })).json.experiment.name).toBe('Default')
      const wrongBasic = 'Basic ' + Buffer.from('s3cret:nope').toString('base64')
      expect((await request(s2.url, 'GET', path, undefined, { authorization: wrongBasic })).status).toBe(401)
      // the artifact proxy is guarded too
      expect((await request(s2.url, 'GET', '/api/2.0/mlflow-artifacts/artifacts?path=0')).status).toBe(401)
    } finally {
      await s2.close()
      await b2.close()
      r2.cleanup()
    }
  })

  it('refuses a non-loopback address without a token', async () => {
    await expect(serve({ book: t.book, host: '0.0.0.0', port: 0 })).rejects.toMatchObject({ code: 'USAGE' })
    await expect(serve({ book: t.book, host: '192.168.1.1', port: 0 })).rejects.toMatchObject({ code: 'USAGE' })
  })

  it('binds loopback by default', async () => {
    expect(t.srv.host).toBe('127.0.0.1')
  })
})
