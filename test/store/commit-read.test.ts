import fs from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ObjectStore } from '../../src/store/objects.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo | undefined
afterEach(() => repo?.cleanup())

describe('ObjectStore.readCommit', () => {
  it('parses a packed commit as git does, and reads it through git once (commits never change under their id)', async () => {
    repo = gitRepo()
    repo.git('commit', '-q', '--allow-empty', '-m', 'second\n\nbody line')
    repo.git('gc', '-q') // packed: the read goes through cat-file
    const before = repo.userState()
    const gitdir = join(repo.dir, '.git')
    const head = repo.git('rev-parse', 'HEAD').trim()
    const parent = repo.git('rev-parse', 'HEAD~1').trim()
    const objects = new ObjectStore(gitdir)
    const c = await objects.readCommit(head)
    expect(c.tree).toBe(repo.git('rev-parse', 'HEAD^{tree}').trim())
    expect(c.parents).toEqual([parent])
    expect(c.message).toBe('second\n\nbody line\n')
    expect(c.time).toBe(Number(repo.git('log', '-1', '--format=%ct', 'HEAD').trim()) * 1000)
    c.parents.push('not a parent') // a caller's copy: the next read is unchanged
    // git's reader ended and the packs moved away: a commit read before is still answered (from memory), any other
    // read starts a new cat-file that finds nothing
    ;(objects as unknown as { packed?: { close(): void } }).packed?.close()
    const pack = join(gitdir, 'objects', 'pack')
    const aside = join(repo.dir, 'packs-aside')
    fs.renameSync(pack, aside)
    fs.mkdirSync(pack)
    try {
      const again = await objects.readCommit(head)
      expect(again).toEqual({ ...c, parents: [parent] })
      await expect(objects.readCommit(again.parents[0]!)).rejects.toThrow()
    } finally {
      fs.rmSync(pack, { recursive: true, force: true })
      fs.renameSync(aside, pack)
    }
    expect(fsck(repo)).toBe('')
    expect(repo.userState()).toBe(before) // read only
  })
})
