import { describe, expect, it } from 'vitest'
import type { RunSummary } from '../../src/model/run.js'
import { parseOrderBy, searchRuns, sortRuns } from '../../src/query/index.js'
import { fixtureRuns, m } from './fixture.js'

const runs = fixtureRuns()
const order = (...items: string[]) => sortRuns(runs, parseOrderBy(items)).map((r) => r.id)

describe('order-by', () => {
  it('defaults to start_time DESC, then id ASC (live and r9 start at the same ms)', () => {
    expect(sortRuns(runs).map((r) => r.id)).toEqual(['nan', 'live', 'r9', 'r8', 'r7', 'r6', 'r5', 'r4', 'r3', 'r2', 'r1', 'r0', 'old'])
  })

  it('puts NaN after every number and missing keys last, in both directions', () => {
    expect(order('metrics.loss ASC')).toEqual(['old', 'r9', 'r8', 'r7', 'r6', 'r5', 'r4', 'r3', 'r2', 'r1', 'r0', 'nan', 'live'])
    expect(order('metrics.loss DESC')).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'old', 'nan', 'live'])
    expect(order('metrics.loss')).toEqual(order('metrics.loss ASC'))
  })

  it('sorts params numerically when every value is a number, breaking ties by start_time DESC', () => {
    expect(order('params.batch_size DESC')).toEqual(['old', 'nan', 'r9', 'r8', 'r7', 'r6', 'r5', 'r4', 'r3', 'r2', 'r1', 'r0', 'live'])
  })

  it('sorts text params as text', () => {
    expect(order('params.model')).toEqual(['nan', 'r0', 'r1', 'r2', 'live', 'r3', 'old', 'r9', 'r8', 'r7', 'r6', 'r5', 'r4'])
  })

  it('applies several clauses in order', () => {
    expect(order('status', 'metrics.accuracy DESC')).toEqual(['old', 'r8', 'r7', 'r6', 'r5', 'r4', 'r3', 'r2', 'r1', 'r0', 'nan', 'r9', 'live'])
    expect(order('status, metrics.accuracy DESC')).toEqual(order('status', 'metrics.accuracy DESC'))
  })

  it('orders by our attributes: duration missing last, source.dirty false before true', () => {
    expect(order('duration DESC').slice(-3)).toEqual(['nan', 'old', 'live'])
    expect(order('source.dirty DESC', 'run_id').slice(0, 5)).toEqual(['r5', 'r6', 'r7', 'r8', 'r9'])
  })

  it('breaks full ties by id so the order is total', () => {
    const twins: RunSummary[] = ['b', 'c', 'a'].map((id) => ({ ...runs[0], id }))
    expect(sortRuns(twins, parseOrderBy(['metrics.loss'])).map((r) => r.id)).toEqual(['a', 'b', 'c'])
  })

  it('gives the same first N with a limit (top-N buffer) as a full sort', () => {
    let seed = 7
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    const many: RunSummary[] = Array.from({ length: 2000 }, (_, i): RunSummary => ({
      ...runs[i % runs.length]!,
      id: `x${i}`,
      startTime: 1000 + Math.floor(rnd() * 50),
      params: { p: Math.floor(rnd() * 10) },
      metrics: rnd() < 0.1 ? {} : { acc: m(rnd() < 0.05 ? NaN : Math.round(rnd() * 20) / 20) },
    }))
    for (const items of [['metrics.acc DESC'], ['metrics.acc', 'params.p DESC'], []]) {
      const c = parseOrderBy(items)
      const full = sortRuns(many, c).map((r) => r.id)
      expect(sortRuns(many, c, 37).map((r) => r.id)).toEqual(full.slice(0, 37))
      expect(searchRuns(many, undefined, { orderBy: items, limit: 20, offset: 30 }).map((r) => r.id)).toEqual(full.slice(30, 50))
    }
  })

  it('searchRuns filters, sorts and pages', () => {
    const got = searchRuns(runs, 'metrics.loss < 0.5 OR metrics.loss IS NULL', { orderBy: ['metrics.loss DESC'], limit: 3, offset: 1 })
    expect(got.map((r) => r.id)).toEqual(['r7', 'r8', 'r9'])
    expect(() => searchRuns(runs, undefined, { limit: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
  })
})
