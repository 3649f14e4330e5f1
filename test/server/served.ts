// One real `labbook serve` on loopback over a fresh temporary repository, shared by the server tests: opened in
// beforeAll, closed in afterAll. Closing checks that the user's worktree, index and HEAD are as they were; the repo's
// cleanup runs `git fsck --strict` and a push to a fsck'ing remote (helpers/git-repo).
import { afterAll, beforeAll, expect } from 'vitest'
import { Labbook } from '../../src/index.js'
import { serve, type RunningServer, type ServeOptions } from '../../src/server/index.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { api } from './client.js'

export interface ServedRepo {
  repo: TestRepo
  book: Labbook
  srv: RunningServer
  /** `call(method, endpoint, body)` against /api/2.0/mlflow/ (./client.ts). */
  call: ReturnType<typeof api>
  /** What the server logged (warnings, server errors), as `level: message`. */
  logs: string[]
}

/**
 * Registers the hooks and returns the fixture, filled once beforeAll has run.
 * @example const t = servedRepo({ maxJsonBytes: 2_000_000 }); it('…', async () => { await t.call('POST', 'runs/create', {…}) })
 */
export function servedRepo(o: Omit<ServeOptions, 'book' | 'port'> = {}): ServedRepo {
  const t = { logs: [] as string[] } as ServedRepo
  let before = ''
  beforeAll(async () => {
    t.repo = gitRepo()
    before = t.repo.userState()
    t.book = await Labbook.open({ repo: t.repo.dir })
    t.srv = await serve({ log: (level, message) => t.logs.push(`${level}: ${message}`), ...o, book: t.book, port: 0 })
    t.call = api(t.srv.url)
  })
  afterAll(async () => {
    await t.srv?.close()
    await t.book?.close()
    if (!t.repo) return
    expect(t.repo.userState()).toBe(before)
    t.repo.cleanup()
  })
  return t
}
