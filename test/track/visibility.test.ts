// Read-after-write: a run whose end() returned is visible at once, ended, to every reader (this book, another
// Labbook, another process's `ls`), whether its group commit has landed, is landing, or has not started.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { journalRoot } from '../../src/track/journal.js'
import { collect } from '../helpers/cli.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

const ROOT = new URL('../..', import.meta.url).pathname
const CLI = new URL('../../cli/main.ts', import.meta.url).pathname
let repo: TestRepo
afterEach(() => repo?.cleanup())

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('a run end() acknowledged is visible at once', () => {
  it('to a listRuns() during which its group commit lands (one revision of the branch per listing)', async () => {
    repo = gitRepo()
    // the writer commits only when told: each listing below races exactly one commit
    const book = await Labbook.open({ repo: repo.dir, commitDelay: 60_000 })
    await book.init()
    const reader = await Labbook.open({ repo: repo.dir })
    const ids: string[] = []
    for (let i = 0; i < 15; i++) {
      const run = await book.startRun({ name: `r${i}` })
      await run.end()
      ids.push(run.id)
      // the listing reads the journals, then the branch; the commit (and the journal's removal) lands in between
      const listing = reader.listRuns()
      await book.flush()
      const listed = await listing
      expect(listed.map((r) => r.id).sort(), `iteration ${i}`).toEqual([...ids].sort())
      expect(listed.find((r) => r.id === run.id)?.status).toBe('FINISHED')
    }
    await book.close()
    await reader.close()
  }, 60_000)

  it('with end() called while the start\'s commit is in flight: FINISHED, its journal kept until the end is on the branch', async () => {
    repo = gitRepo()
    const book = await Labbook.open({ repo: repo.dir, commitDelay: 60_000 })
    await book.init()
    const reader = await Labbook.open({ repo: repo.dir })
    for (let i = 0; i < 5; i++) {
      const run = await book.startRun({ name: `r${i}` })
      const startCommit = book.flush() // its snapshot of the run (RUNNING) is taken now
      await new Promise((r) => setImmediate(r))
      await run.end()
      await startCommit // landed, without the end
      const journal = join(journalRoot(join(repo.dir, '.git')), run.id)
      // the end is only in the journal until its own commit: the journal must still be there
      expect(fs.existsSync(journal), `iteration ${i}: journal kept`).toBe(true)
      for (const b of [book, reader]) {
        expect((await b.listRuns()).find((r) => r.id === run.id)?.status, `iteration ${i}`).toBe('FINISHED')
        expect((await b.getRun(run.id)).status).toBe('FINISHED')
      }
      await book.flush()
      expect(fs.existsSync(journal)).toBe(false)
      expect((await reader.getRun(run.id)).status).toBe('FINISHED')
    }
    await book.close()
    await reader.close()
  }, 60_000)

  it('under start/end/read loops with the default 20 ms group commit, and to another process\'s `labbook ls`', async () => {
    repo = gitRepo()
    const book = await Labbook.open({ repo: repo.dir })
    await book.init()
    const reader = await Labbook.open({ repo: repo.dir })
    const ids = new Set<string>()
    for (let i = 0; i < 30; i++) {
      const run = await book.startRun({ name: `r${i}` })
      if (i % 3 === 1) await pause((i * 7) % 25) // the start's commit in flight (or landed) when end() is called
      await run.end()
      ids.add(run.id)
      for (const b of [book, reader]) {
        const listed = await b.listRuns()
        expect(listed.length, `iteration ${i}`).toBe(ids.size)
        expect(listed.find((r) => r.id === run.id)?.status, `iteration ${i}`).toBe('FINISHED')
        expect((await b.getRun(run.id)).status).toBe('FINISHED')
        expect((await b.queryRuns({ filter: `attributes.run_name = 'r${i}'` })).map((r) => r.status)).toEqual(['FINISHED'])
      }
    }
    // another process, while the last end's commit is pending
    const pending = await Labbook.open({ repo: repo.dir, commitDelay: 60_000 })
    const last = await pending.startRun({ name: 'pending' })
    await last.end()
    const ls = await collect(spawn(process.execPath, ['--import', 'tsx', CLI, '--repo', repo.dir, 'ls', '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }))
    expect(ls.stderr).toBe('')
    const listed = JSON.parse(ls.stdout) as Array<{ id: string; status: string }>
    expect(listed.length).toBe(ids.size + 1)
    expect(listed.find((r) => r.id === last.id)?.status).toBe('FINISHED')
    await pending.close()
    await book.close()
    await reader.close()
  }, 120_000)
})
