import { describe, expect, it } from 'vitest'
import {
  bestGroup, bestRun, groupRuns, ineligible, judgeDifference, judgeExperiment, metricGoal, nameGoal, primaryMetrics, scoreGroup,
  type JudgedRun,
} from '../../src/judge/index.js'
import { validateConfig } from '../../src/format/config.js'

let clock = 1_700_000_000_000
function run(id: string, o: Partial<JudgedRun> & { m?: Record<string, number> } = {}): JudgedRun {
  const metrics: JudgedRun['metrics'] = {}
  for (const [k, v] of Object.entries(o.m ?? {})) metrics[k] = { value: v, step: 0, timestamp: 0, min: v, max: v, count: 1 }
  return { id, status: 'FINISHED', lifecycle: 'active', startTime: clock++, metrics, params: {}, tags: {}, experiment: 'e1', ...o }
}

describe('goals', () => {
  it('has one name rule: the words that disagreed between the old copies all mean lower is better', () => {
    for (const k of ['loss', 'val_loss', 'Error rate', 'rmse', 'test/mae', 'mse', 'perplexity', 'p99_latency', 'epoch_time', 'val_wer', 'nll', 'fid', 'duration', 'trainLoss', 'eval/error_rate'])
      expect(nameGoal(k), k).toBe('minimize')
    for (const k of ['acc', 'accuracy', 'f1 score', 'bleu', 'auc', 'terrain_score', 'timestep_reward']) expect(nameGoal(k), k).toBe('maximize')
  })
  it('gives telemetry no goal', () => {
    expect(metricGoal('system/memory_mb')).toEqual({ source: 'telemetry' })
    expect(metricGoal('system/cpu_utilization_percentage').goal).toBeUndefined()
  })
  it('takes the config first (exact before patterns), then experiment tags, then the name', () => {
    const config = validateConfig({ metrics: { time_saved: 'max', 'reward*': { goal: 'minimize' }, reward_total: { goal: 'maximize', min_effect: 0.5 }, gpu_hours: { goal: 'none' } }, primary: 'reward_total' })
    expect(metricGoal('time_saved', { config })).toEqual({ goal: 'maximize', source: 'config' })
    expect(metricGoal('reward_mean', { config }).goal).toBe('minimize')
    expect(metricGoal('reward_total', { config })).toEqual({ goal: 'maximize', source: 'config', minEffect: 0.5 })
    expect(metricGoal('gpu_hours', { config }).goal).toBeUndefined()
    expect(metricGoal('score', { tags: { 'labbook.goal.score': 'min' } })).toEqual({ goal: 'minimize', source: 'tag' })
    expect(metricGoal('score', { tags: { 'labbook.primary_metric': 'score', 'labbook.goal': 'minimize' } }).goal).toBe('minimize')
    expect(metricGoal('other', { tags: { 'labbook.primary_metric': 'score', 'labbook.goal': 'minimize' } }).goal).toBe('maximize')
    expect(metricGoal('system/x', { tags: { 'labbook.primary_metric': 'system/x', 'labbook.goal': 'minimize' } }).goal).toBeUndefined()
    expect(metricGoal('loss', { config })).toEqual({ goal: 'minimize', source: 'name' })
  })
  it('rejects a malformed config with INVALID_VALUE', () => {
    expect(() => validateConfig({ metrics: { acc: 'up' } })).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    expect(() => validateConfig({ metrics: { acc: { goal: 'max', min_effect: -1 } } })).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    expect(() => validateConfig({ metrics: { acc: { goal: 'max', mineffect: 1 } } })).toThrow(/mineffect is not a setting labbook knows \(did you mean "min_effect"\?\)/)
    expect(() => validateConfig({ primary: [1] })).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    expect(validateConfig(null)).toEqual({})
    expect(validateConfig({ seed_params: 'trial', branch: 'x' })).toEqual({ seed_params: ['trial'], branch: 'x' })
  })
})

