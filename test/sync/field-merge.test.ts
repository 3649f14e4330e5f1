// Issue 10 item 6: a run edited in two clones keeps both edits after push/pull, field by field, for every pair of
// edits (docs/format.md, "Merging on pull").
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { pull, push } from '../../src/sync/remote.js'
import { assertPushable, gitRepo } from '../helpers/git-repo.js'

const EDITS = ['metric', 'tag', 'sameTag', 'rm', 'rename', 'describe', 'param', 'artifact'] as const
type EditKind = (typeof EDITS)[number]

const tmp: string[] = []
afterAll(() => { for (const d of tmp) fs.rmSync(d, { recursive: true, force: true }) })

function clone(bare: string, i: number): string {
  const dir = fs.mkdtempSync(join(os.tmpdir(), `labbook-fm${i}-`))
  tmp.push(dir)
  execFileSync('git', ['clone', '-q', bare, dir])
  execFileSync('git', ['config', 'user.name', `Clone ${i}`], { cwd: dir })
  execFileSync('git', ['config', 'user.email', `c${i}@example.com`], { cwd: dir })
  return dir
}

/** Adds to a finished run the way `labbook log --run` does: open, log, end with the same status and time. */
async function logTo(book: Labbook, id: string, fn: (run: Awaited<ReturnType<Labbook['openRun']>>) => void | Promise<void>) {
  const s = await book.getRun(id)
  const run = await book.openRun(id)
  await fn(run)
  await run.end(s.status, { endTime: s.endTime })
}

async function edit(book: Labbook, kind: EditKind, side: 'A' | 'B', id: string): Promise<void> {
  switch (kind) {
    case 'metric': return logTo(book, id, (r) => r.logMetric('x', side === 'A' ? 1 : 2, { step: side === 'A' ? 1 : 2, timestamp: side === 'A' ? 1000 : 2000 }))
    case 'tag': return logTo(book, id, (r) => r.setTag(`tag_${side}`, side))
    case 'sameTag': return logTo(book, id, (r) => r.setTag('same', side))
    case 'rm': return book.deleteRun(id)
    case 'rename': return book.renameRun(id, `name-${side}`)
    case 'describe': return book.setRunDescription(id, `described by ${side}`)
    case 'param': return logTo(book, id, (r) => r.logParam(`p_${side}`, side))
    case 'artifact': return logTo(book, id, (r) => r.logBytes(`${side}.txt`, side))
  }
}

/** What `kind` done on `side` must have left, given what the other side did (`other`): the later side is B. */
async function check(book: Labbook, kind: EditKind, side: 'A' | 'B', other: EditKind, id: string, where: string): Promise<void> {
  const r = await book.getRun(id)
  const both = kind === other
  switch (kind) {
    case 'metric': {
      const h = await book.metricHistory(id, 'x')
      expect(h.map((p) => p.step), where).toContain(side === 'A' ? 1 : 2)
      expect(r.metrics.x!.count, where).toBe(h.length)
      return
    }
    case 'tag': return void expect(r.tags[`tag_${side}`], where).toBe(side)
    case 'sameTag': return void expect(r.tags.same, where).toBe(both ? 'B' : side)
    case 'rm': return void expect(r.lifecycle, where).toBe('deleted')
    case 'rename': return void expect(r.name, where).toBe(both ? 'name-B' : `name-${side}`)
    case 'describe': return void expect(r.description, where).toBe(both ? 'described by B' : `described by ${side}`)
    case 'param': return void expect(r.params[`p_${side}`], where).toBe(side)
    case 'artifact': return void expect((await book.listArtifacts(id)).map((a) => a.path), where).toContain(`${side}.txt`)
  }
}

describe('field-by-field merge of a run changed in two clones', () => {
  it('keeps both edits for every pair of edits (64 runs, one push race)', async () => {
    const origin = gitRepo()
    const bare = join(fs.mkdtempSync(join(os.tmpdir(), 'labbook-fm-remote-')), 'remote.git')
    tmp.push(join(bare, '..'))
    execFileSync('git', ['clone', '-q', '--bare', origin.dir, bare])
    origin.cleanup()
    const a = clone(bare, 1), b = clone(bare, 2)
    const A = await Labbook.open({ repo: a }), B = await Labbook.open({ repo: b })
    const ids = new Map<string, string>()
    // edits queued together go into a few commits (group commit): the test stays fast
    await Promise.all(EDITS.flatMap((i) => EDITS.map(async (j) => {
      const run = await A.startRun({ name: `${i}-${j}`, params: { base: 1 }, tags: { same: 'base' } })
      run.logMetric('x', 0, { step: 0, timestamp: 500 })
      await run.end()
      ids.set(`${i}/${j}`, run.id)
    })))
    await push(A)
    expect((await pull(B)).branch).toBe('created')
    await Promise.all([...ids].map(([pair, id]) => edit(A, pair.split('/')[0] as EditKind, 'A', id)))
    await new Promise((r) => setTimeout(r, 1100)) // B's edits are the later ones (commit times have 1 s resolution)
    await Promise.all([...ids].map(([pair, id]) => edit(B, pair.split('/')[1] as EditKind, 'B', id)))
    await push(A)
    const pushed = await push(B)
    expect(pushed.pulls[0]?.branch).toBe('merged')
    expect(pushed.pulls[0]!.conflicts.filter((c) => /param/.test(c.reason))).toEqual([])
    expect((await pull(A)).branch).toBe('fast-forward')
    for (const [pair, id] of ids) {
      const [i, j] = pair.split('/') as [EditKind, EditKind]
      for (const book of [A, B]) {
        await check(book, i, 'A', j, id, `${pair} (A's edit)`)
        await check(book, j, 'B', i, id, `${pair} (B's edit)`)
        const h = await book.metricHistory(id, 'x')
        expect(h.filter((p) => p.step === 0), pair).toHaveLength(1) // the shared point is not doubled
      }
    }
    await A.close(); await B.close()
    assertPushable(a); assertPushable(b)
  }, 240_000)

  it('reports a param logged with different values in two clones: pull output and the run tag labbook.param_conflicts', async () => {
    const origin = gitRepo()
    const bare = join(fs.mkdtempSync(join(os.tmpdir(), 'labbook-fm-remote-')), 'remote.git')
    tmp.push(join(bare, '..'))
    execFileSync('git', ['clone', '-q', '--bare', origin.dir, bare])
    origin.cleanup()
    const a = clone(bare, 3), b = clone(bare, 4)
    const A = await Labbook.open({ repo: a }), B = await Labbook.open({ repo: b })
    const run = await A.startRun({ name: 'p' })
    await run.end()
    await push(A)
    await pull(B)
    await logTo(A, run.id, (r) => r.logParam('lr', 0.1))
    await logTo(B, run.id, (r) => r.logParam('lr', 0.2))
    await push(A)
    const pushed = await push(B)
    const conflicts = pushed.pulls[0]!.conflicts
    expect(conflicts.some((c) => /lr: 0.2 -> 0.1/.test(c.reason))).toBe(true)
    const merged = await B.getRun(run.id)
    expect(merged.params.lr).toBe(0.2)
    expect(merged.tags['labbook.param_conflicts']).toBe('lr: 0.2 -> 0.1')
    await A.close(); await B.close()
    assertPushable(a); assertPushable(b)
  }, 120_000)
})
