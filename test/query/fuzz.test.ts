import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LabbookError } from '../../src/errors.js'
import { compileFilter, formatFilter, parseFilter, parseOrderBy, searchRuns } from '../../src/query/index.js'
import { fixtureRuns } from './fixture.js'

const runs = fixtureRuns()
const AST_TYPES = new Set(['all', 'and', 'or', 'not', 'compare', 'like', 'in', 'null'])

/** The property: an AST that formats and re-parses to itself and evaluates without throwing, or INVALID_FILTER with a position. */
function check(text: string): void {
  let ast
  try {
    ast = parseFilter(text)
  } catch (e) {
    if (!(e instanceof LabbookError) || e.code !== 'INVALID_FILTER') throw new Error(`unexpected ${String(e)} for ${JSON.stringify(text)}`, { cause: e })
    const pos = e.data.position as number
    if (!(pos >= 0 && pos <= text.length)) throw new Error(`bad position ${pos} for ${JSON.stringify(text)}`)
    return
  }
  if (!AST_TYPES.has(ast.type)) throw new Error(`bad AST ${JSON.stringify(ast)}`)
  expect(parseFilter(formatFilter(ast))).toEqual(ast)
  runs.filter(compileFilter(ast))
}

const VOCAB = [
  'metrics.acc', 'metrics.loss', 'params.model', 'params.`learning rate`', 'tags."environment"', 'status', 'run_name', 'created',
  'source.dirty', 'duration', 'experiment', '`params`.model', 'metrics.', 'datasets.name', 'attributes.`Run Name`', 'metrics.точность',
  '=', '!=', '<>', '==', '<', '<=', '>', '>=', 'LIKE', 'ilike', 'IN', 'NOT', 'IS', 'NULL', 'AND', 'or', 'TRUE', 'false',
  '(', ')', ',', '.', "'GPT%'", "'it''s'", '"x"', '`k`', '0.5', '-1e3', '.5', '42', "'", '"', '`', '!', ';', '%', '_', '\n', 'é', '🚀',
]
const SEEDS = [
  "metrics.acc > 0.9 AND params.model = 'cnn'",
  "(metrics.loss > 0.85 OR metrics.accuracy > 0.85) AND status = 'FAILED'",
  "attributes.run_id IN ('a', 'b') AND NOT tags.`mlflow.user` ILIKE '%bot%'",
  'params.`learning rate` < 0.005 OR source.dirty = TRUE',
  'metrics."f1 score" IS NOT NULL AND duration >= 1000',
]

const tokenFilter = fc
  .array(fc.tuple(fc.constantFrom(...VOCAB), fc.constantFrom(' ', '', '  ')), { maxLength: 25 })
  .map((parts) => parts.map(([t, s]) => t + s).join(''))

const mutated = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.string({ maxLength: 3, unit: 'binary' })), { minLength: 1, maxLength: 4 }),
  )
  .map(([seed, edits]) => {
    let s = seed
    for (const [at, kind, text] of edits) {
      const i = at % (s.length + 1)
      if (kind === 0) s = s.slice(0, i) + s.slice(i + 1) // delete a character
      else if (kind === 1) s = s.slice(0, i) + text + s.slice(i) // insert
      else if (kind === 2) s = s.slice(0, i) + text + s.slice(i + text.length) // overwrite
      else s = s.slice(i) + ' ' + s.slice(0, i) // rotate
    }
    return s
  })

describe('fuzz: the parser returns an AST or throws INVALID_FILTER, and never hangs', () => {
  it('random unicode strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60, unit: 'binary' }), check), { numRuns: 3000 })
  })
  it('random token soups', () => {
    fc.assert(fc.property(tokenFilter, check), { numRuns: 4000 })
  })
  it('mutated valid filters', () => {
    fc.assert(fc.property(mutated, check), { numRuns: 4000 })
  })
  it('order-by items', () => {
    fc.assert(
      fc.property(tokenFilter, (item) => {
        try {
          searchRuns(runs, undefined, { orderBy: parseOrderBy([item]), limit: 3 })
        } catch (e) {
          if (!(e instanceof LabbookError) || e.code !== 'INVALID_FILTER') throw e
        }
      }),
      { numRuns: 2000 },
    )
  })
  it('stays fast on hostile inputs', () => {
    const t0 = performance.now()
    check('('.repeat(100_000))
    check('NOT '.repeat(50_000))
    check("'" + 'x'.repeat(1_000_000))
    check(Array.from({ length: 5000 }, (_, i) => `metrics.m${i} > ${i}`).join(' OR '))
    // A LIKE pattern that makes backtracking regex engines explode runs in linear-ish time here.
    const slow = [{ ...runs[0], name: 'a'.repeat(20_000) }]
    expect(searchRuns(slow, "run_name LIKE '" + '%a'.repeat(30) + "%b'")).toEqual([])
    expect(searchRuns(slow, "run_name LIKE '" + '%a_'.repeat(30) + "%b'")).toEqual([])
    expect(performance.now() - t0).toBeLessThan(5000)
  })
})
