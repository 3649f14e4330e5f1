import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { keyed, type RunSummary } from '../../src/model/run.js'
import { tableRun } from '../../src/site/build/collect.js'
import type { TableRun } from '../../src/site/browser/snapshot.js'
import { decodeTable, encodeTable, TABLE_VERSION } from '../../src/site/browser/table-data.js'
import { compileTableFilter } from '../../src/site/browser/table.js'
import { EVIL_ALL, fakeRuns } from '../helpers/site-fixtures.js'

/** What the table keeps of a run: its row, each metric's value only. */
const expected = (r: RunSummary, children?: number): TableRun => {
  const row = tableRun(r, children)
  return { ...row, metrics: Object.fromEntries(Object.entries(row.metrics).map(([k, m]) => [k, { value: m.value }])) }
}
const roundTrip = (rows: TableRun[], exp = '1') => decodeTable(JSON.parse(JSON.stringify(encodeTable(rows, exp))))

describe('the columnar runs table (data/experiments/<id>/runs.json)', () => {
  it('gives back every run as the table sees it, odd values included', () => {
    const { runs } = fakeRuns({ runs: 40, steps: 3, experiments: 1 })
    const sums = runs.map((r) => r.summary)
    const odd = sums[3]!
    odd.name = EVIL_ALL
    odd.endTime = undefined
    odd.status = 'RUNNING'
    odd.user = undefined
    odd.metrics = Object.assign(Object.create(null), { nan: { ...odd.metrics.acc!, value: NaN }, inf: { ...odd.metrics.acc!, value: -Infinity }, constructor: { ...odd.metrics.acc!, value: 7 } })
    odd.params = keyed(JSON.parse('{"__proto__":"p","toString":3,"flag":true,"lr":"0.10"}'))
    odd.tags = Object.assign(Object.create(null), { constructor: 'c', 'mlflow.note': EVIL_ALL })
    odd.source = { commit: 'f'.repeat(40), dirty: false, command: 'python train.py --lr 0.1' }
    odd.datasets = [{ name: 'mnist', digest: 'abc', sourceType: 'local', source: '/data', context: 'train' } as NonNullable<RunSummary['datasets']>[number]]
    const rows = sums.map((r, i) => expected(r, i === 5 ? 4 : undefined))
    const back = roundTrip(sums.map((r, i) => tableRun(r, i === 5 ? 4 : undefined)))
    expect(back).toHaveLength(40)
    for (let i = 0; i < rows.length; i++) expect({ ...back[i]! }, `row ${i}`).toEqual({ ...rows[i]! })
    const b = back[3]!
    expect(Number.isNaN(b.metrics.nan!.value)).toBe(true)
    expect(b.metrics.inf!.value).toBe(-Infinity)
    // user keys are ordinary keys: nothing inherited, nothing from Object.prototype
    expect(Object.getPrototypeOf(b.params)).toBeNull()
    expect(b.params.__proto__).toBe('p')
    expect(b.params.toString).toBe(3)
    expect(b.params.flag).toBe(true)
    expect(b.params.lr).toBe('0.10') // a string stays a string, a number a number
    expect(back[0]!.params.lr).toBe(0.1)
    expect(b.tags.constructor).toBe('c')
    const ctor = 'constructor'
    expect(b.metrics[ctor]!.value).toBe(7)
    expect(back[4]!.metrics[ctor]).toBeUndefined()
    expect(b.endTime).toBeUndefined()
    expect(b.duration).toBeUndefined()
    // the filter language reads decoded rows as it read the objects
    const pred = compileTableFilter("metrics.acc > 0.6 and params.model = 'cnn' and attributes.status = 'FINISHED'").pred!
    expect(back.filter(pred).map((r) => r.id)).toEqual(rows.filter(pred).map((r) => r.id))
    expect(back.filter(pred).length).toBeGreaterThan(3)
  })

  it('is a named, versioned format: another file or a newer version is refused with a clear message', () => {
    const t = encodeTable([], '1')
    expect(t).toMatchObject({ format: 'labbook-runs-table', version: TABLE_VERSION, n: 0 })
    expect(decodeTable(t)).toEqual([])
    expect(() => decodeTable([] as never)).toThrow(/Not a labbook runs table/)
    expect(() => decodeTable({ ...t, version: TABLE_VERSION + 1 })).toThrow(/version 2.*rebuild the site/)
  })

  it('costs well under half the bytes of one object per run (gzip, 5,000 runs)', () => {
    const { runs } = fakeRuns({ runs: 5000, steps: 1, experiments: 1, lazy: true })
    const rows = runs.map((r) => tableRun(r.summary))
    const objects = gzipSync(JSON.stringify(rows)).length
    const columns = gzipSync(JSON.stringify(encodeTable(rows, '1'))).length
    expect(columns / rows.length).toBeLessThan(50)
    expect(columns).toBeLessThan(objects / 2)
  })
})
