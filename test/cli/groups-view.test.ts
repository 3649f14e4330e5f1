// `ls --group-by`'s records (cli/groups-view.ts) on hand-made runs: eligibility edge cases of the one-pass summary.
import { describe, expect, it } from 'vitest'
import { groupRecords } from '../../cli/groups-view.js'
import type { RunSummary } from '../../src/model/run.js'

let n = 0
const run = (params: Record<string, number | string>, metrics: Record<string, number>, o: Partial<Pick<RunSummary, 'status' | 'lifecycle'>> = {}): RunSummary => ({
  id: `r${++n}`, name: `run-${n}`, experiment: '1', status: o.status ?? 'FINISHED', lifecycle: o.lifecycle ?? 'active', startTime: n, params, tags: {},
  metrics: Object.fromEntries(Object.entries(metrics).map(([k, value]) => [k, { value, min: value, max: value, step: 0, count: 1, timestamp: n }])),
} as unknown as RunSummary)

describe('groupRecords', () => {
  it('counts only FINISHED, active runs and finite values; single runs are their own statistics', () => {
    const runs = [
      run({ lr: 0.1, seed: 0 }, { acc: 0.8, loss: 0.5 }),
      run({ lr: 0.1, seed: 1 }, { acc: 0.9, loss: NaN }),
      run({ lr: 0.1, seed: 2 }, { acc: 0.99 }, { status: 'FAILED' }),
      run({ lr: 0.1, seed: 3 }, { acc: 0.95 }, { lifecycle: 'deleted' }),
      run({ lr: 0.2, seed: 0 }, { acc: 0.7, loss: Infinity }),
      run({ lr: 0.3, seed: 0 }, { acc: 0.99 }, { status: 'KILLED' }),
    ]
    const [a, b, c] = groupRecords(runs, 'config', new Map([['1', 'exp']]))
    expect(a).toMatchObject({ experiment: 'exp', key: { lr: '0.1' }, runs: ['r1', 'r2', 'r3', 'r4'], finished: 2, best: { id: 'r2', metric: 'acc', value: 0.9 } })
    expect(a!.metrics.acc).toMatchObject({ n: 2, min: 0.8, max: 0.9 })
    expect(a!.metrics.acc!.mean).toBeCloseTo(0.85, 12)
    expect(a!.metrics.acc!.std).toBeCloseTo(Math.SQRT1_2 * 0.1, 12)
    expect(a!.metrics.loss).toEqual({ n: 1, mean: 0.5, std: 0, min: 0.5, max: 0.5 }) // NaN left out
    expect(Object.keys(a!.metrics)).toEqual(['acc', 'loss'])
    expect(b).toMatchObject({ key: { lr: '0.2' }, finished: 1, metrics: { acc: { n: 1, mean: 0.7, std: 0, min: 0.7, max: 0.7 } } })
    expect(b!.metrics.loss).toBeUndefined() // Infinity is not a value
    expect(c).toMatchObject({ key: { lr: '0.3' }, finished: 0, metrics: {}, best: null })
    expect(a!.commit).toBeNull() // no code commit recorded
  })
  it('keeps the same config on two code commits apart and says which commit (config only)', () => {
    const on = (commit: string, seed: number, acc: number) => ({ ...run({ lr: 0.1, seed }, { acc }), source: { commit } } as RunSummary)
    const c1 = 'c1'.padEnd(40, '0'), c2 = 'c2'.padEnd(40, '0')
    const runs = [on(c1, 0, 0.8), on(c2, 0, 0.9), on(c1, 1, 0.82)]
    const records = groupRecords(runs, 'config', new Map())
    expect(records.map((r) => [r.commit, r.runs.length])).toEqual([[c1, 2], [c2, 1]])
    expect(groupRecords(runs, [{ kind: 'param', key: 'lr' }], new Map()).map((r) => [r.commit, r.runs.length])).toEqual([[undefined, 3]])
  })
})
