// bestGroupOf (the report's way to find each side's best group without grouping every run) against the plain rule,
// bestGroup(groupRuns(runs)), on generated runs full of the cases that decide groups and winners: ties, NaN and ±inf,
// failed, running, killed and deleted runs, seeds, group tags, parents, text that spells a number, -0, two experiments
// and two commits, runs in any order. And groupsOf over one groupIndex of a list (the experiment table's way to group
// what each filter keystroke keeps) against groupRuns of that subset.
import { describe, expect, it } from 'vitest'
import { bestGroup, bestGroupOf, eligibleColumn, type Goal, type GroupOptions, type GroupScore, groupIndex, groupMembers, groupRuns, groupsAt, groupsOf, type JudgedRun, type RunGroup, scoreAt, scoreGroup } from '../../src/judge/index.js'

function rng(seed: number): () => number {
  return () => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff)
}
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!

/** `n` runs drawn from small pools (so that configurations repeat and values tie). */
function runs(seed: number, n: number, o: { configs: number; values: readonly number[] }): JudgedRun[] {
  const r = rng(seed)
  const lrs: unknown[] = [0.1, '0.1', '0.10', 0, -0, '0', '-0', Number.NaN, 'NaN', true, 'true', 1e21, '1e+21', 'x']
  const configs = Array.from({ length: o.configs }, () => ({ lr: pick(r, lrs), depth: Math.floor(r() * 3), opt: pick(r, ['adam', 'sgd']) }))
  const out: JudgedRun[] = []
  for (let i = 0; i < n; i++) {
    const c = pick(r, configs)
    const params: Record<string, unknown> = r() < 0.1 ? { depth: c.depth, lr: c.lr } : { ...c }
    if (r() < 0.7) params.seed = Math.floor(r() * 5)
    if (r() < 0.05) params.random_state = 1
    const tags: Record<string, string> = {}
    if (r() < 0.1) tags['labbook.group'] = pick(r, ['sweep-a', 'sweep-b', ''])
    const metrics: JudgedRun['metrics'] = {}
    if (r() < 0.9) metrics.acc = { value: pick(r, o.values) }
    if (r() < 0.5) metrics.loss = { value: pick(r, o.values) }
    out.push({
      id: `r${String(Math.floor(r() * 1e6)).padStart(6, '0')}-${i}`,
      status: pick(r, ['FINISHED', 'FINISHED', 'FINISHED', 'FINISHED', 'FINISHED', 'FAILED', 'RUNNING', 'KILLED'] as const),
      lifecycle: r() < 0.05 ? 'deleted' : 'active',
      startTime: 1000 + Math.floor(r() * n), // duplicates on purpose: the id breaks the tie
      params: params as JudgedRun['params'], tags, metrics,
      experiment: r() < 0.8 ? 'e1' : 'e2',
      ...(r() < 0.9 ? { source: { commit: r() < 0.7 ? 'c1' : 'c2' } } : {}),
    })
  }
  for (let i = 0; i < n / 20; i++) pick(r, out).parent = pick(r, out).id
  const order = r()
  if (order < 0.33) out.sort((a, b) => a.startTime - b.startTime || (a.id < b.id ? -1 : 1))
  else if (order < 0.66) out.sort((a, b) => b.startTime - a.startTime || (a.id < b.id ? 1 : -1))
  return out
}

/** What a GroupScore says, as plain data. */
function view(s: GroupScore | undefined) {
  if (!s) return undefined
  const g = s.group
  return { key: g.key, label: g.label, commit: g.commit, runs: g.runs.map((r) => r.id), stats: s.stats, values: s.values, excluded: s.excluded, best: s.best?.id }
}

