// `labbook reproduce`: a run recorded on a dirty tree is run again from its commit + diff in a temporary worktree.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { verdict } from '../../cli/reproduce.js'
import { judgeReproduction } from '../../src/judge/index.js'
import type { RunSummary } from '../../src/model/run.js'
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
    // acc is the same value, so src/judge says the same (judgeReproduction: identical).
    expect(r.stdout).toMatch(/^REPRODUCED: run \w+ against \w+: 1 metric the same$/m)
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
    expect(JSON.parse(json.stdout)).toMatchObject({ original: id, verdict: { same: true, matched: ['acc'], differ: [], repeats: 1 } }) // the first reproduction is not a repeat of the original
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

describe('the reproduce verdict is src/judge\'s (judgeReproduction)', () => {
  const run = (id: string, metrics: Record<string, number>, o: { status?: RunSummary['status']; params?: Record<string, string | number> } = {}): RunSummary => ({
    id, name: id, experiment: '0', status: o.status ?? 'FINISHED', lifecycle: 'active', startTime: 1, params: o.params ?? {}, tags: {},
    metrics: Object.fromEntries(Object.entries(metrics).map(([k, value]) => [k, { value, step: 0, timestamp: 1 }])),
  } as unknown as RunSummary)

  it('identical values are the same; telemetry is never judged', () => {
    const v = verdict(run('a', { acc: 0.9, 'system/cpu': 10 }), run('b', { acc: 0.9, 'system/cpu': 80 }))
    expect(v).toMatchObject({ same: true, matched: ['acc'], differ: [], undecided: [] })
    expect(v.summary).toBe('REPRODUCED: run b against a: 1 metric the same')
  })

  it('one original run and no min_effect cannot tell a small change from noise (the old 1% rule said REPRODUCED)', () => {
    const v = verdict(run('a', { acc: 0.9 }), run('b', { acc: 0.905 }))
    expect(v.same).toBe(false)
    expect(v.undecided).toMatchObject([{ key: 'acc', original: 0.9, reproduced: 0.905 }])
    expect(v.summary).toMatch(/^INCONCLUSIVE: .*cannot tell: acc 0\.9 → 0\.905/)
  })

  it('min_effect decides single runs', () => {
    const judge = { config: { metrics: { val_loss: { goal: 'minimize' as const, min_effect: 0.01 } } } }
    expect(verdict(run('a', { val_loss: 0.5 }), run('b', { val_loss: 0.505 }), judge)).toMatchObject({ same: true, matched: ['val_loss'] })
    const worse = verdict(run('a', { val_loss: 0.5 }), run('b', { val_loss: 0.52 }), judge)
    expect(worse.differ).toMatchObject([{ key: 'val_loss', verdict: 'worse' }])
    expect(worse.summary).toMatch(/^DIFFERENT: .*val_loss 0\.5 → 0\.52 .* worse, differs by at least min_effect 0\.01/)
  })

  it('the repeats of the original set the noise: inside their 95% range of a new run is the same, outside differs', () => {
    const repeats = [run('r1', { acc: 0.80 }), run('r2', { acc: 0.82 }), run('r3', { acc: 0.81 }), run('r4', { acc: 0.99 }, { status: 'FAILED' })]
    const a = run('a', { acc: 0.81 })
    // sample 0.81, 0.80, 0.82, 0.81 (FAILED r4 not eligible): mean 0.81, s 0.00816; t(0.975, 3) = 3.182 → ±0.02905.
    expect(verdict(a, run('b', { acc: 0.835 }), {}, repeats)).toMatchObject({ same: true, repeats: 4 })
    expect(verdict(a, run('b', { acc: 0.845 }), {}, repeats).differ).toMatchObject([{ key: 'acc', verdict: 'better' }])
    expect(judgeReproduction([0.81, 0.80, 0.82, 0.81], 0.845, 'maximize')!.range![1]).toBeCloseTo(0.83905, 4)
  })

  it('a missing metric or another status is DIFFERENT', () => {
    expect(verdict(run('a', { acc: 0.9 }), run('b', {})).summary).toMatch(/^DIFFERENT: .*not logged again: acc/)
    expect(verdict(run('a', { acc: 0.9 }), run('b', { acc: 0.9 }, { status: 'FAILED' })).summary).toMatch(/^DIFFERENT: .*status FINISHED → FAILED/)
  })
})
