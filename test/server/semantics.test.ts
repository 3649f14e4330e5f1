// MLflow's exact semantics where labbook used to differ: nothing injected, system tags searchable and sortable,
// params sorted as strings, empty answers where MLflow answers empty, runs resumable after a server restart.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { serve } from '../../src/server/index.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { api, request } from './client.js'

const CHILD = new URL('../helpers/child.ts', import.meta.url).pathname
const ROOT = new URL('../../', import.meta.url).pathname
const repos: TestRepo[] = []
afterAll(() => { for (const r of repos) r.cleanup() })

async function start(o: { linkHead?: boolean } = {}) {
  const repo = gitRepo()
  repos.push(repo)
  fs.writeFileSync(join(repo.dir, 'train.py'), 'print("dirty")\n') // a dirty tree the client never asked to record
  const before = repo.userState()
  const book = await Labbook.open({ repo: repo.dir })
  const srv = await serve({ book, port: 0, linkHead: o.linkHead })
  const close = async () => {
    await srv.close()
    await book.close()
    expect(repo.userState()).toBe(before)
    fsck(repo)
  }
  return { repo, book, srv, call: api(srv.url), close }
}

function tagsOf(run: { data: { tags: Array<{ key: string; value: string }> } }): Record<string, string> {
  return Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]))
}

describe('nothing injected', () => {
  it('a run whose client sent no commit and no user gets no HEAD, no diff and no mlflow.user', async () => {
    const { book, call, close } = await start()
    const id = (await call('POST', 'runs/create', { experiment_id: '0', start_time: 1 })).json.run.info.run_id
    const got = (await call('GET', 'runs/get', { run_id: id })).json.run
    expect(Object.keys(tagsOf(got)).sort()).toEqual(['mlflow.runName'])
    expect(got.info.user_id).toBe('')
    expect((await book.getRun(id)).source).toEqual({})
    expect((await book.listArtifacts(id)).map((a) => a.path)).toEqual([])
    // a commit the client sends is recorded as the code link
    const sha = 'a'.repeat(40)
    const linked = (await call('POST', 'runs/create', { experiment_id: '0', user_id: 'ana', tags: [{ key: 'mlflow.source.git.commit', value: sha }] })).json.run
    expect(tagsOf(linked)).toMatchObject({ 'mlflow.source.git.commit': sha, 'mlflow.user': 'ana' })
    expect((await book.getRun(linked.info.run_id)).source.commit).toBe(sha)
    await close()
  })

  it('serve --link-head links such runs to the served HEAD and its diff, as before', async () => {
    const { repo, book, call, close } = await start({ linkHead: true })
    const id = (await call('POST', 'runs/create', { experiment_id: '0' })).json.run.info.run_id
    expect((await book.getRun(id)).source.commit).toBe(repo.git('rev-parse', 'HEAD').trim())
    expect((await book.listArtifacts(id)).map((a) => a.path)).toContain('labbook/uncommitted.diff')
    await close()
  })
})

describe('search semantics', () => {
  it('filters and sorts on system tags, sorts params as strings, answers empty where MLflow does', async () => {
    const { call, close } = await start()
    const sha = 'b'.repeat(40)
    const mk = async (run_name: string, user_id: string, lr: string, extra: Array<{ key: string; value: string }> = []) =>
      (await call('POST', 'runs/create', { experiment_id: '0', run_name, user_id, start_time: Date.now(), tags: extra })).json.run.info.run_id as string
    const a = await mk('beta', 'zed', '9', [{ key: 'mlflow.source.git.commit', value: sha }, { key: 'mlflow.note.content', value: 'n2' }])
    const b = await mk('alpha', 'amy', '10', [{ key: 'mlflow.parentRunId', value: a }, { key: 'mlflow.note.content', value: 'n1' }])
    const c = await mk('gamma', 'bob', '100')
    for (const [id, lr] of [[a, '9'], [b, '10'], [c, '100']] as const) await call('POST', 'runs/log-parameter', { run_id: id, key: 'lr', value: lr })
    const names = async (body: Record<string, unknown>) => {
      const r = await call('POST', 'runs/search', { experiment_ids: ['0'], ...body })
      expect(r.status, JSON.stringify(r.json)).toBe(200)
      return (r.json.runs ?? []).map((x: { info: { run_name: string } }) => x.info.run_name)
    }
    expect(await names({ filter: `tags.mlflow.source.git.commit = '${sha}'` })).toEqual(['beta'])
    expect(await names({ filter: "tags.mlflow.user = 'amy'" })).toEqual(['alpha'])
    expect(await names({ order_by: ['tags.mlflow.runName ASC'] })).toEqual(['alpha', 'beta', 'gamma'])
    expect(await names({ order_by: ['tags.mlflow.runName DESC'] })).toEqual(['gamma', 'beta', 'alpha'])
    expect(await names({ order_by: ['tags.mlflow.user ASC'] })).toEqual(['alpha', 'gamma', 'beta'])
    expect(await names({ order_by: ['tags.mlflow.parentRunId ASC'] })).toEqual(['alpha', 'gamma', 'beta'])
    expect(await names({ order_by: ['tags.`mlflow.note.content` DESC'] })).toEqual(['beta', 'alpha', 'gamma'])
    // every MLflow store sorts params as strings: "10" < "100" < "9"
    expect(await names({ order_by: ['params.lr ASC'] })).toEqual(['alpha', 'gamma', 'beta'])
    // empty, not an error
    expect(await names({ experiment_ids: ['424242'] })).toEqual([])
    const zero = await call('POST', 'runs/search', { experiment_ids: ['0'], max_results: 0 })
    expect(zero.status).toBe(200)
    expect(zero.json.runs ?? []).toEqual([])
    expect(zero.json.next_page_token).toBeUndefined()
    await close()
  })
})