describe('bestGroupOf', () => {
  const pools = {
    ties: [0.1, 0.2, 0.3, 0.3, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
    spread: Array.from({ length: 200 }, (_, i) => i / 7 - 10),
  }
  const options: Array<[string, GroupOptions]> = [
    ['default (split by code commit)', {}],
    ['split by a PR commit', { split: (r) => (r.id.endsWith('0') ? 'p1' : 'p2') }],
    ['no seed params', { seedParams: [] }],
    ['by (groups every run)', { by: (r) => String(r.params.depth) }],
  ]
  it('gives the same best group, statistics and best run as bestGroup(groupRuns(runs))', () => {
    let cases = 0
    for (let seed = 1; seed <= 16; seed++) {
      for (const [pool, values] of Object.entries(pools)) {
        const list = runs(seed, 20 + (seed % 5) * 40, { configs: seed % 2 ? 4 : 200, values })
        for (const [label, o] of options) {
          for (const key of ['acc', 'loss', 'missing']) {
            for (const goal of ['maximize', 'minimize'] as Goal[]) {
              expect(view(bestGroupOf(list, key, goal, o)), `seed ${seed} ${pool} ${label} ${key} ${goal}`).toEqual(view(bestGroup(groupRuns(list, o), key, goal)))
              cases++
            }
          }
        }
      }
    }
    expect(cases).toBe(16 * 2 * 4 * 3 * 2)
  })

  it('counts a group whose mean rounds above its best member (three 0.1 runs beat one 0.1 run)', () => {
    const at = (id: string, lr: number, t: number): JudgedRun => ({ id, status: 'FINISHED', lifecycle: 'active', startTime: t, params: { lr }, tags: {}, metrics: { acc: { value: 0.1 } }, experiment: 'e' })
    const list = [at('single', 1, 1), at('a', 2, 2), at('b', 2, 3), at('c', 2, 4)]
    expect((0.1 + 0.1 + 0.1) / 3).toBeGreaterThan(0.1)
    expect(view(bestGroupOf(list, 'acc', 'maximize'))).toEqual(view(bestGroup(groupRuns(list), 'acc', 'maximize')))
    expect(bestGroupOf(list, 'acc', 'maximize')?.group.runs.map((r) => r.id)).toEqual(['a', 'b', 'c'])
    expect(bestGroupOf(list, 'acc', 'minimize')?.group.runs.map((r) => r.id)).toEqual(['single'])
  })

  it('tells apart only the runs that could share the winner\'s group (one scan, not every run)', () => {
    const list = runs(7, 400, { configs: 400, values: pools.spread }).map((r) => ({ ...r, tags: {}, parent: undefined, status: 'FINISHED' as const, lifecycle: 'active' as const, params: { ...r.params, x: Number(r.id.slice(1, 7)) } }))
    let calls = 0
    const split = (r: JudgedRun) => { calls++; return r.source?.commit ?? '' }
    const fast = bestGroupOf(list, 'acc', 'maximize', { split })
    const fastCalls = calls
    calls = 0
    expect(view(fast)).toEqual(view(bestGroup(groupRuns(list, { split }), 'acc', 'maximize')))
    expect(calls).toBe(list.length)
    expect(fastCalls).toBeLessThan(list.length / 10)
  })
})

describe('groupsOf(groupIndex(list), mask)', () => {
  const group = (g: RunGroup) => ({ key: g.key, experiment: g.experiment, label: g.label, commit: g.commit, runs: g.runs.map((r) => r.id) })
  it('groups the runs of a subset as groupRuns(subset) does: parents with a child in the subset are summaries, others members', () => {
    let cases = 0
    for (let seed = 1; seed <= 12; seed++) {
      const list = runs(seed, 30 + (seed % 4) * 50, { configs: seed % 2 ? 4 : 60, values: [0.1, 0.2, Number.NaN] })
      // parents that are members of some subsets and summaries in others: chains and a run that is its own parent
      const r = rng(seed * 31)
      for (let i = 0; i < list.length / 6; i++) pick(r, list).parent = pick(r, list).id
      for (const [label, o] of [['default', {}], ['no seed params', { seedParams: [] }], ['by', { by: (x: JudgedRun) => String(x.params.depth) }], ['split', { split: (x: JudgedRun) => x.id.slice(-1) }]] as Array<[string, GroupOptions]>) {
        const ix = groupIndex(list, o)
        expect(groupsOf(ix).map(group), `${seed} ${label} all`).toEqual(groupRuns(list, o).map(group))
        for (let m = 0; m < 6; m++) {
          const mask = new Uint8Array(list.length)
          const p = [0.05, 0.3, 0.5, 0.9, 1, 0][m]!
          for (let i = 0; i < list.length; i++) mask[i] = r() < p ? 1 : 0
          const subset = list.filter((_, i) => mask[i] === 1)
          const groups = groupsOf(ix, mask)
          expect(groups.map(group), `${seed} ${label} mask ${p}`).toEqual(groupRuns(subset, o).map(group))
          // each group's members as positions, the same groups with runs gathered when read, and scoring from
          // columns by position as scoreGroup scores the group
          const mem = groupMembers(ix, mask)
          const positions = Array.from(mem.configs, (_, g) => [...mem.members.subarray(mem.from[g]!, mem.from[g + 1]!)])
          expect(positions.map((at) => at.map((i) => list[i]!.id))).toEqual(groups.map((g) => g.runs.map((x) => x.id)))
          expect(groupsAt(ix, mem).map(group)).toEqual(groups.map(group))
          for (const key of ['acc', 'loss', 'missing']) {
            const column = eligibleColumn(list, key)
            for (const goal of ['maximize', 'minimize'] as Goal[]) {
              groups.forEach((g, gi) => {
                const s = scoreGroup(g, key, goal), c = scoreAt(list, positions[gi]!, column, goal)
                expect({ stats: c.stats, best: c.best?.id, eligible: c.eligible }, `${seed} ${label} ${key} ${goal}`).toEqual({ stats: s.stats, best: s.best?.id, eligible: s.values.length })
              })
            }
          }
          cases++
        }
      }
    }
    expect(cases).toBe(12 * 4 * 6)
  })

  it('groups a list where no run is a parent (the index skips the summary rule) as groupRuns does', () => {
    const list = runs(5, 300, { configs: 20, values: [0.1, 0.2, Number.NaN] }).map((r) => ({ ...r, parent: undefined }))
    const ix = groupIndex(list)
    expect(ix.hasParents).toBe(false)
    const mask = Uint8Array.from(list, (_, i) => (i % 3 === 0 ? 1 : 0))
    expect(groupsOf(ix, mask).map(group)).toEqual(groupRuns(list.filter((_, i) => mask[i] === 1)).map(group))
    expect(groupIndex(runs(5, 300, { configs: 20, values: [0.1] })).hasParents).toBe(true)
  })
})
