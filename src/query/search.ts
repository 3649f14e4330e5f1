/** The one call most callers want: filter, sort, page. */
import type { RunSummary } from '../model/run.js'
import { LabbookError } from '../errors.js'
import type { FilterAst } from './ast.js'
import { compileFilter } from './evaluate.js'
import { type OrderClause, type TextOrder, parseOrderBy, sortRuns } from './order-by.js'
import { parseFilter } from './parser.js'

export interface SearchOptions {
  /** `KEY [ASC|DESC]` items (or parsed clauses). @default start_time DESC, then id */
  orderBy?: readonly string[] | readonly OrderClause[]
  /** At most this many runs. @default all */
  limit?: number
  /** Skip this many runs first (after sorting). @default 0 */
  offset?: number
  /** Experiment names by id, so `experiment = 'name'` works. */
  experimentNames?: Record<string, string>
  /** How params and tags sort: `'auto'` numerically when every value is a number (labbook's CLI and site), `'string'` always as text (MLflow's stores). @default 'auto' */
  textOrder?: TextOrder
}

/**
 * Filters, sorts and pages run summaries in memory.
 * @example searchRuns(runs, "metrics.acc > 0.9 AND params.model = 'cnn'", { orderBy: ['metrics.acc DESC'], limit: 10 })
 */
export function searchRuns(runs: readonly RunSummary[], filter?: string | FilterAst, o: SearchOptions = {}): RunSummary[] {
  const offset = o.offset ?? 0
  if (!Number.isInteger(offset) || offset < 0) throw new LabbookError('INVALID_ARGUMENT', `offset must be a whole number ≥ 0, got ${offset}.`)
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 0)) throw new LabbookError('INVALID_ARGUMENT', `limit must be a whole number ≥ 0, got ${o.limit}.`)
  const ast = filter === undefined ? undefined : typeof filter === 'string' ? parseFilter(filter) : filter
  const clauses = toClauses(o.orderBy)
  const matched = ast === undefined || ast.type === 'all' ? runs : runs.filter(compileFilter(ast, { experimentNames: o.experimentNames }))
  const need = o.limit === undefined ? undefined : offset + o.limit
  const sorted = sortRuns(matched, clauses, need, o.textOrder)
  return offset === 0 ? sorted : sorted.slice(offset)
}

function toClauses(orderBy: SearchOptions['orderBy']): OrderClause[] {
  if (!orderBy || orderBy.length === 0) return []
  if (typeof orderBy[0] === 'string') return parseOrderBy(orderBy as readonly string[])
  return [...(orderBy as readonly OrderClause[])]
}
