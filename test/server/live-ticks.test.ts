/**
 * What `labbook serve`'s change stream pushes (src/site/browser/live-tick.ts): for each run an open page watches (it
 * named it at `/live/watch`), the run's row and each metric's new points, each tick following on from the last, so a
 * page redraws without asking. Real server on loopback, runs logged by other processes; the renderer is left unbuilt
 * (pages answer "being prepared"): the stream does not need it.
 */
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { LIVE_PACE, processLoad } from '../../src/server/live.js'
import type { Renderer } from '../../src/site/build/renderer.js'
import { sortedJson } from '../../src/model/sorted-json.js'
import type { RunTick } from '../../src/site/browser/live-tick.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { readEvents } from '../helpers/sse.js'

const CHILD = new URL('../helpers/child.ts', import.meta.url).pathname
let repo: TestRepo
let book: Labbook
let srv: RunningServer

beforeAll(async () => {
  repo = gitRepo()
  book = await Labbook.open({ repo: repo.dir })
  srv = await serve({ book, port: 0, site: { renderer: new Promise<Renderer>(() => {}), source: book, snapshot: () => book.snapshot(), title: 't' } })
})

afterAll(async () => {
  await srv?.close()
  await book?.close()
  repo?.cleanup()
})

/** A run logged by another process, one `loss` point (1 / (step + 1)) per `every` ms until its stdin closes. */
async function logger(every: number) {
  const p = spawn(process.execPath, ['--import', 'tsx', CHILD, 'log-until-stdin', repo.dir, String(every), 'ticks'], { stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  p.stdout.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)))
  const id = await new Promise<string>((resolve) => p.stdout.on('data', () => { const l = out.split('\n'); if (l.length > 1) resolve(l[0]!) }))
  return { id, stop: async () => { p.stdin.end(); expect(await exited).toBe(0); return Number(/points (\d+)/.exec(out)![1]) } }
}

type Change = { version: string; runs?: string[]; tip: boolean; ticks?: Record<string, RunTick> }

/** The change events of the stream for `ms`. */
function events(ms: number): Promise<Change[]> {
  return new Promise((resolve, reject) => {
    const got: Change[] = []
    const close = readEvents(`${srv.url}/live/events`, (name, data) => { if (name === 'change') got.push(data as Change) }, reject)
    setTimeout(() => { close(); resolve(got) }, ms)
  })
}

const watch = (ids: string[]) => fetch(`${srv.url}/live/watch?runs=${ids.join(',')}`)

