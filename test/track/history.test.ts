// Issue 15: metric history reads — chunks parsed into columns once, the drawn sample kept under .git/labbook/series
// by the metrics folder's tree id, the journaled tail of a run in progress added exactly.
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { decodePointRow } from '../../src/format/jsonl.js'
import { Labbook } from '../../src/index.js'
import { minMaxIndices } from '../../src/model/minmax.js'
import { METRICS_DIR, runDir } from '../../src/model/layout.js'
import type { MetricPoint } from '../../src/model/run.js'
import { samplePath } from '../../src/track/history.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo | undefined
afterEach(() => { repo?.cleanup(); repo = undefined })

/** What a reader must give, computed another way: every chunk line through JSON.parse, a stable sort. */
async function reference(book: Labbook, id: string): Promise<Record<string, MetricPoint[]>> {
  const view = (await (book as unknown as { view(): Promise<{ list(d: string): Promise<Array<{ name: string; oid: string }>> }> }).view())
  const out: Record<string, MetricPoint[]> = {}
  const chunks = (await view.list(`${runDir(id)}/${METRICS_DIR}`)).sort((a, b) => (a.name < b.name ? -1 : 1))
  for (const c of chunks) {
    for (const line of (await book.objects.readBlob(c.oid)).toString('utf8').trimEnd().split('\n')) {
      const p = decodePointRow(JSON.parse(line))!
      ;(out[p.key] ??= []).push(p)
    }
  }
  for (const k in out) out[k]!.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp)
  return out
}

const sampleOf = (pts: MetricPoint[], max: number) => (pts.length > max ? minMaxIndices({ x: { length: pts.length } as ArrayLike<number>, y: pts.map((p) => p.value) }, max).map((i) => pts[i]!) : pts)
const seriesFiles = (gitdir: string) => (existsSync(join(gitdir, 'labbook', 'series')) ? readdirSync(join(gitdir, 'labbook', 'series'), { recursive: true }).filter((f) => String(f).endsWith('.json')) : [])

