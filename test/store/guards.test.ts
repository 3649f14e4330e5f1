// Issue 10 items 5 and 10: labbook never writes into a repository whose objects it cannot hash, and never moves a
// branch some worktree has checked out.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { Labbook } from '../../src/index.js'
import { captureIO } from '../helpers/cli.js'
import { assertPushable, gitRepo, type TestRepo } from '../helpers/git-repo.js'

const dirs: string[] = []
let repo: TestRepo | undefined
afterEach(() => {
  repo?.cleanup()
  repo = undefined
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

describe('SHA-256 repositories', () => {
  it('are refused with UNSUPPORTED_OBJECT_FORMAT and a hint, before any object is written', async () => {
    const dir = fs.mkdtempSync(join(os.tmpdir(), 'labbook-sha256-'))
    dirs.push(dir)
    const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, encoding: 'utf8' })
    git('init', '-q', '--object-format=sha256', '-b', 'main')
    git('-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-q', '--allow-empty', '-m', 'i')
    const loose = () => git('count-objects').trim()
    const before = loose()
    await expect(Labbook.open({ repo: dir }).then((b) => b.init())).rejects.toMatchObject({ code: 'UNSUPPORTED_OBJECT_FORMAT', hint: expect.stringContaining('sha1') })
    const c = captureIO(dir)
    const r = await main(['init'], c.io)
    expect(r.exitCode).toBe(1)
    expect(c.stderr()).toMatch(/UNSUPPORTED_OBJECT_FORMAT: .*SHA256/)
    expect(c.stderr()).toMatch(/hint: /)
    const c2 = captureIO(dir)
    expect((await main(['run', '--', 'true'], c2.io)).exitCode).not.toBe(0)
    expect(c2.stderr()).toMatch(/UNSUPPORTED_OBJECT_FORMAT/)
    expect(loose()).toBe(before)
    expect(git('for-each-ref', '--format=%(refname)').trim()).toBe('refs/heads/main')
    assertPushable(dir)
  })
})

describe('a labbook branch checked out in a worktree', () => {
  it('is never moved (BRANCH_CHECKED_OUT with a hint); a detached worktree, as docs/format.md says, is fine', async () => {
    repo = gitRepo()
    const book = await Labbook.open({ repo: repo.dir })
    await book.init()
    await (await book.startRun({ name: 'first' })).end()
    await book.flush() // its group commit
    const wt = join(repo.dir, '..', `lb-wt-${process.pid}`)
    dirs.push(wt)
    repo.git('worktree', 'add', '-q', wt, 'labbook')
    const tip = repo.git('rev-parse', 'labbook').trim()
    await expect(book.startRun({ name: 'second' })).rejects.toMatchObject({ code: 'BRANCH_CHECKED_OUT', hint: expect.stringContaining('--detach') })
    expect(repo.git('rev-parse', 'labbook').trim()).toBe(tip)
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: wt, encoding: 'utf8' })).toBe('')
    // the documented way: a detached worktree
    repo.git('worktree', 'remove', '--force', wt)
    repo.git('worktree', 'add', '-q', '--detach', wt, 'labbook')
    await (await book.startRun({ name: 'second' })).end()
    await book.flush()
    expect(repo.git('rev-parse', 'labbook').trim()).not.toBe(tip)
    await book.close()
    repo.git('worktree', 'remove', '--force', wt)
  })

  it('is never moved while a rebase or bisect of it is in progress in the main worktree', async () => {
    repo = gitRepo()
    const book = await Labbook.open({ repo: repo.dir })
    await (await book.startRun({ name: 'first' })).end()
    await book.flush()
    const gitdir = join(repo.dir, '.git')
    const tip = repo.git('rev-parse', 'labbook').trim()
    // what git leaves while it rebases or bisects a branch (HEAD detached meanwhile)
    for (const [file, text] of [['rebase-merge/head-name', 'refs/heads/labbook\n'], ['rebase-apply/head-name', 'refs/heads/labbook\n'], ['BISECT_START', 'labbook\n']] as const) {
      fs.mkdirSync(join(gitdir, file, '..'), { recursive: true })
      fs.writeFileSync(join(gitdir, file), text)
      await expect(book.startRun({ name: 'refused' }), file).rejects.toMatchObject({ code: 'BRANCH_CHECKED_OUT' })
      expect(repo.git('rev-parse', 'labbook').trim()).toBe(tip)
      fs.rmSync(join(gitdir, file))
    }
    fs.rmSync(join(gitdir, 'rebase-merge'), { recursive: true })
    fs.rmSync(join(gitdir, 'rebase-apply'), { recursive: true })
    await (await book.startRun({ name: 'second' })).end()
    await book.close()
    expect(repo.git('rev-parse', 'labbook').trim()).not.toBe(tip)
  })
})
