// Format 2: run summaries on the branch, kept by the commit that writes the run; v1 → v2 migration; merges.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { encodeRun } from '../../src/format/yaml.js'
import { newRunId } from '../../src/model/ids.js'
import { RUN_FILE, runDir, runShard, SUMMARIES_FILE } from '../../src/model/layout.js'
import type { RunSummary } from '../../src/model/run.js'
import { RECENT_MAX } from '../../src/store/summaries.js'
import { pull, push } from '../../src/sync/remote.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { assertSummariesExact } from '../helpers/summaries.js'

const FIXTURE = new URL('../fixtures/format-v1/branch.bundle', import.meta.url).pathname
const cleanup: Array<() => void> = []
afterEach(() => { while (cleanup.length) cleanup.pop()!() })

const repo = (): TestRepo => {
  const r = gitRepo()
  cleanup.push(r.cleanup)
  return r
}

/** Run ids that all land in one shard. */
function idsInShard(shard: string, n: number): string[] {
  const out: string[] = []
  for (let t = 1_700_000_000_000; out.length < n; t++) {
    const id = newRunId(t)
    if (runShard(id) === shard) out.push(id)
  }
  return out
}

describe('run summaries on the branch (format 2)', () => {
  it('writes each run\'s summary line in the commit that writes the run, folding a full recent file into the sealed one', async () => {
    const r = repo()
    const before = r.userState()
    const book = await Labbook.open({ repo: r.dir })
    const exp = await book.experiment('e')
    expect(r.git('show', 'labbook:labbook.yaml')).toMatch(/^format: 2$/m)
    const ids = idsInShard('ab', RECENT_MAX + 6)
    for (const [i, id] of ids.entries()) {
      const run = await exp.startRun({ id, name: `r${i}`, params: { i, opt: 'adam' }, tags: { t: 'x' } })
      run.logMetric('loss', i === 3 ? NaN : 1 / (i + 1))
      await run.end(i % 5 ? 'FINISHED' : 'FAILED')
    }
    await book.renameRun(ids[0]!, 'renamed')
    await book.deleteRun(ids[1]!)
    await book.flush() // the last runs' group commit
    const files = r.git('ls-tree', '--name-only', 'labbook:runs/ab').split('\n')
    expect(files).toContain(SUMMARIES_FILE)
    expect(await assertSummariesExact(book)).toBe(ids.length)
    const listed = await (await Labbook.open({ repo: r.dir })).listRuns({ includeDeleted: true })
    expect(listed.find((x) => x.id === ids[0])!.name).toBe('renamed')
    expect(listed.find((x) => x.id === ids[1])!.lifecycle).toBe('deleted')
    expect(listed.find((x) => x.id === ids[3])!.metrics.loss!.value).toBeNaN()
    expect(r.userState()).toBe(before)
    expect(fsck(r)).toBe('')
  })

  it('migrates a real format-1 branch on its first write, and reads it before that', async () => {
    const dir = fs.mkdtempSync(join(os.tmpdir(), 'labbook-v1-'))
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }))
    execFileSync('git', ['clone', '-q', FIXTURE, dir])
    execFileSync('git', ['fetch', '-q', FIXTURE, 'refs/heads/labbook:refs/heads/labbook', 'refs/notes/labbook:refs/notes/labbook'], { cwd: dir })
    const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, encoding: 'utf8' })
    const status = git('status', '--porcelain=v2', '--branch')
    expect(git('show', 'labbook:labbook.yaml')).toMatch(/^format: 1$/m)
    const book = await Labbook.open({ repo: dir })
    const v1 = await book.listRuns({ includeDeleted: true })
    expect(v1).toHaveLength(7)
    expect(git('show', 'labbook:labbook.yaml')).toMatch(/^format: 1$/m) // reading writes nothing
    const run = await book.startRun({ name: 'after-upgrade', experiment: 'iris' })
    await run.end()
    await book.flush() // its group commit is the first write: it migrates
    expect(git('show', 'labbook:labbook.yaml')).toMatch(/^format: 2$/m)
    expect(git('log', '--format=%B', 'labbook')).toContain('migrate the branch to labbook format 2')
    expect(await assertSummariesExact(book)).toBe(8)
    const v2 = await (await Labbook.open({ repo: dir })).listRuns({ includeDeleted: true })
    expect(v2.filter((x) => x.id !== run.id)).toEqual(v1)
    expect(git('status', '--porcelain=v2', '--branch')).toBe(status)
    expect(execFileSync('git', ['fsck', '--strict', '--no-dangling'], { cwd: dir, encoding: 'utf8' })).toBe('')
  })

  it('a newer format is refused with FORMAT_TOO_NEW and a hint to upgrade (what format 1 readers say of format 2)', async () => {
    const r = repo()
    const book = await Labbook.open({ repo: r.dir })
    await book.init()
    const tree = execFileSync('git', ['mktree'], { cwd: r.dir, input: `100644 blob ${execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: r.dir, input: 'format: 3\n', encoding: 'utf8' }).trim()}\tlabbook.yaml\n`, encoding: 'utf8' }).trim()
    const commit = execFileSync('git', ['commit-tree', tree, '-m', 'from the future'], { cwd: r.dir, encoding: 'utf8' }).trim()
    r.git('update-ref', 'refs/heads/labbook', commit)
    const fresh = await Labbook.open({ repo: r.dir })
    await expect(fresh.listRuns()).rejects.toMatchObject({ code: 'FORMAT_TOO_NEW', message: 'The branch uses labbook format 3; this labbook reads format 2 and older.' })
    await expect(fresh.startRun()).rejects.toMatchObject({ code: 'FORMAT_TOO_NEW' })
  })

  it('a pull merging two branches with 1,000 new runs each keeps every summary exact', async () => {
    const origin = repo()
    const bare = fs.mkdtempSync(join(os.tmpdir(), 'labbook-remote-')) + '/r.git'
    cleanup.push(() => fs.rmSync(join(bare, '..'), { recursive: true, force: true }))
    execFileSync('git', ['clone', '-q', '--bare', origin.dir, bare])
    const clones = [0, 1].map((i) => {
      const dir = fs.mkdtempSync(join(os.tmpdir(), `labbook-clone${i}-`))
      cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }))
      execFileSync('git', ['clone', '-q', bare, dir])
      return dir
    })
    const [a, b] = await Promise.all(clones.map((dir) => Labbook.open({ repo: dir })))
    const shared = await a!.startRun({ name: 'shared', experiment: 'e' })
    await shared.end()
    await push(a!)
    await pull(b!)
    // 1,000 runs on each side, written through the store in batches (the commit keeps their summaries)
    for (const [side, book] of [a!, b!].entries()) {
      const exp = await book.experiment('e')
      for (let batch = 0; batch < 4; batch++) {
        const runs: RunSummary[] = Array.from({ length: 250 }, (_, i) => ({
          id: newRunId(1_700_000_000_000 + side * 1e6 + batch * 1000 + i), name: `s${side}-${batch}-${i}`, experiment: exp.id, status: 'FINISHED', lifecycle: 'active',
          startTime: 1_700_000_000_000 + i, endTime: 1_700_000_000_500 + i, source: {}, params: { side, i }, tags: {},
          metrics: { acc: { value: i / 250, step: 0, timestamp: 1, min: i / 250, max: i / 250, count: 1 } },
        }))
        await book.store.update(async () => ({
          changes: runs.map((run) => ({ path: `${runDir(run.id)}/${RUN_FILE}`, blob: book.objects.writeBlob(encodeRun(run)) })),
          subject: `bench ${batch}`, runs: side ? runs : undefined, result: undefined,
        }))
      }
    }
    await a!.renameRun(shared.id, 'renamed on a') // a run changed on one side only
    await push(a!)
    const pulled = await pull(b!)
    expect(pulled.branch).toBe('merged')
    expect(pulled.runsAdded).toBe(1000)
    expect(await assertSummariesExact(b!)).toBe(2001)
    const listed = await (await Labbook.open({ repo: clones[1]! })).listRuns() // cold: read ahead with cat-file --batch
    expect(listed).toHaveLength(2001)
    expect(listed.find((x) => x.id === shared.id)!.name).toBe((await b!.getRun(shared.id)).name) // whichever side the merge kept
  }, 240_000)
})
