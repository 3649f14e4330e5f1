// A name or description set while the run's commit is in flight is newer than that commit's snapshot: it must survive
// the commit's return and reach the branch with the next one (it was overwritten by the snapshot's value, and lost).
import { afterAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo
afterAll(() => repo?.cleanup())

describe('edits made while a commit is in flight', () => {
  it('keep the newer name and description, in the run and on the branch', async () => {
    repo = gitRepo()
    const before = repo.userState()
    const book = await Labbook.open({ repo: repo.dir })
    await book.init()
    for (let i = 0; i < 5; i++) {
      const run = await book.startRun({ name: 'first' })
      let done = false
      const inFlight = run.commit().then(() => { done = true })
      await new Promise((r) => setImmediate(r)) // the commit took its snapshot and is writing
      const overlapped = !done
      run.setName(`renamed-${i}`)
      run.setDescription(`a **note** ${i}`)
      await inFlight
      expect(run.summary()).toMatchObject({ name: `renamed-${i}`, description: `a **note** ${i}` })
      await run.end('KILLED')
      await book.flush()
      const reader = await Labbook.open({ repo: repo.dir })
      expect(await reader.getRun(run.id), `round ${i} (commit overlapped the edits: ${overlapped})`).toMatchObject({ name: `renamed-${i}`, description: `a **note** ${i}`, status: 'KILLED' })
      await reader.close()
    }
    await book.close()
    expect(fsck(repo)).not.toMatch(/error/i)
    expect(repo.userState()).toBe(before)
  })
})
