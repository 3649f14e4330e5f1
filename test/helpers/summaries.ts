import { execFileSync } from 'node:child_process'
import { expect } from 'vitest'
import { decodeRun } from '../../src/format/yaml.js'
import { RUN_FILE, runDir } from '../../src/model/layout.js'
import type { RunSummary } from '../../src/model/run.js'
import { readShard } from '../../src/store/summaries.js'
import type { Labbook } from '../../src/index.js'

/** Every run's line on the branch (sealed + recent) against its run.yaml: they must agree exactly. Returns the run count. */
export async function assertSummariesExact(book: Labbook, rev = book.branch): Promise<number> {
  const git = (args: string[], input?: string) => execFileSync('git', ['--git-dir', book.gitdir, ...args], { encoding: 'utf8', input, maxBuffer: 1 << 28 })
  const shards = git(['ls-tree', `${rev}:runs`]).trim().split('\n').filter(Boolean).map((l) => l.split(/\s+/))
  const runs: RunSummary[] = []
  for (const [, type, oid, name] of shards) {
    if (type !== 'tree') continue
    const shard = await readShard(book.objects, oid!, new Map())
    expect(shard.uncovered.map((e) => e.name), `shard ${name}`).toEqual([])
    runs.push(...shard.runs)
  }
  // all run.yaml files in one `git cat-file --batch`
  const out = git(['cat-file', '--batch'], runs.map((r) => `${rev}:${runDir(r.id)}/${RUN_FILE}`).join('\n') + '\n')
  let at = 0
  for (const r of runs) {
    const nl = out.indexOf('\n', at)
    const size = Number(out.slice(at, nl).split(' ')[2])
    const text = Buffer.from(out.slice(nl + 1)).subarray(0, size).toString('utf8')
    at = nl + 1 + text.length + 1
    expect(r, `run ${r.id}`).toEqual(decodeRun(text))
  }
  return runs.length
}
