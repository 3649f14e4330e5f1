import { describe, expect, it } from 'vitest'
import { isLabbookError } from '../../src/errors.js'
import { parseFieldList, parseFieldRef, parseFilter, parseOrderBy } from '../../src/query/index.js'

function fail(f: () => unknown) {
  try {
    f()
  } catch (e) {
    if (isLabbookError(e, 'INVALID_FILTER')) return e
    throw e
  }
  throw new Error('expected INVALID_FILTER')
}

// [filter, the offset the caret must point at, a phrase the message must contain]
const BAD: [string, number, string][] = [
  ['metrics.acc 0.9', 12, 'expected an operator after metrics.acc'],
  ['metrics.acc >', 13, 'expected a value after metrics.acc >'],
  ["params.lr > '0.1'", 12, 'needs a number'],
  ["metrics.acc = 'x'", 14, 'is a number'],
  ["status < 'A'", 9, 'needs a number'],
  ["start_time > 'yesterday'", 13, 'is a number'],
  ["metrics.acc LIKE '%'", 12, 'LIKE matches text'],
  ['(metrics.acc > 1', 16, 'expected ")"'],
  ['metrics.acc > 1)', 15, 'unbalanced ")"'],
  ["foo = 'x'", 0, 'unknown attribute "foo"'],
  ["datasets.size = 'x'", 0, 'unknown dataset field "size"'],
  ['metrics. > 1', 0, 'expected a key after "metrics."'],
  ['tags.x = `y`', 9, 'backticks quote keys'],
  ['tags.x = y', 9, 'bare word'],
  ["run_id IN 'a'", 10, 'expected a list'],
  ['run_id IN ()', 11, 'expected a value'],
  ['metrics.a > 1 AND', 17, 'expected a field'],
  ['AND metrics.a > 1', 0, 'keyword AND'],
  ['metrics.a > 1 metrics.b > 2', 14, 'expected AND, OR'],
  ['metrics.a ! 1', 10, 'unexpected character "!"'],
  ["metrics.a IS 'x'", 13, 'expected NULL'],
  ["params.a = 'x';", 14, 'unexpected character ";"'],
  ['tags.x = NULL', 9, 'is never true'],
  ["tags.x = 'abc", 9, 'unterminated'],
  ['1 = metrics.a', 0, 'expected a field'],
  ['metrics', 0, 'expected a key after "metrics"'],
  ["run_id IN ('a' 'b')", 15, 'expected "," or ")"'],
  ['source.dirty = 1', 15, 'TRUE or FALSE'],
  ['source.dirty > TRUE', 13, 'cannot compare TRUE/FALSE'],
  ["run_name = 5", 11, 'quoted value'],
  ['params.x = TRUE', 11, 'quote the value'],
  ['metrics.a NOT = 1', 14, 'expected IN, LIKE or ILIKE'],
  ['()', 1, 'empty parentheses'],
  ['metrics.1abc > 1 AND 2x = 1', 21, 'neither a number nor a name'],
  ['"unknown thing" = \'x\'', 0, 'unknown attribute'],
  ['`nope`.x = 1', 0, 'unknown field type'],
  ['metrics.a > 1e999', 12, 'too large'],
]

describe('invalid filters', () => {
  for (const [filter, position, phrase] of BAD) {
    it(JSON.stringify(filter), () => {
      const e = fail(() => parseFilter(filter))
      expect(e.message).toContain(phrase)
      expect(e.data.position).toBe(position)
      expect(e.hint).toBeTruthy()
      // The caret line sits under the quoted filter line, at the offending column.
      const lines = e.message.split('\n')
      const caret = lines[lines.length - 1]
      expect(caret.indexOf('^') - 2).toBe(position)
    })
  }

  it('points into the right line of a multi-line filter', () => {
    const e = fail(() => parseFilter("metrics.a > 1\n  AND params.b = 'x'\n  AND tags.c ? 1"))
    expect(e.data).toMatchObject({ line: 3, column: 14 })
    expect(e.message).toContain('(line 3, column 14)')
    expect(e.message.split('\n').slice(-2)).toEqual(['    AND tags.c ? 1', '               ^'])
  })

  it('keeps the caret readable in a very long filter', () => {
    const long = Array.from({ length: 40 }, (_, i) => `metrics.m${i} > ${i}`).join(' AND ') + ' AND metrics.z ~ 1'
    const e = fail(() => parseFilter(long))
    const [, shown, caret] = e.message.split('\n')
    expect(shown.length).toBeLessThan(90)
    expect(shown[caret.indexOf('^')]).toBe('~')
  })

  it('refuses parentheses nested too deep instead of overflowing the stack', () => {
    const deep = '('.repeat(5000) + 'metrics.a > 1' + ')'.repeat(5000)
    expect(fail(() => parseFilter(deep)).message).toContain('nested more than')
    expect(parseFilter('('.repeat(20) + 'metrics.a > 1' + ')'.repeat(20))).toMatchObject({ type: 'compare' })
  })

  it('folds long NOT chains without recursion', () => {
    expect(parseFilter('NOT '.repeat(100_001) + "status = 'X'")).toMatchObject({ type: 'not' })
    expect(parseFilter('NOT '.repeat(100_000) + "status = 'X'")).toMatchObject({ type: 'compare' })
  })
})

describe('field refs and order-by items', () => {
  it('parses the forms --columns and order-by use', () => {
    expect(parseFieldRef('metrics.`val loss`')).toEqual({ kind: 'metric', key: 'val loss' })
    expect(parseFieldRef('created')).toEqual({ kind: 'attribute', key: 'start_time' })
    expect(parseFieldRef('tags.mlflow.runName')).toEqual({ kind: 'tag', key: 'mlflow.runName' })
    expect(fail(() => parseFieldRef('metrics.a b')).message).toContain('after metrics.a')
    expect(parseFieldList('params.lr, metrics.`val,acc`,status')).toEqual([
      { kind: 'param', key: 'lr' }, { kind: 'metric', key: 'val,acc' }, { kind: 'attribute', key: 'status' },
    ])
    expect(parseFieldList('')).toEqual([])
    const e = fail(() => parseFieldList('params.lr metrics.acc'))
    expect(e.message.startsWith('Invalid column list:')).toBe(true)
    expect(e.data.position).toBe(10)
  })

  it('rejects bad order-by items with a caret', () => {
    const e = fail(() => parseOrderBy(['metrics.acc DESCENDING']))
    expect(e.message).toContain('expected ASC, DESC')
    expect(e.message.startsWith('Invalid order-by:')).toBe(true)
    expect(e.data.position).toBe(12)
    expect(fail(() => parseOrderBy([''])).message).toContain('empty order-by')
    expect(fail(() => parseOrderBy(['nope DESC'])).message).toContain('unknown attribute')
  })
})
