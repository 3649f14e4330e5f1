// The number scan of metric chunks (src/format/decimal.ts) against JSON.parse: same double for every JSON number,
// same verdict on what is one. Issue 15: a 1,000,000-point history is mostly 17-digit values read this way.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as decimal from '../../src/format/decimal.js'
import { decodeChunkColumns, encodePoint } from '../../src/format/jsonl.js'

/** scanDecimal of `text` followed by a comma (as in a chunk line): the value and where it stopped. */
function scan(text: string): { value: number; end: number } {
  const buf = Buffer.from(`${text},`, 'latin1')
  const value = decimal.scanDecimal(buf, 0, buf.length)
  return { value, end: decimal.decimalEnd }
}

/** Whether the scan reads `text` whole and gives JSON.parse's double (bit for bit: -0 and the last place count). */
function same(text: string): boolean {
  const { value, end } = scan(text)
  return end === text.length && Object.is(value, JSON.parse(text))
}

const bits = fc.tuple(fc.nat({ max: 0x7fefffff }), fc.nat({ max: 0xffffffff })).map(([hi, lo]) => {
  const f = new Float64Array(1), u = new Uint32Array(f.buffer)
  u[1] = hi; u[0] = lo
  return f[0]!
})
/** Doubles as String(v) writes them (what labbook writes), everywhere in range and where metrics live. */
const finite = fc.oneof(bits, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.double({ min: -10, max: 10, noNaN: true }),
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: -12, max: 24 })).map(([m, e]) => m * 10 ** e))

describe('the number scan', () => {
  it('reads what labbook writes (String of any double, 17 digits, exponents, -0) as JSON.parse does (property)', () => {
    fc.assert(fc.property(finite, fc.boolean(), (v, neg) => same(String(neg ? -v : v))), { numRuns: 20_000 })
  })

  it('reads other spellings of numbers as JSON.parse does: exponents, 16-19 and more digits, long fractions (property)', () => {
    const spelled = fc.tuple(finite, fc.integer({ min: 1, max: 21 }), fc.constantFrom('exp', 'prec', 'fixed', 'E', 'E+')).map(([v, d, how]) =>
      how === 'exp' ? v.toExponential(Math.min(d, 20)) : how === 'prec' ? v.toPrecision(d) : how === 'fixed' ? (Math.abs(v) < 1e21 ? v.toFixed(Math.min(d, 20)) : String(v))
        : how === 'E' ? v.toExponential().toUpperCase().replace('+', '') : v.toExponential().replace('e', 'E'))
    fc.assert(fc.property(spelled, same), { numRuns: 20_000 })
  })

  it('rounds ties and near-ties exactly (the cases a double-double quotient cannot settle go to Number)', () => {
    // integers past 2^52 with a fraction: .5 is an exact tie between two doubles, others lie near one
    fc.assert(fc.property(fc.bigInt({ min: 2n ** 52n, max: 2n ** 60n }), fc.constantFrom('.5', '.25', '.75', '.0', '.125', '.375', '.00', '.49999', '.50001'), (i, f) => same(`${i}${f}`)), { numRuns: 20_000 })
    // halfway between two neighbouring doubles, printed with 17 to 21 digits
    fc.assert(fc.property(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), fc.integer({ min: 17, max: 21 }), (v, d) => {
      const f = new Float64Array([v]), u = new Uint32Array(f.buffer)
      u[0] = (u[0]! + 1) >>> 0
      return same(((v + f[0]!) / 2).toPrecision(d)) && same(v.toPrecision(d))
    }), { numRuns: 20_000 })
    for (const t of ['9007199254740993', '9007199254740992.5', '4503599627370497.5', '0.30000000000000004', '-0.30000000000000004', '123456789012345.6',
      '0.1', '1e-7', '1E5', '1e+21', '1.7976931348623157e308', '5e-324', '2.2250738585072014e-308', '0.000001234567890123456', '12345678901234567890123'])
      expect(same(t), t).toBe(true)
  })

  it('keeps negative zero and refuses what JSON refuses (property)', () => {
    for (const z of ['-0', '-0.0', '-0e5', '-0.000']) expect(Object.is(scan(z).value, -0)).toBe(true)
    const text = fc.string({ unit: fc.constantFrom('0', '1', '9', '.', 'e', 'E', '+', '-'), minLength: 1, maxLength: 12 })
    const grammar = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/
    fc.assert(fc.property(text, (t) => {
      const { value, end } = scan(t)
      const valid = grammar.test(t)
      return (end === t.length) === valid && (!valid || Object.is(value, JSON.parse(t)))
    }), { numRuns: 20_000 })
  })

  it('NaN and ±Infinity as labbook writes them, beside 17-digit values, read back from a chunk', () => {
    const values = [NaN, Infinity, -Infinity, -0, 0.1 + 0.2, Math.PI, -Math.E / 3, 1e-7 / 3, 2 ** 53 + 2, 123456.78901234567]
    const c = decodeChunkColumns(Buffer.from(values.map((v, i) => encodePoint('m', v, i, 1_700_000_000_000 + i)).join('')))
    expect(Array.from(c.value).every((v, i) => Object.is(v, values[i]))).toBe(true)
  })
})