describe('the change stream pushes what the pages draw', () => {
  it('a watched run: its row and new points in each tick, one tick following on from the last; a run nobody watches: named, no tick', { timeout: 120_000 }, async () => {
    const seen = await logger(20)
    const unseen = await logger(20)
    expect((await watch([seen.id])).status).toBe(204)
    const got = await events(3000)
    const total = await seen.stop()
    await unseen.stop()

    const ticks = got.flatMap((e) => (e.ticks?.[seen.id] ? [e.ticks[seen.id]!] : []))
    expect(ticks.length).toBeGreaterThanOrEqual(4)
    expect(got.some((e) => e.runs?.includes(unseen.id))).toBe(true)
    expect(got.some((e) => e.ticks?.[unseen.id])).toBe(false)
    // the points laid end to end: every step from the first tick's `from` on, once, with its value
    const steps: number[] = []
    let n = ticks[0]!.series.loss!.from
    for (const t of ticks) {
      const tail = t.series.loss!
      expect(tail.from).toBe(n)
      n = tail.n
      steps.push(...tail.s)
      tail.s.forEach((s, i) => expect(tail.v[i]).toBe(1 / (s + 1)))
      // the row: RUNNING, its metrics table counting the points the tick brings it to
      expect(t.run.status).toBe('RUNNING')
      expect(t.run.metrics.loss!.count).toBe(tail.n)
      expect(t.maxPoints).toBe(1500)
    }
    expect(steps).toEqual(Array.from({ length: n - ticks[0]!.series.loss!.from }, (_, i) => ticks[0]!.series.loss!.from + i))
    expect(n).toBeLessThanOrEqual(total)
    // the row is the run JSON's (what a page fetches), field for field, key order aside: a page comparing the two to
    // see whether more than the numbers changed (regions.ts liveRun) finds nothing changed
    const json = (await (await fetch(`${srv.url}/data/runs/${seen.id}.json`)).json()) as Record<string, unknown>
    const rest = (r: Record<string, unknown>) => { const { metrics: _m, metricFiles: _f, duration: _d, page: _p, children: _c, imageSeries: _i, endTime: _e, status: _s, tags: _t, ...x } = r; return x }
    expect(sortedJson(rest(ticks.at(-1)!.run as unknown as Record<string, unknown>))).toBe(sortedJson(rest(json)))
  })

  it('a commit that only carries runs in progress names those runs, not the branch: their ticks chain across it; a new experiment or run moves the branch', { timeout: 120_000 }, async () => {
    const run = await book.startRun({ experiment: 'commits', name: 'carried' })
    await book.flush() // its first commit (a new run: the branch moved) before the stream starts
    expect((await watch([run.id])).status).toBe(204)
    const got: Change[] = []
    const close = readEvents(`${srv.url}/live/events`, (name, data) => { if (name === 'change') got.push(data as Change) })
    const pause = () => new Promise((r) => setTimeout(r, 700)) // the channel looks every 250 ms
    let step = 0
    const log = async () => { for (let i = 0; i < 50; i++) run.logMetric('loss', 1 / (step + 1), { step: step++ }); await run.durable(); await pause() }
    await log()
    await run.commit() // the points journaled so far move onto the branch
    const carried = (await book.tip())!
    await log()
    const other = await book.startRun({ experiment: 'commits', name: 'another' })
    await book.flush()
    const added = (await book.tip())!
    await log()
    await book.experiment('elsewhere')
    const experiment = (await book.tip())!
    await log()
    close()
    await other.end('FINISHED')
    await run.end('FINISHED')
    const at = (tip: string) => got.find((e) => e.version.startsWith(`${tip}|`))
    // the commit of the run's points: named as the run, with its tick
    expect(at(carried)).toMatchObject({ tip: false })
    expect(at(carried)!.runs).toContain(run.id)
    // a run added, an experiment added: every page hears the branch moved
    expect(at(added)?.tip).toBe(true)
    expect(at(experiment)?.tip).toBe(true)
    // every point once, across the commit: the tails chain from the first to the last step logged
    const tails = got.flatMap((e) => (e.ticks?.[run.id]?.series.loss ? [e.ticks[run.id]!.series.loss!] : []))
    for (let i = 1; i < tails.length; i++) expect(tails[i]!.from).toBe(tails[i - 1]!.n)
    expect(tails.flatMap((t) => t.s)).toEqual(Array.from({ length: step - tails[0]!.from }, (_, i) => tails[0]!.from + i))
  })

  it('while serve is busy, events are paced (LiveOptions.pace) and lose nothing: ticks still chain; idle again, events come at once', { timeout: 120_000 }, async () => {
    // the load is stepped (busy for 6 s, then idle) so that other test files sharing the 2 cores cannot make it
    // look idle; processLoad, which reads it by default, has its own test below
    let busyUntil = Number.POSITIVE_INFINITY
    const load = () => (performance.now() < busyUntil ? 1 : 0)
    const paced = await serve({ book, port: 0, site: { renderer: new Promise<Renderer>(() => {}), source: book, title: 't', pace: { ...LIVE_PACE, load } } })
    const run = await logger(20)
    const watchRun = () => fetch(`${paced.url}/live/watch?runs=${run.id}`)
    expect((await watchRun()).status).toBe(204)
    // named again as a page's channel does (a run is watched for 5 s after it was last named)
    const naming = setInterval(() => void watchRun(), 2000)
    const at: number[] = []
    const got: Change[] = []
    // the changes after the stream's first event (which says where it stands, at once)
    const close = readEvents(`${paced.url}/live/events`, (name, data) => { if (name === 'change' && (data as Change).runs) { at.push(performance.now()); got.push(data as Change) } })
    busyUntil = performance.now() + 6000
    await new Promise((r) => setTimeout(r, 9000))
    close()
    clearInterval(naming)
    await run.stop()
    await paced.close()
    // busy: at most one event per LIVE_PACE.every (the first may go out at once)
    const busy = at.filter((t) => t < busyUntil)
    expect(busy.length).toBeGreaterThanOrEqual(2)
    for (let i = 1; i < busy.length; i++) expect(busy[i]! - busy[i - 1]!).toBeGreaterThanOrEqual(LIVE_PACE.every - 50)
    expect(busy.length).toBeLessThanOrEqual(1 + Math.ceil(6000 / LIVE_PACE.every))
    // idle again: every look that finds a change says it (the logger writes every 20 ms: several a second)
    expect(at.filter((t) => t > busyUntil + 500).length).toBeGreaterThanOrEqual(4)
    // nothing lost: the ticks chain, every step once, across the paced stretch
    const tails = got.flatMap((e) => (e.ticks?.[run.id]?.series.loss ? [e.ticks[run.id]!.series.loss!] : []))
    expect(tails.length).toBeGreaterThanOrEqual(6)
    for (let i = 1; i < tails.length; i++) expect(tails[i]!.from).toBe(tails[i - 1]!.n)
  })

  it('processLoad reads the cores this process used lately: a spin shows, a rest does not', async () => {
    const load = processLoad()
    load()
    // a second of spinning in 20 ms slices (the loop stays free between them, as in a serve taking log calls)
    const end = performance.now() + 1000
    while (performance.now() < end) {
      const t = performance.now()
      while (performance.now() - t < 20) { /* busy */ }
      await new Promise((r) => setImmediate(r))
    }
    // even with other test files on the 2 cores, a spinning process gets well over a tenth of one
    const spun = load()
    expect(spun).toBeGreaterThan(0.1)
    // a rest of 1.5 s weighs the spin out
    await new Promise((r) => setTimeout(r, 1500))
    const rested = load()
    expect(rested).toBeLessThan(spun / 2)
    expect(rested).toBeLessThan(0.1)
  })

  it('/live/watch takes run ids only, at most 200', async () => {
    expect((await watch(['../etc', 'ok-id'])).status).toBe(204)
    const many = await watch(Array.from({ length: 201 }, (_, i) => `r${i}`))
    expect(many.status).toBe(400)
    expect(await many.text()).toMatch(/at most 200 runs; 201 were named/)
  })
})