describe('lifecycle', () => {
  it('a server restart (killed) leaves its runs RUNNING and the client keeps logging to them', async () => {
    const repo = gitRepo()
    repos.push(repo)
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'serve', repo.dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(out.trim()) })
      child.on('exit', (code) => reject(new Error(`child exited ${code}`)))
    })
    const remote = api(url)
    const id = (await remote('POST', 'runs/create', { experiment_id: '0', run_name: 'long', start_time: 1000 })).json.run.info.run_id
    expect((await remote('POST', 'runs/log-batch', { run_id: id, metrics: [0, 1, 2].map((s) => ({ key: 'loss', value: 1 / (s + 1), timestamp: 2000 + s, step: s })) })).status).toBe(200)
    await new Promise((r) => setTimeout(r, 1300)) // the journal is flushed about once a second
    child.kill('SIGKILL')
    await new Promise((r) => child.on('exit', r))

    const book = await Labbook.open({ repo: repo.dir }) // recovers the dead server's journal
    const after = await book.getRun(id)
    expect(after.status).toBe('RUNNING')
    expect(after.endTime).toBeUndefined()
    expect((await book.metricHistory(id, 'loss')).map((p) => p.step)).toEqual([0, 1, 2])
    const srv = await serve({ book, port: 0 })
    const call = api(srv.url)
    expect((await call('POST', 'runs/log-metric', { run_id: id, key: 'loss', value: 0.1, timestamp: 3000, step: 3 })).status).toBe(200)
    expect((await call('POST', 'runs/update', { run_id: id, status: 'FINISHED', end_time: 4000 })).status).toBe(200)
    await srv.close()
    await book.close()
    const fresh = await Labbook.open({ repo: repo.dir })
    expect(await fresh.getRun(id)).toMatchObject({ status: 'FINISHED', endTime: 4000 })
    expect((await fresh.metricHistory(id, 'loss')).map((p) => p.step)).toEqual([0, 1, 2, 3])
    await fresh.close()
    fsck(repo)
  }, 30_000)

  it('a clean stop puts every open run on the branch, RUNNING, with no journal left; the client logs to it after a restart', async () => {
    const repo = gitRepo()
    repos.push(repo)
    let book = await Labbook.open({ repo: repo.dir })
    let srv = await serve({ book, port: 0 })
    let call = api(srv.url)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const id = (await call('POST', 'runs/create', { experiment_id: '0', run_name: `open-${i}`, start_time: 1000 + i })).json.run.info.run_id as string
      expect((await call('POST', 'runs/log-batch', { run_id: id, metrics: [0, 1].map((s) => ({ key: 'loss', value: i + s / 10, timestamp: 2000 + s, step: s })), params: [{ key: 'lr', value: '0.1' }] })).status).toBe(200)
      ids.push(id)
    }
    await srv.close()
    await book.close()
    const journals = join(repo.dir, '.git', 'labbook', 'journal')
    expect(fs.existsSync(journals) ? fs.readdirSync(journals) : []).toEqual([])
    book = await Labbook.open({ repo: repo.dir })
    for (const [i, id] of ids.entries()) {
      expect(await book.getRun(id)).toMatchObject({ status: 'RUNNING', params: { lr: '0.1' } })
      expect((await book.metricHistory(id, 'loss')).map((p) => p.value)).toEqual([i, i + 0.1])
    }
    srv = await serve({ book, port: 0 })
    call = api(srv.url)
    expect((await call('POST', 'runs/log-metric', { run_id: ids[0], key: 'loss', value: 9, timestamp: 3000, step: 2 })).status).toBe(200)
    expect((await call('POST', 'runs/update', { run_id: ids[0], status: 'FINISHED', end_time: 4000 })).status).toBe(200)
    await srv.close()
    await book.close()
    const fresh = await Labbook.open({ repo: repo.dir })
    expect(await fresh.getRun(ids[0]!)).toMatchObject({ status: 'FINISHED', endTime: 4000 })
    expect((await fresh.metricHistory(ids[0]!, 'loss')).map((p) => p.step)).toEqual([0, 1, 2])
    expect((await fresh.getRun(ids[1]!)).status).toBe('RUNNING')
    await fresh.close()
    expect(fsck(repo)).toBe('')
  }, 30_000)

  it('an artifact upload to a deleted run is stored, as MLflow does; logging a metric to it is an MLflow error', async () => {
    const { book, srv, call, close } = await start()
    const id = (await call('POST', 'runs/create', { experiment_id: '0' })).json.run.info.run_id
    expect((await call('POST', 'runs/delete', { run_id: id })).status).toBe(200)
    const put = await request(srv.url, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/0/${id}/artifacts/late.txt`, 'late\n')
    expect(put.status).toBe(200)
    expect(new TextDecoder().decode(await book.readArtifact(id, 'late.txt'))).toBe('late\n')
    expect((await book.getRun(id)).lifecycle).toBe('deleted')
    const metric = await call('POST', 'runs/log-metric', { run_id: id, key: 'x', value: 1, timestamp: 1, step: 0 })
    expect(metric.status).toBe(400)
    expect(metric.json).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' })
    await close()
  })
})
