// The listing table (src/store/listing.ts) behind book.queryRuns / `labbook ls`: the same answers as materialising
// every run and searching (the slow path), a file under .git/labbook keyed by the runs tree (a new tip that changes
// runs gets a new one; deleting .git/labbook or damaging the file loses nothing), and a fresh clone answers alike.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateRuns } from '../../bench/generate.js'
import { Labbook, search } from '../../src/index.js'
import type { RunSummary } from '../../src/model/run.js'
import { ListingTable } from '../../src/store/listing.js'
import { decodeSummaryBuffer } from '../../src/format/summaries.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo
let clone: string
const listingDir = (dir: string) => join(dir, '.git', 'labbook', 'listing')
const runsTree = (dir: string) => execFileSync('git', ['rev-parse', 'labbook:runs'], { cwd: dir, encoding: 'utf8' }).trim()

beforeAll(async () => {
  repo = gitRepo()
  // 300 generated runs (5 experiments, statuses, deleted ones, params of mixed types, tags, two code branches)…
  await generateRuns(repo.dir, 300, { params: 6, metrics: 4, points: 2, batch: 300 })
  // …plus runs made through the API with the corners: NaN and infinite values, datasets, a parent, odd keys
  const book = await Labbook.open({ repo: repo.dir })
  const exp = await book.experiment('corners')
  const parent = await exp.startRun({ name: 'parent' })
  parent.logParams({ lr: 0.1, 'learning rate': 'x y' })
  parent.logMetric('accuracy', Number.NaN)
  parent.logMetric('loss', Number.POSITIVE_INFINITY)
  parent.setTag('team', 'vision')
  parent.logInputs([{ name: 'iris', digest: 'a1b2c3', sourceType: 'local', source: 'data/iris.csv', context: 'training' }])
  await parent.end()
  const child = await exp.startRun({ name: 'child', parent: parent.id })
  child.logParams({ lr: '0.01', param_1: 'choice-2' })
  child.logMetric('accuracy', 0.75)
  await child.end('FAILED')
  await book.close()
  clone = fs.mkdtempSync(join(os.tmpdir(), 'labbook-listing-clone-'))
  execFileSync('git', ['clone', '-q', '--no-checkout', repo.dir, clone])
  execFileSync('git', ['fetch', '-q', 'origin', 'labbook:labbook'], { cwd: clone })
}, 240_000)

afterAll(() => {
  repo?.cleanup()
  if (clone) fs.rmSync(clone, { recursive: true, force: true })
}, 120_000)

type Q = { filter?: string; orderBy?: string[]; limit?: number; offset?: number; experiment?: string; includeDeleted?: boolean; commit?: string }
const QUERIES: Q[] = [
  {},
  { limit: 50 },
  { limit: 0 },
  { limit: 10, offset: 5, includeDeleted: true },
  { experiment: '2', limit: 20 },
  { commit: 'aaaa', limit: 30 },
  { filter: 'metrics.accuracy > 0.5 and params.param_1 = "choice-2"', orderBy: ['metrics.accuracy DESC'], limit: 50 },
  { filter: 'params.param_0 > 5', orderBy: ['params.param_2 ASC'], limit: 25 },
  { filter: "tags.team = 'nlp' or status = 'FAILED'", orderBy: ['start_time ASC'], limit: 7, offset: 3 },
  { filter: "attributes.run_name LIKE 'run-1%'", includeDeleted: true },
  { filter: 'duration > 1000000 and source.dirty = true', orderBy: ['end_time DESC'] },
  { filter: "experiment = 'experiment-2'", limit: 15 },
  { filter: "experiment = 'experiment-2'", limit: 15, experiment: '3' },
  { filter: 'metrics.accuracy != 0.5', orderBy: ['metrics.accuracy ASC'], limit: 40 },
  { filter: 'metrics.loss IS NULL', limit: 10 },
  { filter: "params.lr IN ('0.1', '0.01')" },
  { filter: "params.`learning rate` = 'x y'" },
  { filter: "datasets.name = 'iris'" },
  { filter: "parent IS NOT NULL" },
  { orderBy: ['params.param_1 DESC', 'metrics.loss'], limit: 60 },
  { orderBy: ['run_name'], limit: 5, includeDeleted: true },
  { orderBy: ['metrics.accuracy DESC'] },
  { filter: "run_id LIKE '%a%' and user_id = 'user3'", orderBy: ['duration DESC'], limit: 9 },
]

