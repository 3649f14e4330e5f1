// A cold listing reads the columns a query names from each summary line without JSON.parse when the line has the
// shape encodeSummaryLine writes (src/format/summary-scan.ts, issue 17). For any line and any columns it must give
// what JSON.parse and the column getters give: the same values (NaN, -0 and non-finite numbers included), the same
// tombstones, and the same lines refused, including lines one character away from a good one.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeSummaryLine, encodeTombstone, type CompactRun } from '../../src/format/summaries.js'
import { keyed, type RunSummary } from '../../src/model/run.js'
import type { ColumnName } from '../../src/store/listing.js'
import { columnGetter, lineScanner, type ScannedLine } from '../../src/format/summary-scan.js'

/** The reference: JSON.parse, then each column's getter (what a cold listing did before the scanner). */
function reference(text: string, names: readonly ColumnName[]): ScannedLine | undefined {
  let raw: CompactRun | null
  try {
    raw = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof raw?.id !== 'string') return undefined
  return { id: raw.id, startTime: raw.startTime, values: raw.removed === true ? null : names.map((n) => columnGetter(n)(raw!)) }
}

// keys that collide with the format's own spellings, need escaping, or are prototype names
const KEYS = ['acc', 'loss', 'param_1', 'a b', '$n', '__proto__', 'constructor', 'commit', 'metrics', 'params', 'x"y', 'back\\slash', 'é', 'tab\t', 'lr:', '{', '"acc":']
const key = fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 }))
const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom('', '"acc":[1]', '\\"', 'line\nbreak', '\u2028', '"metrics":{', ',"$n":"NaN"}'))
const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -0, 1e21, 5e-324, Number.NaN, Infinity, -Infinity, 0.1 + 0.2))
const dict = <T>(v: fc.Arbitrary<T>) => fc.array(fc.tuple(key, v), { maxLength: 5 }).map((pairs) => {
  const o = keyed<T>()
  for (const [k, x] of pairs) o[k] = x
  return o
})
const metric = fc.record({ value: number, step: fc.integer(), timestamp: fc.integer(), min: number, max: number, count: fc.nat() })
const run: fc.Arbitrary<RunSummary> = fc.record({
  id: fc.oneof(fc.constantFrom('01m86jw9r34t0rwct0nyc9hx07', 'r1'), text),
  name: text,
  experiment: fc.constantFrom('0', '1', '2'),
  status: fc.constantFrom('RUNNING', 'FINISHED', 'FAILED'),
  lifecycle: fc.constantFrom('active', 'deleted'),
  startTime: fc.oneof(fc.integer(), fc.constant(1795517458179)),
  endTime: fc.option(fc.integer(), { nil: undefined }),
  user: fc.option(text, { nil: undefined }),
  host: fc.option(text, { nil: undefined }),
  parent: fc.option(text, { nil: undefined }),
  description: fc.option(text, { nil: undefined }),
  source: fc.record({ commit: fc.option(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: 40, maxLength: 40 }), { nil: undefined }), branch: fc.option(text, { nil: undefined }), dirty: fc.option(fc.boolean(), { nil: undefined }) }, { requiredKeys: [] }),
  params: dict(fc.oneof(text, number, fc.boolean())),
  tags: dict(text),
  metrics: dict(metric),
  datasets: fc.option(fc.constant([{ name: 'iris', digest: 'a1' }]), { nil: undefined }),
}, { requiredKeys: ['id', 'name', 'experiment', 'status', 'lifecycle', 'startTime', 'source', 'params', 'tags', 'metrics'] }) as fc.Arbitrary<RunSummary>

