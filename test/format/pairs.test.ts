// Every byte format is a pair: what the encoder writes, the decoder reads back to the same value (property tests).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeJournalLine, encodeJournalEntry, encodeOp, type JournalEntry, type JournalOp } from '../../src/format/journal.js'
import { decodeChunk, encodePoint, pointPrefix, pointTimestamp, pointValueStep } from '../../src/format/jsonl.js'
import { encodeMetricsLine, MetricsLineParser, RESERVED_LINE_KEYS, type MetricsLine } from '../../src/format/metrics-lines.js'
import type { ParamValue } from '../../src/model/run.js'

const key = fc.string({ minLength: 1, maxLength: 30 })
const value = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 5e-324))
const int = fc.integer({ min: 0, max: 2 ** 40 })
const point = fc.record({ key, value, step: int, timestamp: int })
const param: fc.Arbitrary<ParamValue> = fc.oneof(fc.string({ maxLength: 40 }), fc.double(), fc.boolean())
const op: fc.Arbitrary<JournalOp> = fc.oneof(
  fc.record({ op: fc.constant('start' as const), run: fc.string() }),
  fc.record({ op: fc.constant('param' as const), key, value: param }),
  fc.record({ op: fc.constant('tag' as const), key, value: fc.string() }),
  fc.record({ op: fc.constant('untag' as const), key }),
  fc.record({ op: fc.constant('name' as const), value: fc.string() }),
  fc.record({ op: fc.constant('description' as const), value: fc.string() }),
  fc.constant({ op: 'resume' as const }),
  fc.record({ op: fc.constant('dataset' as const), value: fc.record({ name: fc.string({ minLength: 1 }), digest: fc.string({ minLength: 1 }), sourceType: fc.string(), source: fc.string(), context: fc.string(), schema: fc.string(), profile: fc.string() }, { requiredKeys: ['name', 'digest', 'sourceType', 'source'] }) }),
  fc.record({ op: fc.constant('metrics-file' as const), path: fc.string(), offset: int, points: int, child: fc.record({ pid: fc.integer({ min: 1, max: 2 ** 22 }), host: fc.string(), started: fc.string() }) }, { requiredKeys: ['op', 'path', 'offset', 'points'] }),
  fc.record({ op: fc.constant('end' as const), status: fc.constantFrom('FINISHED' as const, 'FAILED' as const, 'KILLED' as const), endTime: int }),
)

describe('format pairs', () => {
  it('metric chunk lines: the three-piece hot path spells exactly encodePoint, and decodeChunk reads them back', () => {
    fc.assert(fc.property(fc.array(point, { maxLength: 20 }), (points) => {
      const text = points.map((p) => encodePoint(p.key, p.value, p.step, p.timestamp)).join('')
      expect(points.map((p) => pointPrefix(p.key) + pointValueStep(p.value, p.step) + pointTimestamp(p.timestamp)).join('')).toBe(text)
      expect(decodeChunk(text)).toEqual(points)
    }), { numRuns: 200 })
  })

  it('journal lines: every op and point reads back as written; a torn line is undefined, an unknown one skipped', () => {
    const entry: fc.Arbitrary<JournalEntry> = fc.oneof(
      op.map((o) => ({ kind: 'op' as const, op: o })),
      point.map((p) => ({ kind: 'point' as const, point: p })),
    )
    fc.assert(fc.property(entry, (e) => {
      const line = encodeJournalEntry(e)
      expect(line.endsWith('\n') && !line.slice(0, -1).includes('\n')).toBe(true)
      expect(decodeJournalLine(line.slice(0, -1))).toEqual(e)
    }), { numRuns: 300 })
    const tag = encodeOp({ op: 'tag', key: 'k', value: 'v' })
    expect(decodeJournalLine(tag.slice(0, 10))).toBeUndefined()
    expect(decodeJournalLine('{"op":"future-op"}')).toEqual({ kind: 'unknown' })
  })

  it('$LABBOOK_METRICS lines: MetricsLineParser reads back what encodeMetricsLine writes', () => {
    const metricKey = key.filter((k) => !(RESERVED_LINE_KEYS as readonly string[]).includes(k) && k !== '__proto__')
    const line: fc.Arbitrary<MetricsLine> = fc.record({
      metrics: fc.dictionary(metricKey, value, { maxKeys: 4 }),
      step: fc.integer({ min: 0, max: 1e9 }),
      timestamp: fc.integer({ min: 1e11, max: 4e12 }),
      params: fc.dictionary(metricKey, fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean()), { maxKeys: 3 }),
      tags: fc.dictionary(metricKey, fc.string({ maxLength: 20 }), { maxKeys: 3 }),
      artifact: fc.string({ minLength: 1, maxLength: 20 }),
      to: fc.string({ minLength: 1, maxLength: 10 }),
    }, { requiredKeys: [] }).filter((l) => l.to === undefined || l.artifact !== undefined)
    fc.assert(fc.property(line, (l) => {
      const got: MetricsLine = {}
      const problems: string[] = []
      const parser = new MetricsLineParser({
        metric: (k, v, s, t) => {
          (got.metrics ??= {})[k] = v
          if (s !== undefined) got.step = s
          if (t !== undefined) got.timestamp = t
        },
        params: (p) => { got.params = p },
        tags: (t) => { got.tags = t },
        artifact: (a, to) => { got.artifact = a; if (to !== undefined) got.to = to },
      }, (p) => problems.push(p.message))
      parser.feed(encodeMetricsLine(l))
      parser.end()
      expect(problems).toEqual([])
      const want: MetricsLine = { ...l }
      if (!l.metrics || Object.keys(l.metrics).length === 0) { delete want.metrics; delete want.step; delete want.timestamp }
      expect(got).toEqual(want)
    }), { numRuns: 200 })
    expect(() => encodeMetricsLine({ metrics: { step: 1 } })).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }))
  })
})