describe('primary metrics', () => {
  const runs = [run('a', { m: { loss: 1, val_acc: 0.5, 'system/memory_mb': 1 } }), run('b', { m: { val_acc: 0.6, 'system/memory_mb': 2, loss: 2 } })]
  it('is the most-logged judged metric, validation names first, never telemetry', () => {
    expect(primaryMetrics(runs)).toEqual(['val_acc'])
    expect(primaryMetrics([run('c', { m: { 'system/gpu': 1 } })])).toEqual([])
  })
  it('follows the config (metrics the runs logged), then the experiment tag', () => {
    expect(primaryMetrics(runs, { config: { primary: ['bleu', 'loss'] } })).toEqual(['loss'])
    expect(primaryMetrics(runs, { tags: { 'labbook.primary_metric': 'loss, val_acc' } })).toEqual(['loss', 'val_acc'])
    expect(primaryMetrics(runs, { config: { primary: ['system/memory_mb'] } })).toEqual(['val_acc'])
  })
})

describe('eligibility and best run', () => {
  it('never crowns a FAILED, KILLED, RUNNING or deleted run, nor a NaN or infinite value', () => {
    const runs = [
      run('failed', { status: 'FAILED', m: { acc: 0.99 } }), run('killed', { status: 'KILLED', m: { acc: 0.98 } }),
      run('running', { status: 'RUNNING', m: { acc: 0.97 } }), run('deleted', { lifecycle: 'deleted', m: { acc: 0.96 } }),
      run('nan', { m: { acc: NaN } }), run('inf', { m: { acc: Infinity } }), run('ok', { m: { acc: 0.5 } }), run('none'),
    ]
    expect(runs.map((r) => ineligible(r, 'acc'))).toEqual(['failed', 'killed', 'running', 'deleted', 'not-finite', 'not-finite', undefined, 'no-value'])
    expect(bestRun(runs, 'acc', 'maximize')?.id).toBe('ok')
  })
  it('has no best when every run failed', () => {
    expect(bestRun([run('x', { status: 'FAILED', m: { acc: 1 } }), run('y', { status: 'FAILED', m: { acc: 2 } })], 'acc', 'maximize')).toBeUndefined()
  })
  it('breaks ties by the earlier start, then the smaller id', () => {
    const a = run('zz', { m: { loss: 0.1 }, startTime: 5 }), b = run('aa', { m: { loss: 0.1 }, startTime: 9 }), c = run('bb', { m: { loss: 0.1 }, startTime: 5 })
    expect(bestRun([b, a], 'loss', 'minimize')?.id).toBe('zz')
    expect(bestRun([a, c, b], 'loss', 'minimize')?.id).toBe('bb')
  })
  it('crowns a single eligible run', () => {
    expect(bestRun([run('one', { m: { loss: 3 } })], 'loss', 'minimize')?.id).toBe('one')
  })
})

