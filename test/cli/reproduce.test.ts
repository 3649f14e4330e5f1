// `labbook reproduce`: a run recorded on a dirty tree is run again from its commit + diff in a temporary worktree.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { Labbook } from '../../src/index.js'
import { shellQuote, shellWords } from '../../src/cli-support/shell-words.js'
import { captureIO } from '../helpers/cli.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo

async function cli(argv: string[]) {
  const c = captureIO(repo.dir)
  const r = await main(argv, c.io)
  return { ...r, stdout: c.stdout(), stderr: c.stderr() }
}
const runIdFrom = (stderr: string) => /labbook: run (\w+) /.exec(stderr)![1]!
const TRAIN = 'SCALE=1\necho "epoch done"\necho "{\\"acc\\": $(( SCALE * 40 ))}" >> "$LABBOOK_METRICS"\n'

beforeAll(async () => {
  repo = gitRepo({ 'train.sh': TRAIN, 'README.md': 'hi\n' })
  expect((await cli(['init'])).exitCode).toBe(0)
})
afterAll(() => repo.cleanup())

describe('shell words', () => {
  it('reads back what labbook run records', () => {
    const argv = ['python3', 'train.py', '--name', "it's a b", '', 'x"y', '$HOME']
    expect(shellWords(argv.map(shellQuote).join(' '))).toEqual(argv)
    expect(shellWords('a "b c" d\\ e')).toEqual(['a', 'b c', 'd e'])
    expect(shellWords('a | b')).toBeUndefined()
    expect(shellWords("a 'b")).toBeUndefined()
  })
})

describe('labbook reproduce', () => {
  it('reruns a dirty-tree run from its commit and diff, never the user checkout, and says REPRODUCED', async () => {
    const commit = repo.git('rev-parse', 'HEAD').trim()
    writeFileSync(join(repo.dir, 'train.sh'), TRAIN.replace('SCALE=1', 'SCALE=2'))
    const first = await cli(['run', '-n', 'dirty', '-p', 'lr=1e-3', '--system-interval', '0', '--', 'sh', 'train.sh'])
    expect(first.exitCode, first.stderr).toBe(0)
    const id = runIdFrom(first.stderr)
    // The user moves on: commits something else and leaves the tree dirty in another way.
    writeFileSync(join(repo.dir, 'train.sh'), TRAIN.replace('SCALE=1', 'SCALE=5'))
    repo.git('commit', '-qam', 'scale 5')
    writeFileSync(join(repo.dir, 'README.md'), 'edited, not committed\n')
    const before = repo.userState()

    const r = await cli(['reproduce', 'dirty'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).toContain(`labbook: reproducing run ${id} (dirty) at ${commit.slice(0, 12)} with its uncommitted changes, in a temporary worktree`)
    expect(r.stdout).toMatch(/^REPRODUCED: run \w+ against \w+: 1 metric within 1%$/m)
    expect(r.stdout).toContain('acc')
    const again = runIdFrom(r.stderr.slice(r.stderr.indexOf('reproducing')))
    expect(again).not.toBe(id)

    const book = await Labbook.open({ repo: repo.dir })
    const run = await book.getRun(again)
    const diff = Buffer.from(await book.readArtifact(again, 'labbook/uncommitted.diff')).toString()
    await book.close()
    expect(run).toMatchObject({ name: 'dirty-repro', status: 'FINISHED', params: { lr: 0.001 }, tags: { 'labbook.reproduces': id } })
    expect(run.metrics.acc!.value).toBe(80) // SCALE=2 from the diff, not 1 (the commit) nor 5 (HEAD now)
    expect(run.source).toMatchObject({ commit, dirty: true, command: 'sh train.sh' })
    expect(diff).toContain('+SCALE=2')
    // The user's checkout, index, HEAD and branches are as they were; no worktree is left registered.
    expect(repo.userState()).toBe(before)
    expect(repo.git('worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1)
    fsck(repo)

    const json = await cli(['reproduce', id, '--json', '--system-interval', '0'])
    expect(JSON.parse(json.stdout)).toMatchObject({ original: id, verdict: { same: true, matched: ['acc'], differ: [] } })
  })

  it('refuses a run whose commit is missing, whose diff does not apply, or that labbook run did not record', async () => {
    const book = await Labbook.open({ repo: repo.dir })
    const exitTag = { 'labbook.exit_code': '0' }
    const lost = await book.startRun({ name: 'lost', tags: exitTag, source: { commit: 'a'.repeat(40), branch: 'gone', command: 'sh train.sh' } })
    await lost.end()
    const head = repo.git('rev-parse', 'HEAD').trim()
    const bad = await book.startRun({ name: 'bad-diff', tags: exitTag, source: { commit: head, dirty: true, command: 'sh train.sh' } })
    await bad.logBytes('labbook/uncommitted.diff', 'diff --git a/nope.txt b/nope.txt\n--- a/nope.txt\n+++ b/nope.txt\n@@ -1 +1 @@\n-x\n+y\n')
    await bad.end()
    const fromCode = await book.startRun({ name: 'from-code', source: { commit: head } })
    await fromCode.end()
    await book.close()
    const before = repo.userState()

    const r1 = await cli(['reproduce', 'lost'])
    expect(r1.exitCode).toBe(1)
    expect(r1.stderr).toMatch(/^COMMIT_MISSING: Run \w+ \(lost\) ran on commit aaaaaaaaaaaa, which is not in this clone\.\nhint: Fetch it \(it ran on branch gone\)/m)
    const r2 = await cli(['reproduce', 'bad-diff'])
    expect(r2.exitCode).toBe(1)
    expect(r2.stderr).toMatch(/^DIFF_NOT_APPLIED: Run \w+ \(bad-diff\)'s uncommitted changes do not apply/m)
    const r3 = await cli(['reproduce', 'from-code'])
    expect(r3.exitCode).toBe(1)
    expect(r3.stderr).toMatch(/^NOT_REPRODUCIBLE: .*was not recorded by `labbook run`/m)
    expect(repo.userState()).toBe(before)
    expect(repo.git('worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1)
  })
})
