// A cold listing writes the summary lines to the listing file as git delivers them (ListingFile), not kept in memory,
// and save() adds the header and the columns (issue 17). The file must read back as the table built in memory does;
// a header too large for the room left before the lines falls back to writing the whole file; temp files left by a
// dead process are removed; a listing directory that cannot be written still answers.
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateRuns } from '../../bench/generate.js'
import { Labbook } from '../../src/index.js'
import { ListingBuilder, ListingFile, ListingTable, type ColumnName } from '../../src/store/listing.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

const LINES = [
  { id: 'b', name: 'x', experiment: '1', status: 'FINISHED', lifecycle: 'active', startTime: 2, source: { commit: 'c1' }, params: { p: 1, q: 'a' }, tags: {}, metrics: { m: [{ $n: 'NaN' }, 0, 0, 0, 0, 1] } },
  { id: 'a', name: 'y', experiment: '1', status: 'FAILED', lifecycle: 'deleted', startTime: 2, source: {}, params: { p: { $n: 'Infinity' } }, tags: { t: 'v' }, metrics: {} },
  { id: 'c', name: 'z', experiment: '2', status: 'FINISHED', lifecycle: 'active', startTime: 1, endTime: 5, source: { dirty: true }, params: { q: true }, tags: {}, metrics: { m: [0.5, 1, 1, 0.5, 0.5, 1] } },
]

/** The table of LINES, built as a cold listing builds it: into `file` (streamed), or in memory without one. */
function build(names: readonly ColumnName[], file: ListingFile | undefined): ListingTable {
  const b = new ListingBuilder(names, file)
  const bytes = Buffer.from(LINES.map((l) => JSON.stringify(l)).join('\n') + '\n')
  // the file in pieces, cut inside lines, as git's pipe delivers it
  const pieces = [bytes.subarray(0, 7), bytes.subarray(7, 200), bytes.subarray(200)]
  let at = 0
  for (const l of LINES) {
    const len = Buffer.byteLength(JSON.stringify(l))
    b.add(l as never, pieces, at, at + len)
    at += len + 1
  }
  return b.finish('k', [{ path: 'runs/00/x/run.yaml', message: 'bad' }])
}

let dir: string
beforeAll(() => { dir = fs.mkdtempSync(join(os.tmpdir(), 'labbook-listing-file-')) })
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('ListingFile', () => {
  it('a table built into its file reads back as one built in memory, before and after save', () => {
    const names: ColumnName[] = ['m:m', 'p:p', 'p:q', 'lifecycle', 'startTime']
    const out = join(dir, 'streamed')
    const streamed = build(names, ListingFile.create(out, 'k'))
    const memory = build(names, undefined)
    const same = (t: ListingTable) => {
      expect(t.n).toBe(3)
      expect([0, 1, 2].map((i) => t.run(i))).toEqual([0, 1, 2].map((i) => memory.run(i)))
      for (const name of names) expect(t.column(name)).toEqual(memory.column(name))
      expect(t.damaged).toEqual(memory.damaged)
    }
    same(streamed) // lines read back from the temp file
    streamed.save(out)
    expect(fs.readdirSync(out)).toEqual(['k.bin'])
    same(streamed)
    const loaded = ListingTable.load(out, 'k')!
    same(loaded)
    expect(loaded.dirty).toBe(false) // every column came from the file
    // the same sections as the file written whole; only the room before the lines differs
    const whole = ListingTable.decode(memory.encode(), 'k')!
    same(whole)
  })

  it('a header too large for the room before the lines: the whole file is written instead', () => {
    const names: ColumnName[] = [`t:${'x'.repeat(70_000)}`, 'm:m']
    const out = join(dir, 'big')
    const t = build(names, ListingFile.create(out, 'k'))
    t.save(out)
    expect(fs.readdirSync(out)).toEqual(['k.bin'])
    const back = ListingTable.load(out, 'k')!
    expect([0, 1, 2].map((i) => back.run(i).id)).toEqual(['b', 'a', 'c'])
    expect(back.column('m:m')).toEqual(t.column('m:m'))
    expect(back.column(names[0]!)).toBeUndefined()
  })

  it('removes temp files a dead process left an hour ago, and keeps newer ones', () => {
    const out = join(dir, 'stale')
    fs.mkdirSync(out, { recursive: true })
    const old = join(out, 'k.bin.123.abc.tmp')
    const recent = join(out, 'k.bin.456.def.tmp')
    fs.writeFileSync(old, 'x')
    fs.writeFileSync(recent, 'y')
    const hoursAgo = new Date(Date.now() - 2 * 3600_000)
    fs.utimesSync(old, hoursAgo, hoursAgo)
    build(['m:m'], ListingFile.create(out, 'k')).save(out)
    expect(fs.readdirSync(out).sort()).toEqual(['k.bin', 'k.bin.456.def.tmp'])
  })
})

describe('a cold listing whose listing directory cannot be written', () => {
  let repo: TestRepo
  beforeAll(async () => {
    repo = gitRepo()
    await generateRuns(repo.dir, 60, { params: 3, metrics: 2, points: 1, batch: 60 })
  }, 120_000)
  afterAll(() => repo?.cleanup())

  it('answers as with one, and saves nothing', async () => {
    const q = { filter: 'metrics.accuracy > 0.2', orderBy: ['metrics.accuracy DESC'], limit: 10 }
    const listing = join(repo.dir, '.git', 'labbook', 'listing')
    let book = await Labbook.open({ repo: repo.dir })
    const want = await book.queryRuns(q)
    await book.close()
    expect(want.length).toBeGreaterThan(0)
    fs.rmSync(listing, { recursive: true, force: true })
    fs.writeFileSync(listing, 'a file where the directory goes') // mkdir fails, even for root
    book = await Labbook.open({ repo: repo.dir })
    expect(await book.queryRuns(q)).toEqual(want)
    await book.close()
    expect(fs.readFileSync(listing, 'utf8')).toBe('a file where the directory goes')
    fs.rmSync(listing)
    expect(fsck(repo)).toBe('')
  })
})