describe('groups', () => {
  const sweep = [
    ...[0, 1, 2].map((s) => run(`a${s}`, { params: { lr: 0.1, seed: s }, m: { acc: 0.8 + s / 100 } })),
    ...[0, 1, 2].map((s) => run(`b${s}`, { params: { lr: 0.2, random_state: s }, m: { acc: 0.7 + s / 100 } })),
    run('bf', { params: { lr: 0.2, random_state: 9 }, status: 'FAILED', m: { acc: 0.99 } }),
    run('other', { experiment: 'e2', params: { lr: 0.1, seed: 0 }, m: { acc: 0.95 } }),
    run('tagged', { params: { lr: 0.5 }, tags: { 'labbook.group': 'g1' }, m: { acc: 0.1 } }),
    run('tagged2', { params: { lr: 0.6 }, tags: { 'labbook.group': 'g1' }, m: { acc: 0.2 } }),
  ]
  it('groups repeats by params minus seed keys, never across experiments; the tag names a group', () => {
    const g = groupRuns(sweep)
    expect(g.map((x) => x.runs.map((r) => r.id))).toEqual([['a0', 'a1', 'a2'], ['b0', 'b1', 'b2', 'bf'], ['other'], ['tagged', 'tagged2']])
    expect(g[0]!.label).toEqual({ lr: '0.1' })
    expect(groupRuns(sweep, { seedParams: [] }).length).toBe(sweep.length - 1) // the tagged pair stays together
  })
  it('scores over eligible members only and picks the best mean', () => {
    const [a, b] = groupRuns(sweep)
    const sb = scoreGroup(b!, 'acc', 'maximize')
    expect(sb.stats).toMatchObject({ n: 3, min: 0.7, max: 0.72 })
    expect(sb.stats!.mean).toBeCloseTo(0.71, 12)
    expect(sb.excluded).toBe(1)
    expect(sb.best?.id).toBe('b2')
    expect(bestGroup(groupRuns(sweep.filter((r) => r.experiment === 'e1')), 'acc', 'maximize')?.group.key).toBe(a!.key)
  })
  it('splits a configuration by code commit: the same params on other code are not repeats', () => {
    const on = (id: string, commit: string | undefined, seed: number, acc: number) =>
      run(id, { params: { lr: 0.1, seed }, m: { acc }, ...(commit ? { source: { commit } } : {}) })
    const runs = [on('c1a', 'c1'.padEnd(40, '0'), 0, 0.8), on('c2a', 'c2'.padEnd(40, '0'), 0, 0.9), on('c1b', 'c1'.padEnd(40, '0'), 1, 0.82), on('none', undefined, 2, 0.5)]
    const g = groupRuns(runs)
    expect(g.map((x) => x.runs.map((r) => r.id))).toEqual([['c1a', 'c1b'], ['c2a'], ['none']])
    expect(g.map((x) => x.commit)).toEqual(['c1'.padEnd(40, '0'), 'c2'.padEnd(40, '0'), ''])
    expect(g[0]!.label).toEqual({ lr: '0.1' }) // the commit is not a param
    expect(new Set(g.map((x) => x.key)).size).toBe(3)
    // the best group is judged per commit: c2's single 0.9 beats c1's mean 0.81
    expect(bestGroup(g, 'acc', 'maximize')?.group.runs.map((r) => r.id)).toEqual(['c2a'])
    // a caller's own identity (`ls --group-by params.lr`) or split replaces the rule and its split
    expect(groupRuns(runs, { by: (r) => String(r.params.lr) }).map((x) => [x.runs.length, x.commit])).toEqual([[4, undefined]])
    expect(groupRuns(runs, { split: () => '' }).map((x) => x.runs.length)).toEqual([4])
  })
  it('reads params in sorted key order whatever order they were stored in', () => {
    const a = run('a', { params: { b: 2, a: 1, seed: 0 } }), b = run('b', { params: { a: 1, seed: 1, b: 2 } })
    const [g, ...rest] = groupRuns([a, b])
    expect(rest).toEqual([])
    expect(Object.keys(g!.label)).toEqual(['a', 'b'])
    // a number and its text are the same value (params imported from MLflow are text)
    expect(groupRuns([run('n', { params: { lr: 0.1 } }), run('t', { params: { lr: '0.1' } })]).length).toBe(1)
  })
  it('tells configurations apart by their values as text, without turning numbers into text', () => {
    // the text of a value decides, whichever comes first: String(v) === text
    const same: Array<[unknown, unknown]> = [[0.1, '0.1'], ['0.1', 0.1], [true, 'true'], ['false', false], [-0, '0'], [0, -0], ['0', -0], [Number.NaN, 'NaN'],
      [Number.NaN, Number.NaN], [Number.POSITIVE_INFINITY, 'Infinity'], [-1.5e-7, '-1.5e-7'], [1e21, '1e+21'], [12, '12']]
    const apart: Array<[unknown, unknown]> = [[1, '1.0'], [0.1, '0.10'], [1e21, '1e21'], [1, true], ['-0', 0], [1, '01'], [Number.NaN, 'nan'], [2, 3], ['a', 'b'], [0.1 + 0.2, 0.3]]
    for (const [expected, pairs] of [[1, same], [2, apart]] as const) {
      for (const [x, y] of pairs) {
        const g = groupRuns([run('x', { params: { lr: x as never, seed: 0 } }), run('y', { params: { lr: y as never, seed: 1 } })])
        expect(g.length, `${String(x)} (${typeof x}) vs ${String(y)} (${typeof y})`).toBe(expected)
        // key and label spell the first member's values as text
        expect(g[0]!.key).toBe(['e1', '', 'p', 'lr', String(x)].join('\u0000'))
        expect(g[0]!.label).toEqual({ lr: String(x) })
      }
    }
    // a group serialises as its plain fields
    const [g] = groupRuns([run('j', { params: { lr: 1, seed: 0 }, source: { commit: 'c'.repeat(40) } })])
    expect(JSON.parse(JSON.stringify(g))).toEqual({ key: ['e1', 'c'.repeat(40), 'p', 'lr', '1'].join('\u0000'), experiment: 'e1', label: { lr: '1' }, commit: 'c'.repeat(40), runs: [expect.objectContaining({ id: 'j' })] })
    expect(Object.keys(g!)).toEqual(['experiment', 'runs', 'commit'])
    // a param named like an Object.prototype key is an ordinary entry of the label
    const params = Object.assign(Object.create(null) as Record<string, number>, { constructor: 1, ['__proto__']: 2 })
    Object.defineProperty(params, '__proto__', { value: 2, enumerable: true })
    const [p] = groupRuns([run('proto', { params })])
    expect(Object.entries(p!.label)).toEqual([['__proto__', '2'], ['constructor', '1']])
    expect(p!.key).toBe(['e1', '', 'p', '__proto__', '2', 'constructor', '1'].join('\u0000'))
  })
  it('keeps apart configurations whose identities hash alike', () => {
    // {a: 9, b: 80} and {a: 11, b: 1} have the same 32-bit FNV-1a identity hash in groupRuns (found by brute force over
    // a, b < 1024 with the hash of src/judge/groups.ts); so do {a: 9, b: 1} and {a: 11, b: 80}
    const runs = [[9, 80], [11, 1], [9, 1], [11, 80], [11, 1], [9, 80], [9, 1]].map(([a, b], i) => run(`r${i}`, { params: { a: a!, b: b!, seed: i } }))
    expect(groupRuns(runs).map((g) => g.runs.map((r) => r.id))).toEqual([['r0', 'r5'], ['r1', 'r4'], ['r2', 'r6'], ['r3']])
    expect(groupRuns(runs).map((g) => g.label)).toEqual([{ a: '9', b: '80' }, { a: '11', b: '1' }, { a: '9', b: '1' }, { a: '11', b: '80' }])
  })
  it('keeps a parent out of its children’s group', () => {
    const p = run('p', { params: { lr: 1 } })
    const kids = [0, 1].map((s) => run(`k${s}`, { parent: 'p', params: { lr: 1, seed: s }, m: { acc: s } }))
    expect(groupRuns([p, ...kids]).map((g) => g.runs.map((r) => r.id))).toEqual([['k0', 'k1']])
  })
  it('judges an experiment in one call', () => {
    const j = judgeExperiment(sweep.filter((r) => r.experiment === 'e1'))
    expect(j.primary).toEqual([{ key: 'acc', goal: 'maximize', source: 'name' }])
    expect(j.best?.run.id).toBe('a2')
    expect(j.bestGroup?.group.label).toEqual({ lr: '0.1' })
  })
})

