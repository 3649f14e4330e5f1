import { describe, expect, it } from 'vitest'
import { toJson } from '../../cli/output.js'
import { hasNonFinite, nonFiniteReplacer } from '../../src/format/numbers.js'

describe('JSON output of non-finite numbers', () => {
  it('finds a NaN or ±Infinity at any depth, and nothing in finite data', () => {
    expect(hasNonFinite({ a: [1, { b: NaN }] })).toBe(true)
    expect(hasNonFinite([Infinity])).toBe(true)
    expect(hasNonFinite(-Infinity)).toBe(true)
    expect(hasNonFinite({ a: [1, -0, 'NaN', null, { b: 2.5 }], c: true })).toBe(false)
  })
  it('gives the same bytes with and without the replacer shortcut', () => {
    const finite = { runs: [{ id: 'x', metrics: { acc: 0.9, loss: -0 } }], n: null }
    expect(toJson(finite)).toBe(JSON.stringify(finite, nonFiniteReplacer, 2) + '\n')
    const odd = { metrics: { a: NaN, b: Infinity, c: -Infinity, d: 1 } }
    expect(JSON.parse(toJson(odd))).toEqual({ metrics: { a: 'NaN', b: 'Infinity', c: '-Infinity', d: 1 } })
  })
})