/** The slow path: every run materialised, then the query library (what `ls` did before the listing table). */
async function slow(book: Labbook, q: Q): Promise<RunSummary[]> {
  let runs = await search(book, q.filter, { experiment: q.experiment, includeDeleted: q.includeDeleted, orderBy: q.orderBy })
  if (!q.filter && !q.orderBy) runs = await book.listRuns({ experiment: q.experiment, includeDeleted: q.includeDeleted })
  if (q.commit) runs = runs.filter((r) => r.source.commit?.startsWith(q.commit!))
  const offset = q.offset ?? 0
  return runs.slice(offset, q.limit === undefined ? undefined : offset + q.limit)
}

async function fast(book: Labbook, q: Q): Promise<RunSummary[]> {
  const names = Object.fromEntries((await book.listExperiments({ includeDeleted: true })).map((e) => [e.id, e.name]))
  return book.queryRuns({ ...q, experimentNames: names })
}

describe('queryRuns over the listing table', () => {
  it('gives exactly what materialising every run and searching gives, cold and warm, here and in a fresh clone', async () => {
    for (const dir of [repo.dir, clone]) {
      fs.rmSync(join(dir, '.git', 'labbook'), { recursive: true, force: true })
      for (const round of ['cold', 'warm']) {
        const book = await Labbook.open({ repo: dir })
        let nonEmpty = 0
        for (const q of QUERIES) {
          const want = await slow(book, q)
          const got = await fast(book, q)
          expect(got.map((r) => r.id), `${round} ${dir === clone ? 'clone' : 'repo'} ${JSON.stringify(q)}`).toEqual(want.map((r) => r.id))
          expect(got).toEqual(want)
          if (want.length > 0) nonEmpty++
        }
        expect(nonEmpty).toBeGreaterThan(QUERIES.length - 4) // the queries select something
        await book.close()
        expect(fs.readdirSync(listingDir(dir))).toEqual([`${runsTree(dir)}.bin`])
      }
    }
    // a filter naming a field no run has, and a bad filter, behave as in searchRuns
    const book = await Labbook.open({ repo: clone })
    expect(await book.queryRuns({ filter: 'metrics.nothing > 0' })).toEqual([])
    await expect(book.queryRuns({ filter: 'metrics.acc >' })).rejects.toMatchObject({ code: 'INVALID_FILTER' })
    await book.close()
  }, 120_000)

  it('is keyed by the runs tree: a new tip with a new run is seen at once and gets a file of its own', async () => {
    const before = runsTree(clone)
    fs.rmSync(listingDir(clone), { recursive: true, force: true })
    const book = await Labbook.open({ repo: clone })
    const q = { filter: "params.lr = '0.5'" }
    expect(await book.queryRuns(q)).toEqual([])
    // the file is written after the answer: on the next turn of the event loop (or at close())
    expect(fs.existsSync(join(listingDir(clone), `${before}.bin`))).toBe(false)
    await new Promise((r) => setImmediate(r))
    expect(fs.existsSync(join(listingDir(clone), `${before}.bin`))).toBe(true)
    const run = await (await book.experiment('late')).startRun({ name: 'late' })
    run.logParam('lr', 0.5)
    run.logMetric('accuracy', 2) // above every generated accuracy (0..1)
    await run.end()
    await book.flush()
    const after = runsTree(clone)
    expect(after).not.toBe(before)
    const other = await Labbook.open({ repo: clone }) // another process would see the same files
    expect((await other.queryRuns(q)).map((r) => r.name)).toEqual(['late'])
    expect((await other.queryRuns({ orderBy: ['metrics.accuracy DESC'], limit: 1 }))[0]!.id).toBe(run.id)
    await other.close() // writes it (if the next event-loop turn has not)
    expect(fs.existsSync(join(listingDir(clone), `${after}.bin`))).toBe(true)
    // the same book, asked again, also sees the new tip (its in-memory table is keyed the same way)
    expect((await book.queryRuns(q)).map((r) => r.name)).toEqual(['late'])
    await book.close()
  }, 60_000)

  it('survives deletion of .git/labbook and a damaged file: same answers, the file rebuilt', async () => {
    const q: Q = { filter: 'metrics.accuracy > 0.3', orderBy: ['metrics.accuracy DESC'], limit: 20 }
    const open = () => Labbook.open({ repo: clone })
    let book = await open()
    const want = await fast(book, q)
    expect(want).toHaveLength(20)
    await book.close()
    const status = execFileSync('git', ['status', '--porcelain'], { cwd: clone, encoding: 'utf8' })
    fs.rmSync(join(clone, '.git', 'labbook'), { recursive: true, force: true })
    book = await open()
    expect(await fast(book, q)).toEqual(want)
    await book.close()
    const file = join(listingDir(clone), `${runsTree(clone)}.bin`)
    expect(fs.existsSync(file)).toBe(true)
    const good = fs.readFileSync(file)
    expect(ListingTable.decode(good, runsTree(clone))?.n).toBeGreaterThan(300)
    for (const damage of [good.subarray(0, good.length >> 1), Buffer.from('not a listing'), Buffer.concat([good.subarray(0, 20), Buffer.alloc(64, 0xff), good.subarray(84)])]) {
      fs.writeFileSync(file, damage)
      book = await open()
      expect(await fast(book, q)).toEqual(want)
      await book.close()
    }
    // the user's files are untouched by any of it
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: clone, encoding: 'utf8' })).toBe(status)
  }, 60_000)

  it('round-trips a table through its file bytes, columns included', () => {
    const lines = [
      { id: 'b', name: 'x', experiment: '1', status: 'FINISHED', lifecycle: 'active', startTime: 2, source: { commit: 'c1' }, params: { p: 1, q: 'a' }, tags: {}, metrics: { m: [{ $n: 'NaN' }, 0, 0, 0, 0, 1] } },
      { id: 'a', name: 'y', experiment: '1', status: 'FAILED', lifecycle: 'deleted', startTime: 2, source: {}, params: { p: { $n: 'Infinity' } }, tags: { t: 'v' }, metrics: {} },
      { id: 'c', name: 'z', experiment: '2', status: 'FINISHED', lifecycle: 'active', startTime: 1, endTime: 5, source: { dirty: true }, params: { q: true }, tags: {}, metrics: { m: [0.5, 1, 1, 0.5, 0.5, 1] } },
    ].map((raw) => { const bytes = Buffer.from(JSON.stringify(raw) + '\n'); return { raw, bytes, start: 0, end: bytes.length - 1 } })
    const t = ListingTable.build('k', lines, [{ path: 'runs/00/x/run.yaml', message: 'bad' }])
    const names = ['m:m', 'p:p', 'p:q', 'source.dirty', 't:nothing', 'id'] as const
    for (const name of names) t.column(name) // computed from the rows, so the file holds them
    const back = ListingTable.decode(t.encode(), 'k')!
    expect(back.dirty).toBe(false)
    expect(ListingTable.decode(t.encode(), 'other')).toBeUndefined()
    for (const table of [t, back]) {
      expect(table.n).toBe(3)
      expect([0, 1, 2].map((i) => table.run(i).id)).toEqual(['b', 'a', 'c']) // start time newest first, then id descending
      expect(table.damaged).toEqual([{ path: 'runs/00/x/run.yaml', message: 'bad' }])
      expect(table.column('m:m')!.rows).toEqual(new Uint32Array([0, 2]))
      expect([...(table.column('m:m')!.values as Float64Array)]).toEqual([NaN, 0.5])
      expect([...table.column('p:p')!.values]).toEqual([1, Infinity])
      expect(table.column('p:q')!.values).toEqual(['a', true])
      expect(table.column('source.dirty')!.rows).toEqual(new Uint32Array([2]))
      expect(table.column('t:nothing')).toBeUndefined()
      expect(table.run(1).params.p).toBe(Infinity)
    }
    expect(back.dirty).toBe(false) // every column asked for came from the file
    expect(back.column('t:t')!.values).toEqual(['v']) // one the file lacks: computed from the lines
    expect(back.dirty).toBe(true)
    expect(ListingTable.decode(back.encode(), 'k')!.column('t:t')!.rows).toEqual(new Uint32Array([1]))
    // lines read in pieces (a summary file as git's pipe delivered it, cut inside lines): the same table and file
    const file = Buffer.concat(lines.map((l) => l.bytes))
    const pieces = [file.subarray(0, 7), file.subarray(7, 8), file.subarray(8, 300), file.subarray(300)]
    const rows = decodeSummaryBuffer(pieces).rows.map((r) => ({ raw: r.raw!, bytes: pieces, start: r.start, end: r.end }))
    const cut = ListingTable.build('k', rows, [{ path: 'runs/00/x/run.yaml', message: 'bad' }])
    for (const name of names) cut.column(name)
    expect([0, 1, 2].map((i) => cut.run(i))).toEqual([0, 1, 2].map((i) => t.run(i)))
    expect(ListingTable.decode(cut.encode(), 'k')!.run(1)).toEqual(t.run(1))
  })
})
