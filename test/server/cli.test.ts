import { spawn } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { api } from './client.js'

const CLI = new URL('../../cli/main.ts', import.meta.url).pathname
const ROOT = new URL('../../', import.meta.url).pathname
let repo: TestRepo
afterAll(() => repo?.cleanup())

function startServe(dir: string, env: Record<string, string> = {}) {
  const p = spawn(process.execPath, ['--import', 'tsx', CLI, '--repo', dir, 'serve', '--port', '0', '--token', 'tok', '--site-refresh', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  let stderr = ''
  const url = new Promise<string>((resolve, reject) => {
    p.stderr.on('data', (d) => {
      stderr += d
      const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)
      if (m) resolve(m[1]!)
    })
    p.on('exit', () => reject(new Error(`serve exited: ${stderr}`)))
  })
  return { p, url }
}

describe('labbook serve (a real process)', () => {
  it('killed with SIGKILL, loses none of the writes it answered 200 for (issue 10 item 7)', async () => {
    const r = gitRepo()
    try {
      const { p, url } = startServe(r.dir)
      const call = api(await url, { authorization: 'Bearer tok' })
      const run = (await call('POST', 'runs/create', { experiment_id: '0', run_name: 'killed', start_time: 1 })).json.run.info.run_id
      const acked: number[] = []
      let stop = false
      const exited = new Promise((res) => p.on('exit', res))
      // four clients logging as fast as they can; the server is killed while requests are in flight
      const clients = [0, 1, 2, 3].map(async (c) => {
        for (let i = 0; !stop; i++) {
          const step = c * 1_000_000 + i
          try {
            const res = await call('POST', i % 2 ? 'runs/log-metric' : 'runs/log-batch', i % 2
              ? { run_id: run, key: 'x', value: step, timestamp: 5, step }
              : { run_id: run, metrics: [{ key: 'x', value: step, timestamp: 5, step }] })
            if (res.status === 200) acked.push(step)
          } catch { return } // connection reset by the kill
        }
      })
      while (acked.length < 200) await new Promise((res) => setTimeout(res, 20))
      p.kill('SIGKILL')
      stop = true
      await exited
      await Promise.all(clients)
      const book = await Labbook.open({ repo: r.dir }) // recovers the dead server's journal
      const steps = new Set((await book.metricHistory(run, 'x')).map((pt) => pt.step))
      const lost = acked.filter((s) => !steps.has(s))
      expect(lost).toEqual([])
      await book.close()
    } finally {
      r.cleanup()
    }
  }, 60_000)

  it('acknowledges run creations and ends after the journal fsync; killed before the group commit, the next open commits all of them', async () => {
    const r = gitRepo()
    try {
      // a group-commit delay far longer than the test: nothing acknowledged below can have reached the branch
      const { p, url } = startServe(r.dir, { LABBOOK_COMMIT_DELAY_MS: '600000' })
      const call = api(await url, { authorization: 'Bearer tok' })
      const ids: string[] = []
      for (let i = 0; i < 6; i++) {
        const res = await call('POST', 'runs/create', { experiment_id: '0', run_name: `batched-${i}`, start_time: 1000 + i })
        expect(res.status).toBe(200)
        const id = res.json.run.info.run_id as string
        expect((await call('POST', 'runs/log-metric', { run_id: id, key: 'loss', value: i / 10, timestamp: 5, step: 0 })).status).toBe(200)
        expect((await call('POST', 'runs/update', { run_id: id, status: i % 2 ? 'FAILED' : 'FINISHED', end_time: 2000 + i })).status).toBe(200)
        // read-your-writes through the server while the commit is pending
        const got = (await call('GET', 'runs/get', { run_id: id })).json.run
        expect(got.info.status).toBe(i % 2 ? 'FAILED' : 'FINISHED')
        expect(got.data.metrics).toEqual([expect.objectContaining({ key: 'loss', value: i / 10 })])
        ids.push(id)
      }
      const listed = (await call('POST', 'runs/search', { experiment_ids: ['0'] })).json.runs.map((x: { info: { run_id: string } }) => x.info.run_id)
      expect(listed.sort()).toEqual([...ids].sort())
      const exited = new Promise((res) => p.on('exit', res))
      p.kill('SIGKILL')
      await exited
      // not on the branch yet: the acknowledgements came from the journals
      const runFiles = () => {
        try {
          return r.git('ls-tree', '-r', '--name-only', 'labbook').split('\n').filter((f) => f.endsWith('/run.yaml'))
        } catch { return [] } // no branch yet
      }
      expect(runFiles()).toEqual([])
      const book = await Labbook.open({ repo: r.dir }) // recovers the dead server's journals
      for (const [i, id] of ids.entries()) {
        const run = await book.getRun(id)
        expect(run.status).toBe(i % 2 ? 'FAILED' : 'FINISHED')
        expect(run.endTime).toBe(2000 + i)
        expect(run.metrics.loss?.value).toBe(i / 10)
      }
      expect(runFiles()).toHaveLength(6)
      expect(r.git('fsck', '--strict', '--no-dangling').trim()).toBe('')
      await book.close()
    } finally {
      r.cleanup()
    }
  }, 120_000)

  it('serves until SIGINT, then commits the runs still open and exits 0', async () => {
    repo = gitRepo()
    const p = spawn(process.execPath, ['--import', 'tsx', CLI, '--repo', repo.dir, 'serve', '--port', '0', '--token', 'tok', '--site-refresh', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    const url = await new Promise<string>((resolve, reject) => {
      p.stderr.on('data', (d) => {
        stderr += d
        const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)
        if (m) resolve(m[1]!)
      })
      p.on('exit', () => reject(new Error(`serve exited: ${stderr}`)))
    })
    const call = api(url, { authorization: 'Bearer tok' })
    const run = (await call('POST', 'runs/create', { experiment_id: '0', run_name: 'open', start_time: 1 })).json.run.info.run_id
    expect((await call('POST', 'runs/log-batch', { run_id: run, metrics: [{ key: 'x', value: 1, timestamp: 2, step: 0 }, { key: 'x', value: 2, timestamp: 3, step: 1 }] })).status).toBe(200)
    expect((await api(url)('GET', 'runs/get', { run_id: run })).status).toBe(401)
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)))
    p.kill('SIGINT')
    expect(await exited).toBe(0)
    const book = await Labbook.open({ repo: repo.dir, recover: false })
    expect((await book.metricHistory(run, 'x')).map((pt) => pt.value)).toEqual([1, 2])
    expect((await book.getRun(run)).status).toBe('RUNNING')
    await book.close()
  }, 60_000)
})
