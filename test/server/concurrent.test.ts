import { spawn } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { serve } from '../../src/server/index.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { api } from './client.js'

const CHILD = new URL('../helpers/child.ts', import.meta.url).pathname
const ROOT = new URL('../../', import.meta.url).pathname
let repo: TestRepo
afterAll(() => repo?.cleanup())

describe('the server and another writer on one repository', () => {
  it('loses nothing while a library process writes runs alongside MLflow clients', async () => {
    repo = gitRepo()
    const book = await Labbook.open({ repo: repo.dir })
    const srv = await serve({ book, port: 0 })
    const call = api(srv.url)
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'runs', repo.dir, '25', 'lib'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const childDone = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    const exp = (await call('POST', 'experiments/create', { name: 'http' })).json.experiment_id
    const ids: string[] = []
    await Promise.all(Array.from({ length: 5 }, async (_, c) => {
      for (let i = 0; i < 5; i++) {
        const id = (await call('POST', 'runs/create', { experiment_id: exp, run_name: `http-${c}-${i}`, start_time: Date.now() })).json.run.info.run_id
        ids.push(id)
        for (let s = 0; s < 20; s++) {
          const r = await call('POST', 'runs/log-batch', { run_id: id, metrics: [{ key: 'loss', value: 1 / (s + 1), timestamp: Date.now(), step: s }], params: s === 0 ? [{ key: 'c', value: String(c) }] : [] })
          expect(r.status).toBe(200)
        }
        expect((await call('POST', 'runs/update', { run_id: id, status: 'FINISHED', end_time: Date.now() })).status).toBe(200)
      }
    }))
    expect(await childDone, stderr).toBe(0)
    await srv.close()
    await book.close()

    const fresh = await Labbook.open({ repo: repo.dir })
    const http = await fresh.listRuns({ experiment: exp })
    expect(http.map((r) => r.id).sort()).toEqual(ids.sort())
    for (const r of http) {
      expect(r.status).toBe('FINISHED')
      expect(r.metrics.loss!.count).toBe(20)
    }
    const lib = await fresh.listRuns({ experiment: (await fresh.getExperiment('race')).id })
    expect(lib).toHaveLength(25)
    await fresh.close()
    fsck(repo)
  }, 120_000)
})

describe('one writer per run', () => {
  it('refuses (409 INVALID_STATE, not a 5xx a client would retry) to log to a run another live process is writing, instead of clobbering its points', async () => {
    const r = gitRepo()
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'log-forever', r.dir, '600000'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      let out = ''
      const runId = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d
          if (out.includes('flushed')) resolve(out.split('\n')[0]!.trim())
        })
        child.on('exit', () => reject(new Error('child exited')))
      })
      const book = await Labbook.open({ repo: r.dir, recover: false })
      const srv = await serve({ book, port: 0 })
      try {
        const res = await api(srv.url)('POST', 'runs/log-batch', { run_id: runId, metrics: [{ key: 'x', value: 1, timestamp: 1, step: 0 }] })
        expect(res.status).toBe(409)
        expect(res.json.error_code).toBe('INVALID_STATE')
        expect(res.json.message).toMatch(new RegExp(`being written by another process \\(pid ${child.pid}`))
        // reading it is fine
        expect((await api(srv.url)('GET', 'runs/get', { run_id: runId })).status).toBe(200)
      } finally {
        await srv.close()
        await book.close()
      }
    } finally {
      child.kill('SIGKILL')
      await new Promise((res) => child.on('exit', res))
      r.cleanup()
    }
  }, 60_000)
})
