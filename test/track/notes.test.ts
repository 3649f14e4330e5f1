import { afterEach, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { decodeNote, encodeNote, mergeNotes, noteRun } from '../../src/track/notes.js'
import type { RunSummary } from '../../src/model/run.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo | undefined
afterEach(() => {
  repo?.cleanup()
  repo = undefined
})

const COMMIT = '1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d'
const run = (id: string, status: RunSummary['status'], acc?: number, experiment = '7'): RunSummary => ({
  id, name: `n-${id}`, experiment, status, lifecycle: 'active', startTime: 1, source: { commit: COMMIT }, params: {}, tags: {},
  metrics: acc === undefined ? {} : { accuracy: { value: acc, step: 0, timestamp: 1, min: acc, max: acc, count: 1 } },
})

describe('bounded git notes', () => {
  it('round-trips through its own text, names with quotes included', () => {
    const s = decodeNote(undefined)
    noteRun(s, run('a', 'FINISHED', 0.5), { name: 'say "hi" · there', tags: {} })
    noteRun(s, run('b', 'FAILED'), { name: 'say "hi" · there', tags: {} })
    const text = encodeNote(s, COMMIT)
    expect(encodeNote(decodeNote(text), COMMIT)).toBe(text)
    expect(text.split('\n')[0]).toBe('labbook: 2 runs on this commit · FINISHED 1 · FAILED 1 · list them: labbook ls --commit 1a2b3c4d5e6f')
  })

  it('counts a reopened run once, and follows a tagged primary metric and goal', () => {
    const s = decodeNote(undefined)
    const exp = { name: 'e', tags: { 'labbook.primary_metric': 'accuracy', 'labbook.goal': 'min' } }
    noteRun(s, run('a', 'FINISHED', 0.5), exp)
    noteRun(s, run('b', 'FINISHED', 0.2), exp)
    noteRun(s, run('a', 'FAILED', 0.1), exp, 'FINISHED') // reopened and ended again: moves from FINISHED to FAILED
    const e = decodeNote(encodeNote(s, COMMIT)).get('7')!
    expect(e.counts).toEqual({ FINISHED: 1, FAILED: 1 })
    expect(e.best).toMatchObject({ key: 'accuracy', goal: 'min', value: 0.2, run: 'b' })
  })

  it('merges three-way: ours + theirs - base, the better best wins; old one-line-per-run notes are counted', () => {
    const base = decodeNote(undefined)
    noteRun(base, run('a', 'FINISHED', 0.5), { name: 'e', tags: {} })
    const ours = decodeNote(encodeNote(base, COMMIT)), theirs = decodeNote(encodeNote(base, COMMIT))
    noteRun(ours, run('b', 'FINISHED', 0.6), { name: 'e', tags: {} })
    noteRun(theirs, run('c', 'FINISHED', 0.9), { name: 'e', tags: {} })
    noteRun(theirs, run('d', 'KILLED', undefined, '8'), { name: 'f', tags: {} })
    const merged = mergeNotes(encodeNote(base, COMMIT), encodeNote(ours, COMMIT), encodeNote(theirs, COMMIT))
    expect(merged.get('7')!.counts).toEqual({ FINISHED: 3 })
    expect(merged.get('7')!.best!.run).toBe('c')
    expect(merged.get('8')!.counts).toEqual({ KILLED: 1 })
    const legacy = 'labbook: old run FINISHED accuracy=0.9 [01abc]\nlabbook: other FAILED [01abd]\n'
    expect(decodeNote(legacy).get('?')!.counts).toEqual({ FINISHED: 1, FAILED: 1 })
  })

  it('counts runs ended together in one notes commit, each commit\'s note written once', async () => {
    repo = gitRepo()
    const first = repo.git('rev-parse', 'HEAD').trim()
    repo.git('commit', '-q', '--allow-empty', '-m', 'second')
    const second = repo.git('rev-parse', 'HEAD').trim()
    const book = await Labbook.open({ repo: repo.dir, commitDelay: 500 }) // a window the 12 ends fall in on a loaded machine (at 50 ms, 1 run in 5 split in three at load 2)
    const exp = await book.experiment('sweep')
    const notesBefore = () => repo!.git('rev-list', '--count', 'refs/notes/labbook').trim()
    const started = await Promise.all(Array.from({ length: 12 }, (_, i) => exp.startRun({ name: `r${i}`, source: { commit: i % 3 ? first : second } })))
    await Promise.all(started.map((r, i) => { r.logMetric('accuracy', i / 10); return r.end(i === 5 ? 'FAILED' : 'FINISHED') }))
    await book.flush()
    await book.close()
    // 12 runs ended within one commit delay: their notes go out together (the group commit may split them in two)
    expect(Number(notesBefore())).toBeLessThanOrEqual(2)
    const note = (c: string) => repo!.git('notes', '--ref=labbook', 'show', c).trim().split('\n')
    expect(note(first)[0]).toBe(`labbook: 8 runs on this commit · FINISHED 7 · FAILED 1 · list them: labbook ls --commit ${first.slice(0, 12)}`)
    expect(note(second)[0]).toBe(`labbook: 4 runs on this commit · FINISHED 4 · list them: labbook ls --commit ${second.slice(0, 12)}`)
    expect(note(first)[1]).toContain('best "accuracy" max 1.1 by "r11"')
    // and no note blob per run on the side: every note written is reachable (a notes edit per run wrote 12)
    expect(repo.git('fsck', '--unreachable', '--no-reflogs', '--no-progress').split('\n').filter((l) => l.includes(' blob '))).toEqual([])
  })
})

