// The commit thread (src/track/commit-thread.ts): group commits made in a worker thread by the same runEdit, through
// its own store under the same ref lock. Real repository, real worker (from the sources: tsx's loader), real git.
import fs from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { CommitThread } from '../../src/track/commit-thread.js'
import { journalRoot } from '../../src/track/journal.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo
afterEach(() => repo?.cleanup())

describe('the commit thread', () => {
  it('commits 40 concurrent starts and 20 ends in a few group commits, user keys intact, journals dropped only after', async () => {
    repo = gitRepo()
    const before = repo.userState()
    const book = await Labbook.open({ repo: repo.dir, commitThread: true })
    expect(book.commitThread()).toBeDefined()
    const runs = await Promise.all(Array.from({ length: 40 }, (_, i) => book.startRun({
      // own keys named like Object.prototype's (a literal `__proto__:` would set the prototype instead)
      name: `r${i}`, params: { ...JSON.parse('{"__proto__":"p"}'), lr: i / 100, constructor: i }, tags: { toString: 't', team: i % 2 ? 'a' : 'b' },
    })))
    await Promise.all(runs.slice(0, 20).map((r, i) => { r.logMetric('loss', 1 / (i + 1), 0); return r.end() }))
    const tipBefore = await book.tip()
    await book.flush()
    expect(await book.tip()).toBe(tipBefore) // tip() flushed already
    const commits = Number(repo.git('rev-list', '--count', 'labbook').trim())
    expect(commits).toBeLessThan(20) // grouped: not a commit per start and end
    // every run is on the branch as written, read by another book (no thread, no journals of its own)
    const reader = await Labbook.open({ repo: repo.dir, recover: false })
    const listed = new Map((await reader.listRuns()).map((r) => [r.id, r]))
    for (const [i, r] of runs.entries()) {
      const got = listed.get(r.id)!
      expect(got.status, r.name).toBe(i < 20 ? 'FINISHED' : 'RUNNING')
      expect(Object.hasOwn(got.params, '__proto__') && got.params.__proto__).toBe('p')
      expect(got.params.constructor).toBe(i)
      expect(got.tags.toString).toBe('t')
      if (i < 20) expect(got.metrics.loss?.value).toBe(1 / (i + 1))
      // an ended run's journal goes once its end is on the branch; a running one's stays
      expect(fs.existsSync(join(journalRoot(join(repo.dir, '.git')), r.id)), r.name).toBe(i >= 20)
    }
    // the writer's state took the branch's answer (adoptWritten): later commits keep the user keys
    runs[25]!.setTag('after', 'x')
    await runs[25]!.end()
    await book.close()
    const again = await reader.getRun(runs[25]!.id)
    expect(again.tags.after).toBe('x')
    expect(again.params.constructor).toBe(25)
    await reader.close()
    expect(repo.userState()).toBe(before)
  }, 60_000)

  it('answers a refused commit with its error code (RUN_EXISTS), and the branch keeps the first run', async () => {
    repo = gitRepo()
    const book = await Labbook.open({ repo: repo.dir })
    const run = await book.startRun({ name: 'first' })
    await run.end()
    await book.close()
    const thread = new CommitThread({ gitdir: join(repo.dir, '.git'), branch: 'labbook' })
    const mine = await (await Labbook.open({ repo: repo.dir })).getRun(run.id)
    const input = { id: run.id, mine: { ...mine, name: 'second' }, chunks: [], staged: [], removed: [], points: 0, ownTags: [], lastWritten: { lifecycle: 'active' as const, name: '', description: undefined }, creating: true, committedPoints: 0 }
    await expect(thread.commit(input)).rejects.toMatchObject({ code: 'RUN_EXISTS' })
    // the same edit, not creating: committed by the thread, answered with the run as written
    const written = await thread.commit({ ...input, creating: false })
    expect(written.name).toBe('second')
    await thread.close()
    const reader = await Labbook.open({ repo: repo.dir })
    expect((await reader.getRun(run.id)).name).toBe('second')
    await reader.close()
  }, 60_000)
})
