// Issue 15: a process that writes a run and keeps its series (Labbook.keepLiveSeries: `labbook serve` with live pages)
// reads that run from the writer's memory, not from the journal it wrote. What it answers must equal what any other
// reader gets from the journal and the branch: the summary, every point of every metric, the sample; at every moment
// (points journaled or not, a commit in flight or landed, steps out of order, -0, NaN and infinities, the end). The
// first read of the series reads the journal as for any run and hands it to the writer, which keeps it from then on.
import { afterEach, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { liveSeriesWork } from '../../src/track/live-series.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo | undefined
afterEach(() => { repo?.cleanup(); repo = undefined })

const cols = async (book: Labbook, id: string) => Object.fromEntries([...(await book.metricColumns(id))].map(([k, s]) => [k, { step: Array.from(s.step), value: Array.from(s.value), time: Array.from(s.time) }]))

describe('a run\'s series kept by its writer in this process', () => {
  it('equals what a reader of its journal and the branch gets, through commits and the end, and reads no journal back', { timeout: 60_000 }, async () => {
    repo = gitRepo()
    const writer = await Labbook.open({ repo: repo.dir, commitInterval: 3_600_000 })
    writer.keepLiveSeries()
    const run = await writer.startRun({ experiment: 'own', name: 'kept', params: { lr: 0.1 } })
    const reader = await Labbook.open({ repo: repo.dir })
    let t = 1_700_000_000_000
    const check = async () => {
      run.flush() // the other reader sees what is journaled
      // the writer's answers first (counting the journal points walked into a series meanwhile), then the reader's
      const walked = liveSeriesWork.walked
      const mine = { run: await writer.getRun(run.id), cols: await cols(writer, run.id), sample: await writer.metricSample(run.id, 50), listed: (await writer.listRuns()).find((r) => r.id === run.id) }
      const own = liveSeriesWork.walked - walked
      expect(mine.run).toEqual(await reader.getRun(run.id))
      expect(mine.cols).toEqual(await cols(reader, run.id))
      expect(mine.sample).toEqual(await reader.metricSample(run.id, 50))
      expect(mine.listed).toEqual((await reader.listRuns()).find((r) => r.id === run.id))
      return { own, theirs: liveSeriesWork.walked - walked - own, mine: mine.run }
    }
    for (let i = 0; i < 300; i++) run.logMetric('loss', 1 / (i + 1), { step: i, timestamp: t++ })
    run.logMetric('odd', -0, { step: 0, timestamp: t++ })
    run.logMetric('odd', NaN, { step: -0, timestamp: t++ })
    run.logMetric('odd', Infinity, { step: 5, timestamp: t++ })
    run.logMetric('odd', -Infinity, { step: 2, timestamp: t++ }) // out of order: sorted as a read sorts
    run.logMetric('odd', 1e-320, { step: 2, timestamp: t - 3 })
    run.setTag('phase', 'one')
    const first = await check()
    expect(first.mine.metrics.loss!.count).toBe(300)
    expect(first.mine.tags['labbook.live']).toBe('true')
    await run.commit() // the points move into a chunk; the journal rotates
    for (let i = 300; i < 1000; i++) run.logMetric('loss', Math.sin(i), { step: i, timestamp: t++ })
    const second = await check()
    // a snapshot is one moment: points logged after it are not in it, its table and its series agree
    const snap = await writer.snapshot()
    for (let i = 1000; i < 1100; i++) run.logMetric('loss', i, { step: i, timestamp: t++ })
    expect((await snap.getRun(run.id)).metrics.loss!.count).toBe(1000)
    expect((await snap.metricColumns(run.id)).get('loss')!.value.length).toBe(1000)
    const after = await check()
    expect(after.mine.metrics.loss!.count).toBe(1100)
    await run.end('FINISHED')
    const ended = await check() // ended, its commit pending (group commit): still read from the writer
    expect(ended.mine.status).toBe('FINISHED')
    expect(ended.mine.tags['labbook.live']).toBeUndefined()
    await writer.flush()
    expect(await writer.getRun(run.id)).toEqual(await reader.getRun(run.id))
    expect(await cols(writer, run.id)).toEqual(await cols(reader, run.id))
    // the writer's first read of the series read the journal once (and handed it to the writer); after that its reads
    // never walked a journal into a series again (the reader's did)
    expect(first.own).toBeGreaterThan(0)
    for (const c of [second, after, ended]) expect(c.own).toBe(0)
    expect(after.theirs).toBeGreaterThan(0)
    await reader.close()
    await writer.close()
  })
})