describe('metric history reads', () => {
  it('histories and samples equal a line-by-line read; the sample is kept on disk and made again when lost or damaged', { timeout: 60_000 }, async () => {
    repo = gitRepo()
    const user = repo.userState()
    const book = await Labbook.open({ repo: repo.dir })
    const run = await book.startRun({ experiment: 'h', name: 'long' })
    // several commits (several chunks), two keys interleaved, a step logged again later, NaN, ±Infinity and -0 (kept
    // as -0 through the sample file too)
    for (let part = 0; part < 3; part++) {
      for (let i = 0; i < 3000; i++) {
        const step = part * 3000 + i
        run.logMetric('loss', step % 997 === 0 ? NaN : Math.exp(-step / 5000) + 0.01 * Math.sin(step), { step, timestamp: 1_700_000_000_000 + step })
        if (i % 500 === 0) run.logMetric('acc', step === 0 ? -Infinity : step === 1500 ? -0 : step / 9000, { step, timestamp: 1_700_000_000_000 + step })
      }
      run.logMetric('loss', 42, { step: 7, timestamp: 1_800_000_000_000 + part })
      await run.commit()
    }
    await run.end('FINISHED')
    const ref = await reference(book, run.id)
    expect(ref.loss!.length).toBe(9003)

    expect(await book.metricHistories(run.id)).toEqual(ref)
    expect(await book.metricHistory(run.id, 'acc')).toEqual(ref.acc)
    expect(Object.keys(await book.metricHistories(run.id, 'acc'))).toEqual(['acc'])

    const expected = { loss: { total: 9003, points: sampleOf(ref.loss!, 300) }, acc: { total: 18, points: ref.acc! } }
    expect(seriesFiles(book.gitdir)).toEqual([])
    expect(await book.metricSample(run.id, 300)).toEqual(expected)
    const files = seriesFiles(book.gitdir)
    expect(files).toHaveLength(1)
    const tree = (await (await book.at('labbook')).runTrees()).get(run.id)!
    const metricsTree = (await book.objects.readTree(tree)).find((e) => e.name === METRICS_DIR)!.oid
    const file = samplePath(book.gitdir, metricsTree, 300)
    expect(existsSync(file)).toBe(true)
    // a fresh process reads the file (same answer); lost or damaged, it is made again
    const again = await Labbook.open({ repo: repo.dir })
    expect(await again.metricSample(run.id, 300)).toEqual(expected)
    writeFileSync(file, '{"loss":{"n":1,"s":[1],"v":["oops"],"t":[1]}}')
    expect(await again.metricSample(run.id, 300)).toEqual(expected)
    rmSync(join(book.gitdir, 'labbook', 'series'), { recursive: true })
    expect(await again.metricSample(run.id, 300)).toEqual(expected)
    expect(existsSync(file)).toBe(true)
    // nothing is kept for histories that fit
    expect((await again.metricSample(run.id, 20_000)).loss!.points).toEqual(ref.loss)
    expect(seriesFiles(book.gitdir)).toHaveLength(1)
    await again.close()
    await book.close()
    expect(fsck(repo)).toBe('')
    expect(repo.userState()).toEqual(user)
  })

  it('one metric over many chunks is sampled where it lies (no joined copy), in order or not, as a full read', { timeout: 60_000 }, async () => {
    repo = gitRepo()
    const book = await Labbook.open({ repo: repo.dir })
    // each commit closes a chunk (> 64 KB): three chunks holding one key; the second run logs an early step last
    const make = async (name: string, late: boolean) => {
      const run = await book.startRun({ experiment: 'h', name })
      for (let part = 0; part < 3; part++) {
        for (let i = 0; i < 2500; i++) {
          const step = part * 2500 + i
          run.logMetric('loss', step === 4321 ? 99 : step % 1009 === 0 ? NaN : Math.exp(-step / 3000) + 0.01 * Math.sin(step), { step, timestamp: 1_700_000_000_000 + step })
        }
        if (late && part === 2) run.logMetric('loss', -7, { step: 10, timestamp: 1_600_000_000_000 })
        await run.commit()
      }
      await run.end('FINISHED')
      return run.id
    }
    for (const [id, late] of [[await make('in-order', false), false], [await make('late', true), true]] as const) {
      expect((await book.metricChunks(id)).chunks.length).toBe(3)
      const ref = await reference(book, id)
      expect(ref.loss!.length).toBe(late ? 7501 : 7500)
      for (const max of [300, 1501, 20_000]) {
        rmSync(join(book.gitdir, 'labbook', 'series'), { recursive: true, force: true })
        const sample = await book.metricSample(id, max)
        expect(sample).toEqual({ loss: { total: ref.loss!.length, points: sampleOf(ref.loss!, max) } })
        if (max < 7500) expect(sample.loss!.points.some((p) => p.value === 99)).toBe(true)
        if (late && max < 7500) expect(sample.loss!.points.some((p) => p.value === -7)).toBe(true)
      }
    }
    await book.close()
    expect(fsck(repo)).toBe('')
  })

  it('a run in progress: the journaled tail is added to the committed part, exactly as a full read', { timeout: 60_000 }, async () => {
    repo = gitRepo()
    const writer = await Labbook.open({ repo: repo.dir, commitInterval: 3_600_000 })
    const run = await writer.startRun({ experiment: 'h', name: 'live' })
    // The start's group commit lands now: a later one would commit the run in its latest state, tail included.
    await writer.flush()
    for (let i = 0; i < 2000; i++) run.logMetric('loss', 1 / (i + 1), { step: i, timestamp: 1_700_000_000_000 + i })
    await run.commit()
    for (let i = 2000; i < 2600; i++) run.logMetric('loss', i % 2 ? 5 : 1 / (i + 1), { step: i, timestamp: 1_700_000_000_000 + i })
    run.logMetric('late', 3, { step: 0, timestamp: 1 })
    run.flush() // journaled, not committed
    const reader = await Labbook.open({ repo: repo.dir })
    const hist = await reader.metricHistories(run.id)
    expect(hist.loss).toHaveLength(2600)
    expect(hist.late).toEqual([{ key: 'late', value: 3, step: 0, timestamp: 1 }])
    const sample = await reader.metricSample(run.id, 200)
    expect(sample).toEqual({ loss: { total: 2600, points: sampleOf(hist.loss!, 200) }, late: { total: 1, points: hist.late } })
    expect(sample.loss!.points.some((p) => p.value === 5)).toBe(true) // spikes of the tail are drawn
    // the committed part alone (no tail) is what the branch's view samples
    const branch = await (await reader.at('labbook')).metricSample(run.id, 200)
    expect(branch.loss!.total).toBe(2000)
    await run.end('FINISHED')
    expect((await reader.metricSample(run.id, 200)).loss!.total).toBe(2600)
    await reader.close()
    await writer.close()
    expect(fsck(repo)).toBe('')
  })
})
