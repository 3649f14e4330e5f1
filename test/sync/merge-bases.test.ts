// sideBases (src/sync/merge-bases.ts) against C git itself: random commit graphs with criss-cross merges and
// unrelated roots, built with `git commit-tree` in a real repository.
import { execFileSync } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { sideBases } from '../../src/sync/merge-bases.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

const cleanup: TestRepo[] = []
afterEach(() => { while (cleanup.length) cleanup.pop()!.cleanup() })

/** A small deterministic PRNG (mulberry32), so a failure names its seed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('sideBases: the merge base of each side with the parents before it, from one walk', () => {
  it('agrees with `git merge-base SIDE P0 … Pk-1` on random graphs', async () => {
    const repo = gitRepo()
    cleanup.push(repo)
    const gitdir = `${repo.dir}/.git`
    let checked = 0
    for (const seed of [1, 2, 3]) {
      const rand = rng(seed)
      // 40 commits in one `git fast-import`: now and then a new root (unrelated histories), else 1–3 earlier parents
      // among the last 8 (merges, criss-crosses).
      const parentsOf: number[][] = []
      let stream = ''
      for (let i = 0; i < 40; i++) {
        const n = i === 0 || rand() < 0.05 ? 0 : 1 + Math.floor(rand() * Math.min(3, i))
        const ps = [...new Set(Array.from({ length: n }, () => i - 1 - Math.floor(rand() * Math.min(8, i))))]
        parentsOf.push(ps)
        stream += `commit refs/labbook/test/${seed}-${i}\nmark :${i + 1}\ncommitter T <t@x> ${1_700_000_000 + i} +0000\ndata 3\nc${i}\n`
        stream += ps.map((p, j) => `${j === 0 ? 'from' : 'merge'} :${p + 1}\n`).join('') + '\n'
      }
      execFileSync('git', ['fast-import', '--quiet', `--export-marks=${repo.dir}/.git/marks-${seed}`], { cwd: repo.dir, input: stream })
      const commits = repo.git('for-each-ref', '--format=%(refname) %(objectname)', `refs/labbook/test/`).split('\n').filter(Boolean)
        .map((l) => l.split(' ')).filter(([ref]) => ref!.startsWith(`refs/labbook/test/${seed}-`))
        .sort(([a], [b]) => Number(a!.split('-').pop()) - Number(b!.split('-').pop())).map(([, oid]) => oid!)
      const childless = commits.filter((_, i) => !parentsOf.some((ps) => ps.includes(i)))
      for (let trial = 0; trial < 5; trial++) {
        const pool = rand() < 0.5 ? childless : commits
        const pick = [...new Set(Array.from({ length: 2 + Math.floor(rand() * 5) }, () => pool[Math.floor(rand() * pool.length)]!))]
        const heads = new Set(repo.git('merge-base', '--independent', ...pick).split('\n').filter(Boolean))
        const parents = pick.filter((c) => heads.has(c))
        if (parents.length < 2) continue
        const ours = await sideBases(gitdir, parents)
        for (let k = 1; k < parents.length; k++) {
          let all: string[] = []
          try { all = repo.git('merge-base', '--all', parents[k]!, ...parents.slice(0, k)).split('\n').filter(Boolean) } catch { /* exit 1: none */ }
          if (all.length === 0) expect(ours[k - 1], `seed ${seed} side ${k}`).toBeNull()
          else expect(all, `seed ${seed} side ${k}`).toContain(ours[k - 1])
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThan(15)
  }, 60_000)
})