const canonical = run.map((r) => encodeSummaryLine(r).slice(0, -1))
/** A good line with a few characters changed, dropped or added (mostly JSON's own): refused or read alike. */
const mutated = fc.tuple(canonical, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 2 }), fc.constantFrom(...'"\\{}[],:0123456789.eE-+ tnfu$a\t\x01'.split(''))), { minLength: 1, maxLength: 3 })).map(([line, edits]) => {
  let s = line
  for (const [at, op, ch] of edits) {
    const i = at % (s.length + 1)
    s = op === 0 ? s.slice(0, i) + ch + s.slice(i) : op === 1 ? s.slice(0, i) + s.slice(i + 1) : s.slice(0, i) + ch + s.slice(i + 1)
  }
  return s
})
/** A good line with a key put again at the start of a section (JSON.parse keeps the last of duplicate keys). */
const duplicated = fc.tuple(canonical, fc.constantFrom('source', 'params', 'tags', 'metrics'), key, fc.constantFrom('"v"', '1', '-0', '[2,1,1,2,2,1]', '[{"$n":"NaN"},1]', '{"$n":"Infinity"}', 'null', 'true')).map(([l, section, k, v]) => {
  const at = l.indexOf(`"${section}":{`) + section.length + 4
  const rest = l.slice(at)
  return `${l.slice(0, at)}${JSON.stringify(k)}:${v}${rest.startsWith('}') ? '' : ','}${rest}`
})
/** A good line with one number respelt, in a way JSON allows or not (`01`, `1.`, `+1`, `.5`, `1e`, `-0`, `1E+2`). */
const respelt = fc.tuple(canonical, fc.nat(), fc.constantFrom<[string, string]>(['0', ''], ['', '.'], ['+', ''], ['.', ''], ['', 'e'], ['', 'e+'], ['-', ''], ['', 'E+2'], ['', '.5'], ['00', ''], ['', '0'], ['-0', ''])).map(([l, n, [pre, post]]) => {
  const numbers = [...l.matchAll(/(?<=[:,[])-?\d[\d.eE+-]*/g)]
  if (numbers.length === 0) return l
  const m = numbers[n % numbers.length]!
  return l.slice(0, m.index) + pre + m[0] + post + l.slice(m.index! + m[0].length)
})
const line = fc.oneof(
  { arbitrary: respelt, weight: 2 },
  { arbitrary: canonical, weight: 4 },
  { arbitrary: duplicated, weight: 2 },
  { arbitrary: mutated, weight: 4 },
  { arbitrary: text.map((id) => encodeTombstone(id).slice(0, -1)), weight: 1 },
  // the same run with its keys in another order, or spaced: JSON.parse reads it, the scanner hands it over
  { arbitrary: run.map((r) => JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(encodeSummaryLine(r))).reverse()), null, 1).replace(/\n/g, '')), weight: 1 },
  { arbitrary: fc.constantFrom('', '{', '{"id":1}', 'null', '[]', '{"id":"x"', '{"id":"x","startTime":1}', '{"id":"\\u00e9"}'), weight: 1 },
)
const column: fc.Arbitrary<ColumnName> = fc.oneof(
  fc.constantFrom<ColumnName>('id', 'name', 'status', 'user', 'startTime', 'endTime', 'lifecycle', 'experiment', 'parent', 'source.commit', 'source.branch', 'source.dirty'),
  key.map((k) => `m:${k}` as ColumnName),
  key.map((k) => `p:${k}` as ColumnName),
  key.map((k) => `t:${k}` as ColumnName),
)

describe('lineScanner', () => {
  it('reads any line for any columns as JSON.parse and the column getters do', () => {
    fc.assert(fc.property(fc.array(line, { minLength: 1, maxLength: 6 }), fc.array(column, { maxLength: 5 }), (lines, names) => {
      const scan = lineScanner(names)
      for (const l of lines) expect(scan(l)).toEqual(reference(l, names))
    }), { numRuns: 3000 })
  })

  it('reads a canonical line for the columns of a query', () => {
    const r = JSON.parse(encodeSummaryLine({
      id: 'r1', name: 'n', experiment: '1', status: 'FINISHED', lifecycle: 'active', startTime: 5, source: { commit: 'c'.repeat(40) },
      params: { param_1: 'choice-2', lr: Number.NaN }, tags: { team: 'nlp' }, metrics: { accuracy: { value: 0.75, step: 2, timestamp: 9, min: 0.1, max: 0.8, count: 3 } },
    } as unknown as RunSummary))
    const text = JSON.stringify(r)
    const names: ColumnName[] = ['lifecycle', 'startTime', 'm:accuracy', 'p:param_1', 'p:lr', 't:team', 'source.commit', 'm:absent']
    expect(lineScanner(names)(text)).toEqual({ id: 'r1', startTime: 5, values: ['active', 5, 0.75, 'choice-2', Number.NaN, 'nlp', 'c'.repeat(40), undefined] })
  })
})
