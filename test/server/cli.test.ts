import { spawn } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { api } from './client.js'

const CLI = new URL('../../cli/main.ts', import.meta.url).pathname
const ROOT = new URL('../../', import.meta.url).pathname
let repo: TestRepo
afterAll(() => repo?.cleanup())

describe('labbook serve (a real process)', () => {
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
