// Issue 15: a live run's series is kept per run and extended by the new points only (src/track/live-series.ts).
// Whatever the writer does between two reads (appends, a commit that moves the journaled tail into the branch and
// rotates the journal, steps logged out of order, a new metric), the answer equals a fresh computation: every point
// the run logged, in log order, stably sorted by step then timestamp; and a refresh walks the new points only.
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { minMaxIndices } from '../../src/model/minmax.js'
import type { MetricPoint } from '../../src/model/run.js'
import type { SeriesColumns } from '../../src/track/history.js'
import { journalRoot, readJournal } from '../../src/track/journal.js'
import { liveSeries, liveSeriesWork } from '../../src/track/live-series.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo | undefined
afterEach(() => { repo?.cleanup(); repo = undefined })

/** The fresh computation: each metric's points in the order they were logged, stably sorted by step then timestamp. */
function expected(logged: MetricPoint[]): Record<string, MetricPoint[]> {
  const out: Record<string, MetricPoint[]> = {}
  for (const p of logged) (out[p.key] ??= []).push(p)
  for (const k in out) out[k]!.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp)
  return out
}

const asPoints = (cols: Map<string, SeriesColumns>) => Object.fromEntries([...cols].map(([k, s]) => [k, Array.from(s.value, (value, i) => ({ key: k, value, step: s.step[i]!, timestamp: s.time[i]! }))]))
const sampleOf = (pts: MetricPoint[], max: number) => ({ total: pts.length, points: pts.length > max ? minMaxIndices({ x: { length: pts.length } as ArrayLike<number>, y: pts.map((p) => p.value) }, max).map((i) => pts[i]!) : pts })

