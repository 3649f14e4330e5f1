/**
 * Open runs and file descriptors: each open run's journal holds its segment open, and a server whose clients leave
 * runs open (MLflow's k6 benchmark: 23,525 runs in 30 s, none ended) hit EMFILE at the process limit. Beyond the open
 * limit the least recently used journals with nothing in flight close their descriptor and reopen it on their next
 * write (journal.ts `park`). Here the limit is 4 and 40 runs log in turns: the descriptors stay at the limit and not
 * a point is lost, on the branch, in the journals before the commit, and after a writer killed with runs parked.
 */
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { journalPoints, journalRoot, openJournalCount, readJournal, setOpenJournalLimit } from '../../src/track/journal.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

const CHILD = new URL('../helpers/child.ts', import.meta.url).pathname
const LIMIT = 4
let repo: TestRepo
let was = 0
beforeAll(() => { was = setOpenJournalLimit(LIMIT) })
afterAll(() => { setOpenJournalLimit(was) })
afterEach(() => repo?.cleanup())

/** This process's descriptors open on a journal segment. */
function journalFds(): number {
  let n = 0
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try { if (fs.readlinkSync(`/proc/self/fd/${fd}`).includes('/labbook/journal/')) n++ } catch { /* closed meanwhile */ }
  }
  return n
}

describe('journals beyond the open limit', () => {
  it('40 open runs logging in turns hold at most the limit of descriptors, and every point reaches the journal and the branch', { timeout: 60_000 }, async () => {
    repo = gitRepo()
    const user = repo.userState()
    const book = await Labbook.open({ repo: repo.dir })
    const runs = []
    for (let i = 0; i < 40; i++) runs.push(await book.startRun({ experiment: 'park', name: `r${i}` }))
    for (const r of runs) await r.durable()
    for (let round = 0; round < 3; round++) {
      for (const [i, r] of runs.entries()) {
        for (let k = 0; k < 5; k++) r.logMetric('loss', i + round / 10 + k / 100, { step: round * 5 + k, timestamp: 1_700_000_000_000 + k })
        r.flush()
        await r.durable() // written and fdatasynced: this journal may be parked when the next one opens
      }
      expect(openJournalCount()).toBeLessThanOrEqual(LIMIT)
      if (process.platform === 'linux') expect(journalFds()).toBeLessThanOrEqual(LIMIT + 1) // + a descriptor the pool may still be closing
    }
    // before any commit: each journal holds its 15 points (a parked journal reopened appends where it was)
    for (const r of runs) expect(journalPoints(readJournal(`${journalRoot(book.gitdir)}/${r.id}`).points).map((p) => p.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
    // a commit of every open run (as serve's interval commit) rotates parked journals too, then more points follow
    for (const r of runs) await r.commit()
    for (const r of runs) { r.logMetric('acc', 1, { step: 99 }); r.flush() }
    for (const r of runs) await r.end('FINISHED')
    await book.flush()
    for (const [i, r] of runs.entries()) {
      const h = await book.metricHistories(r.id)
      expect(h.loss!.map((p) => p.value)).toEqual([0, 1, 2].flatMap((round) => [0, 1, 2, 3, 4].map((k) => i + round / 10 + k / 100)))
      expect(h.acc!.map((p) => p.step)).toEqual([99])
    }
    expect(fs.existsSync(journalRoot(book.gitdir)) ? fs.readdirSync(journalRoot(book.gitdir)) : []).toEqual([])
    await book.close()
    expect(fsck(repo)).toBe('')
    expect(repo.userState()).toEqual(user)
  })

  it('a commit of an open run with nothing new since its last writes no commit; a point, a tag, an artifact or a rename does', { timeout: 60_000 }, async () => {
    repo = gitRepo()
    const book = await Labbook.open({ repo: repo.dir })
    const count = () => Number(execFileSync('git', ['-C', repo.dir, 'rev-list', '--count', 'labbook'], { encoding: 'utf8' }).trim())
    const run = await book.startRun({ experiment: 'idle', name: 'r' })
    await run.commit()
    const c0 = count()
    await run.commit()
    await run.commit()
    expect(count()).toBe(c0)
    const steps: Array<[string, () => void | Promise<void>]> = [
      ['point', () => run.logMetric('loss', 1, { step: 1 })],
      ['tag', () => run.setTag('t', 'v')],
      ['artifact', () => run.logText('hello', 'a.txt')],
      ['rename', () => run.setName('r2')],
    ]
    for (const [what, change] of steps) {
      const before = count()
      await change()
      await run.commit()
      expect(count(), what).toBe(before + 1)
      await run.commit()
      expect(count(), `${what}, then nothing new`).toBe(before + 1)
    }
    const seen = await (await book.at('labbook')).getRun(run.id) // the branch as committed
    expect([seen.name, seen.tags.t, seen.metrics.loss?.value, seen.status]).toEqual(['r2', 'v', 1, 'RUNNING'])
    await run.end('FINISHED')
    await book.close()
    expect(fsck(repo)).toBe('')
  })

  it('a writer killed while most of its runs are parked loses nothing it acknowledged: recovery commits every point', { timeout: 60_000 }, async () => {
    repo = gitRepo()
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, 'park-crash', repo.dir, String(LIMIT)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = '', err = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (err += d))
    await new Promise<void>((resolve, reject) => {
      p.stdout.on('data', () => out.includes('acked') && resolve())
      p.on('close', () => reject(new Error(`the child ended before acknowledging: ${err}`)))
    })
    p.kill('SIGKILL')
    await new Promise((r) => p.on('close', r))
    const ids = out.split('\n').filter((l) => l.startsWith('run ')).map((l) => l.slice(4))
    expect(ids).toHaveLength(12)
    const book = await Labbook.open({ repo: repo.dir })
    await book.recover()
    for (const id of ids) {
      const h = await book.metricHistory(id, 'loss')
      expect(h.map((x) => x.step)).toEqual([0, 1, 2, 3, 4, 5])
    }
    await book.close()
    expect(fsck(repo)).toBe('')
  })
})
