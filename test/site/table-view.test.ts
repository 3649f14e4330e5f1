/** The runs table's view model (columns, address, groups, parent summaries), the group band rows and change detection along commits. */
import { describe, expect, it } from 'vitest'
import { commitSteps, describe as stats, judgeDifference, metricGoal, type JudgedRun } from '../../src/judge/index.js'
import { groupBandRows, bandChartSpec, readBand, writeBand } from '../../src/site/browser/charts/band.js'
import type { Series } from '../../src/site/browser/charts/series.js'
import type { TableRun } from '../../src/site/browser/snapshot.js'
import { keyColumns } from '../../src/site/browser/table.js'
import {
  defaultColumns, layoutColumns, orderColumns, readTableState, sortGroups, tableGroups, withChildSummaries, writeTableState, type TableState,
} from '../../src/site/browser/table-view.js'

let clock = 1_700_000_000_000
function run(id: string, o: Partial<TableRun> & { m?: Record<string, number> } = {}): TableRun {
  const metrics: TableRun['metrics'] = {}
  for (const [k, v] of Object.entries(o.m ?? {})) metrics[k] = { value: v, step: 0, timestamp: 0, min: v, max: v, count: 1 }
  return { id, name: id, status: 'FINISHED', lifecycle: 'active', startTime: clock++, metrics, params: {}, tags: {}, experiment: 'e1', source: {}, ...o } as TableRun
}
const goalOf = (k: string) => metricGoal(k).goal

describe('columns', () => {
  const runs = [run('a', { m: { acc: 1, 'system/memory_mb': 5, loss: 1, zeta: 2 }, params: { lr: 0.1, seed: 1 } })]
  it('puts the primary metrics right after name and status, telemetry last and hidden', () => {
    const ordered = orderColumns(keyColumns(runs), ['zeta'])
    expect(ordered.map((c) => c.id)).toEqual(['metric:zeta', 'metric:acc', 'metric:loss', 'param:lr', 'param:seed', 'metric:system/memory_mb'])
    const visible = defaultColumns(ordered, ['zeta'])
    expect(visible).not.toContain('metric:system/memory_mb')
    expect(layoutColumns(ordered, visible).map((c) => c.id).slice(0, 4)).toEqual(['attr:name', 'attr:status', 'metric:zeta', 'metric:acc'])
    // Chosen by hand, telemetry shows (in its place, last among the keys).
    expect(layoutColumns(ordered, [...visible, 'metric:system/memory_mb']).map((c) => c.id)).toContain('metric:system/memory_mb')
  })
})

describe('the address', () => {
  it('round-trips filter, sort, columns, group and open groups, and leaves defaults and other parameters out', () => {
    const s: TableState = { filter: "params.model = 'a,b' and metrics.acc > 0.5", sort: { col: 'metric:val/acc,top1', desc: true }, cols: ['metric:val/acc,top1', 'param:lr'], group: 'param:lr', open: ['0a1b2c3d', 'run-1'] }
    const u = writeTableState(new URL('https://x.test/e/1/?keep=1'), s)
    expect(u.searchParams.get('keep')).toBe('1')
    expect(readTableState(u.search)).toEqual(s)
    const plain = writeTableState(new URL('https://x.test/e/1/'), { filter: '', sort: { col: 'attr:start', desc: true }, cols: null, group: '', open: [] })
    expect(plain.search).toBe('')
    // No column chosen is different from "the default set".
    expect(readTableState(writeTableState(new URL('https://x.test/'), { ...s, cols: [] }).search).cols).toEqual([])
    expect(readTableState('?group=<script>&sort=bogus').group).toBe('')
    expect(readTableState('?sort=bogus').sort).toEqual({ col: 'attr:start', desc: true })
  })
  it('keeps the group charts’ band (95% CI or min–max) beside the table’s view', () => {
    const u = writeBand(writeTableState(new URL('https://x.test/e/1/'), { filter: '', sort: { col: 'metric:acc', desc: true }, cols: null, group: 'config', open: [] }), 'minmax')
    expect(u.search).toBe('?sort=-metric%3Aacc&group=config&band=minmax')
    expect(readBand(u.search)).toBe('minmax')
    expect(readTableState(u.search).group).toBe('config') // the table ignores it, and keeps it when it writes
    expect(readBand(writeTableState(u, { ...readTableState(u.search), group: '' }).search)).toBe('minmax')
    expect(writeBand(u, 'ci').search).toBe('?sort=-metric%3Aacc') // the default is left out
    expect(readBand('?band=<script>')).toBe('ci')
  })
})

