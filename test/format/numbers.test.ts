import { describe, expect, it } from 'vitest'
import { toJson } from '../../cli/output.js'
import { hasNonFinite, nonFiniteReplacer, numberFromJson, numberFromJsonValue, numberToJsonValue } from '../../src/model/json-numbers.js'

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
  it('numberToJsonValue survives JSON.stringify for every number, -0 included; input formats take no "-0"', () => {
    const all = [0, -0, 1.5, -2e-300, NaN, Infinity, -Infinity]
    const back = (JSON.parse(JSON.stringify(all.map(numberToJsonValue))) as unknown[]).map(numberFromJsonValue)
    back.forEach((v, i) => expect(Object.is(v, all[i]), String(all[i])).toBe(true))
    expect(numberFromJson('-0')).toBeUndefined()
    expect(numberFromJsonValue('0')).toBeUndefined()
  })
})
