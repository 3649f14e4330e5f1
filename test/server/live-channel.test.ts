/**
 * Issue 15, throughput with pages open: the live channel announces at most one change a second, and every page
 * refreshing after an announcement is answered from ONE snapshot of the book (journals, tip, the site's summaries),
 * however late its requests come. Real repository, a run logging in this process the whole time, the real server
 * on loopback (with the shared test renderer), the real change stream read over HTTP.
 */
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import type { Run } from '../../src/track/run.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { testRenderer } from '../helpers/renderer.js'
import { request } from './client.js'

let repo: TestRepo
let book: Labbook
let srv: RunningServer
let run: Run
let logging: NodeJS.Timeout | undefined
let snapshots = 0
let userState = ''

beforeAll(async () => {
  repo = gitRepo()
  book = await Labbook.open({ repo: repo.dir })
  userState = repo.userState()
  srv = await serve({
    book, port: 0,
    // counted: each snapshot is one read of every journal and the tip, and the site's summaries made from them
    site: { renderer: testRenderer(), source: book, snapshot: () => { snapshots++; return book.snapshot() }, title: 'live-channel' },
  })
  run = await book.startRun({ experiment: 'live', name: 'logging' })
  let step = 0
  // a point every 20 ms, journaled every 100 ms: the journal moves under every look
  logging = setInterval(() => { run.logMetric('loss', 1 / (step + 1), { step }); step++; if (step % 5 === 0) run.flush() }, 20)
}, 900_000)

afterAll(async () => {
  clearInterval(logging)
  await run?.end('FINISHED')
  await srv?.close()
  await book?.close()
  if (repo) expect(repo.userState()).toBe(userState)
  repo?.cleanup()
})

/** Reads the change stream: each `change` event's version and when it came. */
function listen(url: string): { events: Array<{ at: number; version: string }>; close: () => void } {
  const events: Array<{ at: number; version: string }> = []
  let buf = ''
  const req = http.get(`${url}/live/events`, (res) => {
    res.setEncoding('utf8')
    res.on('data', (d: string) => {
      buf += d
      let i
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i)
        buf = buf.slice(i + 2)
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (/^event: change$/m.test(block) && data) events.push({ at: performance.now(), version: String((JSON.parse(data) as { version: string }).version) })
      }
    })
  })
  req.on('error', () => {})
  return { events, close: () => req.destroy() }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('the live channel', () => {
  it('announces at most one change a second while a run logs, and the refreshes after one announcement share one snapshot', { timeout: 120_000 }, async () => {
    const s = listen(srv.url)
    try {
      // the first event at once (the current version), then one per look while the run's journal moves
      for (let i = 0; i < 400 && s.events.length < 4; i++) await sleep(50)
      expect(s.events.length).toBeGreaterThanOrEqual(4)
      // one look a second: on average at least 0.8 s between announcements after the first (one look may take longer
      // than the next, so a single gap can be shorter; main's 250 ms looks gave a mean of ~0.25 s)
      const later = s.events.slice(1)
      expect((later.at(-1)!.at - later[0]!.at) / (later.length - 1)).toBeGreaterThan(800)
      expect(new Set(s.events.map((e) => e.version)).size).toBe(s.events.length) // each announces a new version

      // the refreshes after the last announcement: the run JSON and its series, as 20 pages would ask them, spread over
      // 1.5 s while the run keeps logging; then a late page still naming the announcement before
      const seen = s.events.length
      const v = s.events.at(-1)!.version
      const before = snapshots
      const ask = (path: string, version: string) => request(srv.url, 'GET', `${path}?v=${encodeURIComponent(version)}`)
      const answers = []
      for (let i = 0; i < 10; i++) {
        answers.push(await ask(`/data/runs/${run.id}.json`, v))
        answers.push(await ask(`/data/runs/${run.id}/m/0.json`, v))
        await sleep(70)
      }
      // an announcement in between (a slow machine) makes the requests after it read the newer one: one more each
      const more = s.events.length - seen
      expect(answers.every((a) => a.status === 200)).toBe(true)
      expect(snapshots - before).toBeLessThanOrEqual(1 + more)
      // one moment per announcement: the run JSONs answered count the same points
      const counts = new Set(answers.filter((a) => a.json?.metricFiles).map((a) => a.json.metricFiles[0].total))
      expect(counts.size).toBeLessThanOrEqual(1 + more)
      const late = await ask(`/data/runs/${run.id}.json`, s.events[0]!.version)
      expect(late.status).toBe(200)
      // a request naming no version (a page being opened) after FRESH ms reads the book now: it shows the newest points
      await sleep(700)
      const now = await request(srv.url, 'GET', `/data/runs/${run.id}.json`)
      expect(now.status).toBe(200)
      expect(now.json.metricFiles[0].total).toBeGreaterThanOrEqual(late.json.metricFiles[0].total)
    } finally {
      s.close()
    }
  })
})