describe('groups in the table', () => {
  const runs = [
    ...[0.80, 0.82, 0.81].map((v, i) => run(`a${i}`, { m: { acc: v }, params: { lr: 0.1, seed: i } })),
    ...[0.90, 0.91].map((v, i) => run(`b${i}`, { m: { acc: v }, params: { lr: 0.2, seed: i } })),
    run('bf', { m: { acc: 0.99 }, params: { lr: 0.2, seed: 9 }, status: 'FAILED' }),
  ]
  it("groups by src/judge's configuration, scores on eligible members only, and sorts by the mean", () => {
    const g = sortGroups(tableGroups(runs, 'config', ['acc'], goalOf), { id: 'metric:acc', kind: 'metric', key: 'acc', label: 'acc', num: true }, true)
    expect(g.map((x) => x.label)).toEqual(['lr=0.2', 'lr=0.1'])
    expect(g[0]!.runs).toHaveLength(3)
    expect(g[0]!.eligible).toBe(2)
    expect(g[0]!.stats.acc).toEqual(stats([0.90, 0.91]))
    expect(g[0]!.best!.id).toBe('b1') // the FAILED 0.99 is a member, never the best
    expect(g[0]!.id).toMatch(/^[0-9a-f]{8}$/)
    // what a group row shows of its members, read from columns: finished runs, distinct values of a param (a missing one counts)
    expect([g[0]!.finished, g[1]!.finished]).toEqual([2, 3])
    const col = (key: string) => ({ id: `param:${key}`, kind: 'param' as const, key, label: key })
    expect(g[0]!.distinct(col('lr'))).toEqual({ count: 1, one: 0.2 })
    expect(g[0]!.distinct(col('seed'))).toEqual({ count: 3 })
    expect(g[0]!.distinct(col('nope'))).toEqual({ count: 1 })
    const masked = tableGroups(runs, 'config', ['acc'], goalOf, {}, Uint8Array.from([0, 0, 1, 1, 0, 0]))
    expect(masked.map((x) => [x.label, x.finished, x.distinct(col('seed')), x.stats.acc?.n, x.best?.id])).toEqual([['lr=0.1', 1, { count: 1, one: 2 }, 1, 'a2'], ['lr=0.2', 1, { count: 1, one: 0 }, 1, 'b0']])
    expect(tableGroups(runs, 'param:seed', ['acc'], goalOf).map((x) => x.label)).toEqual(['seed=0', 'seed=1', 'seed=2', 'seed=9'])
  })
  it('keeps the same configuration on two commits apart (the CLI and report rule) and names the commit', () => {
    const c1 = '1111111122222222333333334444444455555555', c2 = 'aaaaaaaabbbbbbbbccccccccddddddddeeeeeeee'
    const two = [
      ...[0.80, 0.82].map((v, i) => run(`x${i}`, { m: { acc: v }, params: { lr: 0.1, seed: i }, source: { commit: c1 } })),
      ...[0.90, 0.91].map((v, i) => run(`y${i}`, { m: { acc: v }, params: { lr: 0.1, seed: i }, source: { commit: c2 } })),
      run('z', { m: { acc: 0.5 }, params: { lr: 0.3 }, source: { commit: c2 } }),
    ]
    const g = tableGroups(two, 'config', ['acc'], goalOf)
    expect(g.map((x) => [x.label, x.commit, x.runs.map((r) => r.id)])).toEqual([
      ['lr=0.1 @ 11111111', c1, ['x0', 'x1']], ['lr=0.1 @ aaaaaaaa', c2, ['y0', 'y1']], ['lr=0.3', c2, ['z']],
    ])
    expect(new Set(g.map((x) => x.id)).size).toBe(3)
    // grouping by a param is the user's own identity: no split by commit
    expect(tableGroups(two, 'param:lr', ['acc'], goalOf).map((x) => [x.label, x.runs.length, x.commit])).toEqual([['lr=0.1', 4, undefined], ['lr=0.3', 1, undefined]])
  })
  it('gives a group whose members and label did not change since an earlier keystroke the same object (its row is not drawn again)', () => {
    const c1 = '1111111122222222333333334444444455555555', c2 = 'aaaaaaaabbbbbbbbccccccccddddddddeeeeeeee'
    const two = [
      ...[0.80, 0.82].map((v, i) => run(`x${i}`, { m: { acc: v }, params: { lr: 0.1, seed: i }, source: { commit: c1 } })),
      ...[0.90, 0.91].map((v, i) => run(`y${i}`, { m: { acc: v }, params: { lr: 0.1, seed: i }, source: { commit: c2 } })),
      run('z', { m: { acc: 0.5 }, params: { lr: 0.3 }, source: { commit: c2 } }),
    ]
    const at = (mask: number[] | null) => tableGroups(two, 'config', ['acc'], goalOf, {}, mask && Uint8Array.from(mask))
    const all = at(null)
    expect(all.map((g) => g.stats.acc?.n)).toEqual([2, 2, 1])
    // every run kept again (a filter every run passes): the same three objects
    expect(at([1, 1, 1, 1, 1]).every((g, i) => g === all[i])).toBe(true)
    // one member of x gone: that group is new (and scored anew), the others are the same objects
    const less = at([1, 0, 1, 1, 1])
    expect(less.map((g) => g === all[all.findIndex((a) => a.key === g.key)])).toEqual([false, true, true])
    expect(less[0]!.stats.acc?.n).toBe(1)
    expect(less[0]!.runs.map((r) => r.id)).toEqual(['x0'])
    // the y group alone: the same members, but no other group shares its params, so its label loses the commit: a new object
    const alone = at([0, 0, 1, 1, 0])
    expect(alone.map((g) => g.label)).toEqual(['lr=0.1'])
    expect(alone[0]).not.toBe(all[1])
    expect(at(null).map((g) => g.label)).toEqual(['lr=0.1 @ 11111111', 'lr=0.1 @ aaaaaaaa', 'lr=0.3'])
    // other metrics: other objects
    expect(tableGroups(two, 'config', ['acc', 'loss'], goalOf)[2]).not.toBe(all[2])
  })
  it('lets a parent summarise its children: best child, n, and the best value where the parent logged none', () => {
    const kids = [0.7, 0.75, 0.72].map((v, i) => run(`k${i}`, { m: { acc: v }, parent: 'p' }))
    const failed = run('kf', { m: { acc: 0.99 }, parent: 'p', status: 'FAILED' })
    const out = withChildSummaries([run('p'), ...kids, failed], ['acc'], goalOf)
    const p = out.find((r) => r.id === 'p')!
    expect(p.summary).toEqual({ n: 4, ids: ['k0', 'k1', 'k2', 'kf'], best: { id: 'k1', name: 'k1' }, filled: ['acc'] })
    expect(p.metrics.acc!.value).toBe(0.75)
    const alone = [run('x')]
    expect(withChildSummaries(alone, ['acc'], goalOf)).toBe(alone)
  })
})

