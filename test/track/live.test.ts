// Issue 15: a RUNNING run written by another process shows its journaled points everywhere, before any commit.
import { spawn } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { Labbook } from '../../src/index.js'
import { serve } from '../../src/server/index.js'
import { LIVE_TAG } from '../../src/track/live.js'
import { captureIO } from '../helpers/cli.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { api } from '../server/client.js'

const CHILD = new URL('../helpers/child.ts', import.meta.url).pathname
let repo: TestRepo
afterAll(() => repo?.cleanup())

describe('runs in progress, seen from outside', () => {
  it('ls, show, getRun, metricHistory, runs/get and get-history include journaled points; then FINISHED', { timeout: 180_000 }, async () => {
    repo = gitRepo()
    const userState = repo.userState()
    // 30 points, then the run stays RUNNING until we close the child's stdin
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, 'log-points', repo.dir, '30', '100', 'live', 'hold'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)))
    const seen = (n: number) => new Promise<void>((resolve) => {
      const check = () => { if (new RegExp(`step ${n}\\n`).test(out)) resolve() }
      p.stdout.on('data', (d) => { out += d; check() })
      check()
    })
    await seen(5)
    const id = out.split('\n')[0]!
    const book = await Labbook.open({ repo: repo.dir })
    try {
      // nothing committed but the start: the branch alone has no points
      const run = await book.getRun(id)
      expect(run.status).toBe('RUNNING')
      expect(run.metrics.loss!.count).toBeGreaterThanOrEqual(6)
      expect(run.tags[LIVE_TAG]).toBe('true')
      expect(run.params).toEqual({ lr: 0.1 })
      const hist = await book.metricHistory(id, 'loss')
      expect(hist.length).toBeGreaterThanOrEqual(6)
      expect(hist.slice(0, 3).map((x) => [x.step, x.value])).toEqual([[0, 1], [1, 0.5], [2, 1 / 3]])
      const listed = (await book.listRuns({ experiment: 'live' })).find((r) => r.id === id)!
      expect(listed.metrics.loss!.count).toBeGreaterThanOrEqual(6)

      const ls = captureIO(repo.dir)
      await main(['ls', '--json'], ls.io)
      const rows = JSON.parse(ls.stdout()) as Array<{ id: string; status: string; metrics: Record<string, number> }>
      expect(rows.find((r) => r.id === id)).toMatchObject({ status: 'RUNNING' })
      expect(rows.find((r) => r.id === id)!.metrics.loss).toBeLessThanOrEqual(1 / 6) // the latest journaled point
      const show = captureIO(repo.dir)
      await main(['show', id], show.io)
      expect(show.stdout()).toMatch(/loss/)

      const srv = await serve({ book, port: 0 })
      try {
        await seen(10)
        const got = (await api(srv.url)('GET', 'runs/get', { run_id: id })).json.run
        expect(got.info.status).toBe('RUNNING')
        const m = got.data.metrics.find((x: { key: string }) => x.key === 'loss')
        expect(m.step).toBeGreaterThanOrEqual(10)
        const h = (await api(srv.url)('GET', 'metrics/get-history', { run_id: id, metric_key: 'loss' })).json.metrics
        expect(h.length).toBeGreaterThanOrEqual(11)
      } finally {
        await srv.close()
      }

      p.stdin.end()
      expect(await exited).toBe(0)
      const done = await book.getRun(id)
      expect(done.status).toBe('FINISHED')
      expect(done.metrics.loss!.count).toBe(30)
      expect(done.tags[LIVE_TAG]).toBeUndefined()
      expect(await book.metricHistory(id, 'loss')).toHaveLength(30)
    } finally {
      p.kill()
      await book.close()
    }
    fsck(repo)
    expect(repo.userState()).toBe(userState)
  })
})
