// Keys a user may name `__proto__`, `constructor` or `toString` (param, tag and metric names, registry tags) survive
// every door in and every way out: the library API, `$LABBOOK_METRICS` lines and `-p`/`-t`, the MLflow server
// (log-batch, set-tag, registry tags), `labbook ls`/`show`, the server's runs/get and runs/search, and a push/pull
// merge of one run edited in two clones. Stop 22's CI failed on a model-version tag `__proto__` read back empty
// (a `{}` map assigned `out[k] = v`); maps keyed by user strings are built with keyed() (src/model/run.ts).
import fs from 'node:fs'
import { afterEach, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { Labbook } from '../../src/index.js'
import { serve } from '../../src/server/index.js'
import { captureIO } from '../helpers/cli.js'
import { assertPushable, clonesOfRemote } from '../helpers/git-repo.js'
import { api } from './client.js'

const KEYS = ['__proto__', 'constructor', 'toString']
const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }) })

async function cli(cwd: string, ...argv: string[]): Promise<string> {
  const c = captureIO(cwd)
  const r = await main(argv, c.io)
  expect(r.exitCode, `labbook ${argv.join(' ')}: ${c.stderr()}`).toBe(0)
  return c.stdout()
}

/** A run as `labbook show --json` prints it: its params, tags and metrics' last values, each an own key. */
async function shown(cwd: string, id: string) {
  const j = JSON.parse(await cli(cwd, 'show', id, '--json'))
  const own = (o: Record<string, unknown>, k: string) => (Object.hasOwn(o ?? {}, k) ? o[k] : undefined)
  return {
    params: KEYS.map((k) => own(j.params, k)),
    tags: KEYS.map((k) => own(j.tags, k)),
    metrics: KEYS.map((k) => own(j.metrics, k)),
    history: KEYS.map((k) => (own(j.history, k) as Array<{ value: number }> | undefined)?.at(-1)?.value),
  }
}