describe('group band rows', () => {
  const s = (step: number[], value: number[]): Series => ({ key: 'acc', total: step.length, step, time: step, value })
  it('are src/judge statistics of the members at each step, interpolated between a member\'s own points', () => {
    const rows = groupBandRows([{ group: 'g', series: [s([0, 10], [0, 1]), s([0, 5, 10], [0.2, 0.6, 1.2]), s([0, 10], [NaN, 2])] }])
    const at5 = rows.find((r) => r.x === 5)!
    const d = stats([0.5, 0.6])!
    expect(at5).toEqual({ group: 'g', x: 5, mean: d.mean, lo: d.ci![0], hi: d.ci![1], min: 0.5, max: 0.6, n: 2 })
    expect(rows.find((r) => r.x === 10)!.n).toBe(3)
    const one = groupBandRows([{ group: 'h', series: [s([0, 1], [3, 4])] }])
    expect(one.every((r) => r.lo === r.mean && r.hi === r.mean)).toBe(true)
    expect(bandChartSpec(rows, { band: 'minmax' }).marks).toHaveLength(3)
  })
})

describe('change detection along commits', () => {
  const r = (id: string, commit: string, v: number, o: Partial<JudgedRun> = {}): JudgedRun & { commit: string } =>
    ({ ...run(id, { m: { acc: v }, params: { lr: 0.1, seed: id } }), commit, ...o })
  it("judges each commit's best group against the previous commit's, as the report does", () => {
    const runs = [
      ...[0.80, 0.81, 0.79].map((v, i) => r(`a${i}`, 'c1', v)),
      r('fail', 'c2', 0.99, { status: 'FAILED' }),
      ...[0.85, 0.86, 0.84].map((v, i) => r(`b${i}`, 'c2', v)),
      ...[0.70, 0.71, 0.69].map((v, i) => r(`c${i}`, 'c3', v)),
      r('d0', 'c4', 0.72),
      r('e0', 'c5', 0.5, { status: 'FAILED' }),
    ]
    const steps = commitSteps(runs, (x) => x.commit, ['c1', 'c2', 'c3', 'c4', 'c5'], 'acc', 'maximize')
    expect(steps.map((s) => s.verdict?.verdict)).toEqual([undefined, 'better', 'worse', 'inconclusive', undefined])
    expect(steps[1]!.verdict).toEqual(judgeDifference([0.80, 0.81, 0.79], [0.85, 0.86, 0.84], 'maximize'))
    expect(steps[1]!.best!.values).toEqual([0.85, 0.86, 0.84])
    expect(steps[4]!.best).toBeUndefined() // nothing eligible: no result, and c4 stays the reference
    expect(steps[3]!.previous).toBe('c3')
    // A noise floor decides single runs, as in the report.
    expect(commitSteps(runs, (x) => x.commit, ['c3', 'c4'], 'acc', 'maximize', { minEffect: 0.01 })[1]!.verdict!.verdict).toBe('better')
  })
})