describe('a live run\'s series, extended in place', () => {
  it('equals a fresh computation after appends, a commit that moves the tail into the branch, a rotation and out-of-order steps; a refresh walks the new points only', { timeout: 60_000 }, async () => {
    repo = gitRepo()
    const user = repo.userState()
    const writer = await Labbook.open({ repo: repo.dir, commitInterval: 3_600_000 })
    const run = await writer.startRun({ experiment: 'live', name: 'series' })
    await writer.flush() // the start's commit lands now
    const reader = await Labbook.open({ repo: repo.dir })
    const logged: MetricPoint[] = []
    let t = 1_700_000_000_000
    const log = (key: string, value: number, step: number, timestamp = t++) => {
      run.logMetric(key, value, { step, timestamp })
      logged.push({ key, value, step, timestamp })
    }
    const check = async () => {
      run.flush() // journaled, not committed
      const want = expected(logged)
      expect(asPoints(await reader.metricColumns(run.id))).toEqual(want)
      const sample = await reader.metricSample(run.id, 100)
      expect(sample).toEqual(Object.fromEntries(Object.entries(want).map(([k, pts]) => [k, sampleOf(pts, 100)])))
    }
    /** The series as the live pages read it, straight from the module (views of its arrays). */
    const views = async () => {
      const rev = await reader.at('labbook')
      const onBranch = await rev.getRun(run.id)
      const { dir, chunks } = await rev.metricChunks(run.id)
      let committed = 0
      for (const s of Object.values(onBranch.metrics)) committed += s.count
      const points = readJournal(join(journalRoot(reader.gitdir), run.id)).points
      let from = 0
      while (from < points.count && points.index[from]! < committed) from++
      return liveSeries(reader.objects, `${reader.gitdir}\0${run.id}`, chunks, dir, points, from)
    }

    // journal only: 300 points of loss (NaN, infinities and -0 among them: a commit's chunk is compared with them
    // point by point, and -0 must equal -0 and not 0), every 10th step an acc point
    for (let i = 0; i < 300; i++) {
      log('loss', i === 17 ? NaN : i === 40 ? Infinity : i === 41 ? -Infinity : i === 42 ? -0 : i === 43 ? 0 : Math.exp(-i / 100) + 0.01 * Math.sin(i), i)
      if (i % 10 === 0) log('acc', i / 300, i)
    }
    await check()

    // appends: the refresh walks the 25 new points, and what was handed out before keeps its values
    const before = await views()
    const loss = Array.from(before.get('loss')!.value)
    for (let i = 300; i < 320; i++) log('loss', 1 / i, i)
    for (let i = 300; i < 320; i += 4) log('acc', 0.5, i)
    run.flush()
    let walked = liveSeriesWork.walked
    const after = await views()
    expect(liveSeriesWork.walked - walked).toBe(25)
    expect(after.get('loss')!.value.length).toBe(320)
    expect(Array.from(before.get('loss')!.value)).toEqual(loss)
    await check()

    // a commit: the journaled tail moves into the branch and the journal rotates; the walk covers the run's one
    // (small, rewritten) chunk, not a rebuild from copies, and the answer is the same
    await run.commit()
    walked = liveSeriesWork.walked
    const committed = await views()
    expect(liveSeriesWork.walked - walked).toBeLessThanOrEqual(logged.length)
    expect(asPoints(committed)).toEqual(expected(logged))
    for (let i = 320; i < 330; i++) log('loss', 2, i)
    run.flush()
    walked = liveSeriesWork.walked
    await views()
    expect(liveSeriesWork.walked - walked).toBe(10) // the new journal log, from its start
    await check()

    // steps out of order (a step logged again, a tie in step and time), and a new metric
    log('loss', 42, 5)
    log('loss', 43, 5, t - 1)
    log('lr', 0.1, 0)
    await check()
    await run.commit()
    await check()
    for (let i = 330; i < 400; i++) log('loss', 3, i)
    await check()

    // many commits and appends in turn, a sample read between each: always the fresh answer
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 50; i++) log('loss', Math.cos(round * 50 + i), 400 + round * 50 + i)
      await check()
      if (round % 2) await run.commit()
    }

    // ended and committed in full: the branch's read gives what the live series gave
    const last = await reader.metricSample(run.id, 100)
    await run.end('FINISHED')
    expect(await reader.metricSample(run.id, 100)).toEqual(last)
    await reader.close()
    await writer.close()
    expect(fsck(repo)).toBe('')
    expect(repo.userState()).toEqual(user)
  })

  it('a journal that says otherwise below what was handed out: new arrays, and the earlier answer keeps its values', async () => {
    // hand-made journal views (as journal.ts hands them out): two logs that agree on five points, then differ in value only
    const journal = (values: number[]) => {
      const n = values.length
      return { keys: ['m'], key: new Uint32Array(n), value: Float64Array.from(values), step: Float64Array.from(values, (_, i) => i), time: Float64Array.from(values, (_, i) => 1000 + i), index: Float64Array.from(values, (_, i) => i), count: n, log: {} }
    }
    repo = gitRepo()
    const book = await Labbook.open({ repo: repo.dir })
    const objects = book.objects
    const first = journal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    const a = (await liveSeries(objects, 'synthetic', [], '', first, 0)).get('m')!
    expect(Array.from(a.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    const second = journal([0, 1, 2, 3, 4, 50, 60, 70])
    const b = (await liveSeries(objects, 'synthetic', [], '', second, 0)).get('m')!
    expect(Array.from(b.value)).toEqual([0, 1, 2, 3, 4, 50, 60, 70])
    expect(Array.from(b.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(Array.from(a.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    // from a later point of the first log: the points it skips are not in the answer
    expect(Array.from((await liveSeries(objects, 'synthetic', [], '', first, 8)).get('m')!.value)).toEqual([8, 9])
    // the walk's compare tells -0 from 0 and NaN from a number, and finds NaN equal to NaN (Object.is)
    const signed = journal([0, -0, NaN, 3])
    expect(Array.from((await liveSeries(objects, 'zeros', [], '', signed, 0)).get('m')!.value)).toEqual([0, -0, NaN, 3])
    expect(Array.from((await liveSeries(objects, 'zeros', [], '', journal([0, -0, NaN, 3, 4]), 0)).get('m')!.value)).toEqual([0, -0, NaN, 3, 4])
    expect(Array.from((await liveSeries(objects, 'zeros', [], '', journal([-0, 0, 2, 3]), 0)).get('m')!.value)).toEqual([-0, 0, 2, 3])
    expect(Array.from((await liveSeries(objects, 'zeros', [], '', journal([-0, 0, NaN, 3]), 0)).get('m')!.value)).toEqual([-0, 0, NaN, 3])
    await book.close()
  })
})