it('params, tags and metrics named __proto__, constructor and toString keep their values through every door and a merge', async () => {
  const { clones, dirs: made } = clonesOfRemote(['a', 'b'])
  dirs.push(...made)
  const [a, b] = clones as [string, string]

  // The library API.
  const book = await Labbook.open({ repo: a })
  const run = await book.startRun({ name: 'api' })
  KEYS.forEach((k, i) => { run.logParam(k, `p${i}`); run.setTag(k, `t${i}`); run.logMetric(k, i + 1) })
  await run.end()
  await book.flush()

  // The MLflow server: log-batch and set-tag on a run, registry tags on a model and a version.
  const srv = await serve({ book, port: 0, log: () => {} })
  const call = api(srv.url)
  try {
    const created = await call('POST', 'runs/create', { experiment_id: run.summary().experiment, run_name: 'served', start_time: Date.now() })
    expect(created.status, created.text).toBe(200)
    const id = created.json.run.info.run_id as string
    const batch = await call('POST', 'runs/log-batch', {
      run_id: id,
      params: KEYS.map((key, i) => ({ key, value: `p${i}` })),
      metrics: KEYS.map((key, i) => ({ key, value: i + 1, timestamp: Date.now(), step: 0 })),
    })
    expect(batch.status, batch.text).toBe(200)
    for (const [i, key] of KEYS.entries()) expect((await call('POST', 'runs/set-tag', { run_id: id, key, value: `t${i}` })).status).toBe(200)
    const tags = KEYS.map((key, i) => ({ key, value: `t${i}` }))
    expect((await call('POST', 'registered-models/create', { name: 'clf', tags })).status).toBe(200)
    const version = await call('POST', 'model-versions/create', { name: 'clf', source: `runs:/${id}/model`, run_id: id, tags })
    expect(version.status, version.text).toBe(200)
    expect((await call('POST', 'registered-models/set-tag', { name: 'clf', key: 'constructor', value: 'again' })).status).toBe(200)

    const pairs = (xs: Array<{ key: string; value: unknown }>) => KEYS.map((k) => xs.find((x) => x.key === k)?.value)
    for (const rid of [id, run.id]) {
      const got = await call('GET', 'runs/get', { run_id: rid })
      expect(got.status, got.text).toBe(200)
      expect(pairs(got.json.run.data.params)).toEqual(['p0', 'p1', 'p2'])
      expect(pairs(got.json.run.data.tags)).toEqual(['t0', 't1', 't2'])
      expect(pairs(got.json.run.data.metrics)).toEqual([1, 2, 3])
    }
    for (const filter of ["params.constructor = 'p1'", "tags.toString = 't2'", 'metrics.__proto__ = 1']) {
      const found = await call('POST', 'runs/search', { experiment_ids: [run.summary().experiment], filter })
      expect(found.status, `${filter}: ${found.text}`).toBe(200)
      expect(found.json.runs.map((r: { info: { run_id: string } }) => r.info.run_id).sort(), filter).toEqual([id, run.id].sort())
    }
    const model = await call('GET', 'registered-models/get', { name: 'clf' })
    expect(pairs(model.json.registered_model.tags)).toEqual(['t0', 'again', 't2'])
    const v = await call('GET', 'model-versions/get', { name: 'clf', version: '1' })
    expect(pairs(v.json.model_version.tags)).toEqual(['t0', 't1', 't2'])
  } finally {
    await srv.close()
    await book.close()
  }

  // `-p`/`-t` and `$LABBOOK_METRICS` lines of a wrapped command.
  const line = JSON.stringify(Object.fromEntries(KEYS.map((k, i) => [k, i + 1])))
  await cli(a, 'run', '--name', 'env', ...KEYS.flatMap((k, i) => ['-p', `${k}=p${i}`, '-t', `${k}=t${i}`]), '--', 'sh', '-c', `printf '%s\\n' '${line}' >> "$LABBOOK_METRICS"`)
  const listed = JSON.parse(await cli(a, 'ls', '--json')) as Array<{ id: string; name: string; params?: Record<string, unknown>; metrics?: Record<string, unknown> }>
  const ids = new Map(listed.map((r) => [r.name, r.id]))
  expect([...ids.keys()].sort()).toEqual(['api', 'env', 'served'])
  for (const r of listed) expect(KEYS.map((k) => (Object.hasOwn(r.metrics ?? {}, k) ? r.metrics![k] : undefined)), r.name).toEqual([1, 2, 3])
  for (const filter of ["params.constructor = 'p1'", "tags.__proto__ = 't0'", 'metrics.toString = 3']) {
    const found = JSON.parse(await cli(a, 'ls', '--filter', filter, '--json')) as Array<{ name: string }>
    expect(found.map((r) => r.name).sort(), filter).toEqual(['api', 'env', 'served'])
  }
  for (const name of ['api', 'env', 'served']) {
    expect(await shown(a, ids.get(name)!), name).toEqual({ params: ['p0', 'p1', 'p2'], tags: ['t0', 't1', 't2'], metrics: [1, 2, 3], history: [1, 2, 3] })
  }

  // One run edited in two clones, merged by push/pull.
  await cli(a, 'push')
  await cli(b, 'pull')
  const apiId = ids.get('api')!
  await cli(a, 'log', 'tag', '__proto__=from-a', '--run', apiId)
  await cli(b, 'log', 'metric', 'toString=30', '--run', apiId)
  await cli(b, 'log', 'param', 'extra=1', '--run', apiId)
  await cli(a, 'push')
  await cli(b, 'push')
  await cli(a, 'pull')
  for (const d of [a, b]) {
    expect(await shown(d, apiId), d).toEqual({ params: ['p0', 'p1', 'p2'], tags: ['from-a', 't1', 't2'], metrics: [1, 2, 30], history: [1, 2, 30] })
  }
  for (const d of [a, b]) assertPushable(d) // git fsck --strict, and a fsck'ing remote accepts every labbook ref
}, 120_000)