describe('verdicts', () => {
  const base = [0.80, 0.81, 0.79, 0.805, 0.795]
  it('is inconclusive within noise, better/worse when the interval excludes zero', () => {
    expect(judgeDifference(base, [0.802, 0.79, 0.812, 0.8, 0.798], 'maximize').verdict).toBe('inconclusive')
    expect(judgeDifference(base, [0.85, 0.86, 0.84, 0.855, 0.845], 'maximize').verdict).toBe('better')
    expect(judgeDifference(base, [0.85, 0.86, 0.84, 0.855, 0.845], 'minimize').verdict).toBe('worse')
  })
  it('needs min_effect for single runs, and honours it with repeats', () => {
    const single = judgeDifference([0.8], [0.9], 'maximize')
    expect(single.verdict).toBe('inconclusive')
    expect(single.reason).toMatch(/one run/)
    expect(judgeDifference([0.8], [0.9], 'maximize', 0.05).verdict).toBe('better')
    expect(judgeDifference([0.8], [0.82], 'maximize', 0.05).verdict).toBe('inconclusive')
    expect(judgeDifference(base, [0.85, 0.86, 0.84, 0.855, 0.845], 'maximize', 0.1).verdict).toBe('inconclusive')
  })
  it('says no-data when a side has no eligible value', () => {
    expect(judgeDifference([], [1], 'maximize').verdict).toBe('no-data')
    expect(judgeDifference([1, 2], undefined, 'maximize').verdict).toBe('no-data')
  })
  it('gives the difference, its interval and the relative change', () => {
    const v = judgeDifference([1, 1.1, 0.9], [2, 2.1, 1.9], 'minimize')
    expect(v.verdict).toBe('worse')
    expect(v.diff).toBeCloseTo(1, 12)
    expect(v.relative).toBeCloseTo(100, 10)
    // equal variances and sizes: Welch ν = 4, so the interval is 1 ± t(0.975, 4)·√(0.01/3·2) with t = 2.77644510520 (reference table)
    expect(v.ci![1] - v.diff!).toBeCloseTo(2.7764451052 * Math.sqrt((0.01 / 3) * 2), 9)
  })
})
