// The live view reads run journals incrementally (src/track/journal.ts readJournal): only bytes appended since the
// last read are parsed. Whatever the writer does between two reads (appends, a line written in two pieces, a
// rotation to a new base, a rotation that rewrites the same segment), the result equals a fresh parse of the same
// files, and the running summaries equal summarize() of the points. Only the newest segment counts.
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { encodeOp } from '../../src/format/journal.js'
import { encodePoint } from '../../src/format/jsonl.js'
import { summarize } from '../../src/model/metric.js'
import { Journal, journalFeedWork, journalPoints, journalRoot, readJournal, readJournalAhead, type JournalContents } from '../../src/track/journal.js'
import { Labbook } from '../../src/index.js'
import { fsck, gitRepo } from '../helpers/git-repo.js'

const root = fs.mkdtempSync(join(os.tmpdir(), 'labbook-journal-read-'))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

let copies = 0
/**
 * A fresh parse: the same files under another directory (the incremental state is kept per directory). A file that
 * goes while it is copied is left out: a rotation to a new base resolves before its superseded segment is unlinked
 * (readers skip that one), and fs.cpSync failed on it (ENOENT, once in CI).
 */
function fresh(dir: string): JournalContents {
  const to = join(root, `copy-${copies++}`)
  fs.mkdirSync(to)
  for (const name of fs.readdirSync(dir)) {
    try {
      fs.copyFileSync(join(dir, name), join(to, name))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
  }
  return readJournal(to)
}

/** Contents with their points as objects (the columns' arrays may be longer than the points they hold). */
function shape(c: JournalContents) {
  const { points, ...rest } = c
  return { ...rest, points: journalPoints(points) }
}

function expectSame(dir: string) {
  const raw = readJournal(dir)
  const got = shape(raw)
  expect(got).toEqual(shape(fresh(dir)))
  expect(got.pointSummaries).toEqual(summarize(got.points))
  return { ...got, raw }
}

const pt = (i: number) => encodePoint(i % 3 ? 'loss' : 'acc', 1 / (i + 1), i, 1_700_000_000_000 + i)

describe('readJournal, incremental', () => {
  it('equals a fresh parse through appends, a torn line, rotations to a new base and onto the same base', async () => {
    const gitdir = join(root, 'git')
    const j = new Journal(gitdir, 'r1')
    j.open({ runId: 'r1', experiment: 'e', branch: 'labbook' }, 0)
    j.append(encodeOp({ op: 'param', key: 'lr', value: 0.1 }))
    let i = 0
    for (let k = 0; k < 5; k++) j.append(pt(i++))
    const first = expectSame(j.dir)
    expect(first.points).toHaveLength(5)
    // unchanged: the same object, nothing parsed
    expect(readJournal(j.dir)).toBe(first.raw)

    // a line written in two pieces: the half is not read, then all of it is
    const line = pt(i++)
    j.append(line.slice(0, 10))
    expect(expectSame(j.dir).points).toHaveLength(5)
    j.append(line.slice(10) + pt(i++) + encodeOp({ op: 'tag', key: 't', value: 'x' }))
    const grown = expectSame(j.dir)
    expect(grown.points).toHaveLength(7)
    expect(grown.ops.map((o) => o.op)).toEqual(['param', 'tag'])
    // what was handed out before does not change afterwards (a snapshot stays one moment)
    expect(first.points).toHaveLength(5)
    expect(shape(first.raw).points).toEqual(first.points)
    expect(first.raw.points.count).toBe(5)

    // the first 7 points committed: the segment is emptied, renamed to base 7, the carry written back
    await j.rotate(7, pt(i++))
    const rotated = expectSame(j.dir)
    expect(rotated.points.map((p) => p.index)).toEqual([7])
    for (let k = 0; k < 4; k++) j.append(pt(i++))
    expect(expectSame(j.dir).points.map((p) => p.index)).toEqual([7, 8, 9, 10, 11])

    // a commit with no new points (an edit): same segment name, replaced (off the event loop) by one holding a longer
    // carry; what is appended meanwhile waits and follows it, and durable() waits for both
    const before = readJournal(j.dir)
    const replacing = j.rotate(7, Array.from({ length: 8 }, (_, k) => pt(100 + k)).join(''))
    j.append(pt(200))
    expect(readJournal(j.dir)).toBe(before) // not written yet: the old segment, whole, until the rename
    const durable = j.durable()
    await replacing
    await durable
    const same = expectSame(j.dir)
    expect(same.points.map((p) => p.step)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 200])
    expect(fs.readdirSync(j.dir).sort()).toEqual(['000000000007.jsonl', 'owner.json'])
    j.append(encodeOp({ op: 'end', status: 'FINISHED', endTime: 5 }))
    expect(expectSame(j.dir).ended).toEqual({ status: 'FINISHED', endTime: 5 })
    j.close()
  })

  it('readJournalAhead parses in slices of at most maxBytes into the same state: readJournal then parses only the rest', () => {
    const gitdir = join(root, 'git-ahead')
    const j = new Journal(gitdir, 'ra')
    j.open({ runId: 'ra', experiment: 'e', branch: 'labbook' }, 0)
    let i = 0
    for (let k = 0; k < 300; k++) j.append(pt(i++))
    j.append(encodeOp({ op: 'tag', key: 't', value: 'x' }))
    const bytes = fs.statSync(join(j.dir, '000000000000.jsonl')).size
    const slice = 1000 // about 15 lines
    let slices = 0
    while (!readJournalAhead(j.dir, slice)) {
      slices++
      expect(slices).toBeLessThan(1000)
    }
    // each slice parsed complete lines only, within its budget: as many slices as the budget needs
    expect(slices).toBeGreaterThanOrEqual(Math.floor(bytes / slice) - 1)
    expect(slices).toBeLessThanOrEqual(Math.ceil(bytes / (slice - 100)))
    // nothing left: readJournal hands out what the slices parsed, equal to a fresh parse
    const all = expectSame(j.dir)
    expect(all.points).toHaveLength(300)
    expect(all.ops.map((o) => o.op)).toEqual(['tag'])
    // appends meanwhile: slices go on from where the last stopped; a half-written line waits
    for (let k = 0; k < 50; k++) j.append(pt(i++))
    j.append(pt(i).slice(0, 12))
    expect(readJournalAhead(j.dir, slice)).toBe(false)
    expect(shape(readJournal(j.dir)).points).toHaveLength(350)
    j.append(pt(i++).slice(12))
    while (!readJournalAhead(j.dir, slice));
    expect(expectSame(j.dir).points).toHaveLength(351)
    // a slice that ends mid-line leaves the line whole for the next: no point is cut or lost
    for (let k = 0; k < 40; k++) j.append(pt(i++))
    expect(readJournalAhead(j.dir, 777)).toBe(false)
    const mid = shape(readJournal(j.dir)).points // the rest, after a slice that stopped mid-line
    expect(mid).toHaveLength(391)
    expect(mid.map((p) => p.index)).toEqual(Array.from({ length: 391 }, (_, k) => k))
    j.close()
  })

  it('a line that is no JSON ends its segment, as recovery reads it', () => {
    const gitdir = join(root, 'git2')
    const j = new Journal(gitdir, 'r2')
    j.open({ runId: 'r2', experiment: 'e', branch: 'labbook' }, 3)
    j.append(pt(0) + pt(1))
    expectSame(j.dir)
    j.append('{"key":\n' + pt(2))
    const got = expectSame(j.dir)
    expect(got.points.map((p) => p.index)).toEqual([3, 4])
    j.append(pt(3))
    expect(expectSame(j.dir).points).toHaveLength(2)
    j.close()
  })

  it('reads points in columns: the spelling encodePoint writes by the byte scanner, any other valid spelling as JSON', () => {
    const gitdir = join(root, 'git3')
    const j = new Journal(gitdir, 'r3')
    j.open({ runId: 'r3', experiment: 'e', branch: 'labbook' }, 0)
    j.append(encodePoint('a"b', 0.1, 1, 5) + '{"t":6,"s":2,"v":"NaN","k":"a\\"b"}\n' + encodePoint('loss', -Infinity, 3, 7) + encodePoint('loss', 12345678.123456789, 4, 8))
    const got = expectSame(j.dir)
    expect(got.points).toEqual([
      { key: 'a"b', value: 0.1, step: 1, timestamp: 5, index: 0 },
      { key: 'a"b', value: NaN, step: 2, timestamp: 6, index: 1 },
      { key: 'loss', value: -Infinity, step: 3, timestamp: 7, index: 2 },
      { key: 'loss', value: 12345678.123456789, step: 4, timestamp: 8, index: 3 },
    ])
    expect(got.raw.points.keys).toEqual(['a"b', 'loss'])
    j.close()
  })

  it('a segment below the newest is superseded (a rotation killed before it removed the old one): only the newest is read', () => {
    const gitdir = join(root, 'git4')
    const j = new Journal(gitdir, 'r4')
    j.open({ runId: 'r4', experiment: 'e', branch: 'labbook' }, 0)
    j.append(encodeOp({ op: 'tag', key: 'old', value: 'x' }))
    for (let k = 0; k < 12; k++) j.append(pt(k))
    j.close()
    expect(shape(readJournal(j.dir)).points).toHaveLength(12)
    // what Journal.rebase leaves when killed after its rename: the new segment (base 10, the carry) beside the old
    fs.writeFileSync(join(j.dir, '000000000010.jsonl'), pt(10) + pt(11) + encodeOp({ op: 'tag', key: 'late', value: 'y' }))
    const got = expectSame(j.dir)
    expect(got.points.map((p) => [p.index, p.step])).toEqual([[10, 10], [11, 11]])
    expect(got.ops).toEqual([{ op: 'tag', key: 'late', value: 'y' }])
    // bases compare as numbers: a base past 12 digits is still the newest
    fs.writeFileSync(join(j.dir, '1000000000000.jsonl'), pt(12))
    expect(shape(readJournal(j.dir)).points.map((p) => p.index)).toEqual([1e12])
  })

  it('a writer in this process hands what it appends to the reader as parsed: the same state as a parse of the file, nothing parsed', { timeout: 60_000 }, async () => {
    const repo = gitRepo()
    try {
      const user = repo.userState()
      const book = await Labbook.open({ repo: repo.dir, commitInterval: 3_600_000 })
      const run = await book.startRun({ experiment: 'feed', name: 'fed' })
      await book.flush() // the start's commit and its rotation land now
      const dir = join(journalRoot(join(repo.dir, '.git')), run.id)
      let t = 1_700_000_000_000
      const before = journalFeedWork.fed
      run.logMetric('loss', 0.5, { step: 0, timestamp: t++ })
      run.flush()
      // nobody read the journal here yet: the points were written as text only (none kept as numbers, none fed)
      expect(journalFeedWork.fed).toBe(before)
      expectSame(dir) // the reader has read the segment to its end: what is logged next is kept as numbers and fed
      const fed0 = journalFeedWork.fed
      // the spellings a parse treats apart: NaN and ±Infinity as strings, -0 (a value keeps its sign, a step's and a
      // time's text drop it), big and tiny numbers, keys with a space and a slash; an op before the points
      const values = [NaN, Infinity, -Infinity, -0, 0, 1e-300, 12345678.123456789, -2.5e21]
      run.logParam('lr', 0.01)
      values.forEach((v, i) => run.logMetric(i % 2 ? 'a b/c' : 'loss 2', v, { step: i + 1, timestamp: t++ }))
      run.logMetric('loss', 1, { step: -0, timestamp: -0 })
      run.flush()
      expect(journalFeedWork.fed - fed0).toBe(values.length + 1)
      const got = expectSame(dir)
      expect(got.ops).toEqual([{ op: 'param', key: 'lr', value: 0.01 }])
      const byKey = (k: string) => got.points.filter((p) => p.key === k).map((p) => p.value)
      expect(byKey('loss 2')).toEqual([NaN, -Infinity, 0, 12345678.123456789])
      expect(Object.is(byKey('a b/c')[1], -0)).toBe(true)
      const last = got.points.at(-1)!
      expect([Object.is(last.step, 0), Object.is(last.timestamp, 0)]).toEqual([true, true])
      // unchanged since the feed: the same object (the state's stat matches the file's)
      expect(readJournal(dir)).toBe(got.raw)
      // many writes, each fed; then a commit rotates the journal to a new segment, parsed once, and fed again after
      for (let k = 0; k < 50; k++) {
        for (let m = 0; m < 20; m++) run.logMetric('loss', k + m / 20, { step: 100 + k * 20 + m, timestamp: t++ })
        run.flush()
      }
      expect(journalFeedWork.fed - fed0).toBe(values.length + 1 + 1000)
      expect(expectSame(dir).points).toHaveLength(1 + values.length + 1 + 1000)
      await run.commit()
      // the old segment is removed after the new one is in place (in the thread pool): copied for the fresh parse once gone
      while (fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')).length > 1) await new Promise((r) => setTimeout(r, 5))
      expect(expectSame(dir).points).toHaveLength(0)
      run.logMetric('loss', 7, { step: 5000, timestamp: t++ })
      run.flush()
      expect(journalFeedWork.fed - fed0).toBe(values.length + 1 + 1001)
      const afterFeed = expectSame(dir)
      expect(afterFeed.points.map((p) => p.step)).toEqual([5000])
      // the fed state's first bytes are the file's (the segment began under HEAD_BYTES): a write the reader was not
      // handed is then parsed on from where the feed left off, into the same columns, not from the segment's start
      const segment = fs.readdirSync(dir).find((f) => f.endsWith('.jsonl'))!
      fs.appendFileSync(join(dir, segment), encodePoint('loss', 8, 5001, t++))
      const appended = expectSame(dir)
      expect(appended.points.map((p) => p.step)).toEqual([5000, 5001])
      expect(appended.raw.points.log).toBe(afterFeed.raw.points.log)
      await run.end('FINISHED')
      await book.close()
      fsck(repo)
      expect(repo.userState()).toEqual(user)
    } finally {
      repo.cleanup()
    }
  })
})

