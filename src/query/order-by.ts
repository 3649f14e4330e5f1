/** order_by clauses ("metrics.acc DESC") and sorting, MLflow's way: missing values last in either direction, ties by start_time DESC then id. */
import type { RunSummary } from '../model/run.js'
import type { FieldRef } from './ast.js'
import { formatField } from './ast.js'
import { asNumber, asText, fieldGetter, fieldType, type FieldValue } from './fields.js'
import { Parser } from './parser.js'
import { tokenize } from './tokenizer.js'

export interface OrderClause {
  field: FieldRef
  ascending: boolean
}

const ORDER_HINT = 'Write KEY [ASC|DESC], e.g. "metrics.acc DESC" or "start_time".'

/**
 * Parses order-by items; each is `KEY [ASC|DESC]` (default ASC, as in MLflow), and an item may hold several, comma-separated.
 * @example parseOrderBy(['metrics.acc DESC', 'params.lr']) // [{ field: {kind:'metric',key:'acc'}, ascending: false }, …]
 */
export function parseOrderBy(items: readonly string[]): OrderClause[] {
  const out: OrderClause[] = []
  for (const item of items) {
    const p = new Parser(item, tokenize(item, 'order-by'), 'order-by')
    if (p.peek().type === 'eof') throw p.err(p.peek(), 'empty order-by item', ORDER_HINT)
    for (;;) {
      const { field } = p.field()
      let ascending = true
      const t = p.peek()
      if (p.isWord(t, 'ASC') || p.isWord(t, 'DESC')) {
        ascending = p.isWord(t, 'ASC')
        p.next()
      }
      out.push({ field, ascending })
      const n = p.next()
      if (n.type === 'eof') break
      if (n.type !== 'comma') throw p.err(n, `expected ASC, DESC or the end after ${formatField(field)}, found ${p.describe(n)}`, ORDER_HINT)
    }
  }
  return out
}

export function formatOrderBy(c: OrderClause): string {
  return `${formatField(c.field)} ${c.ascending ? 'ASC' : 'DESC'}`
}

// Per run and clause: 0 = has a value, 1 = NaN, 2 = missing. NaN sorts after numbers and before missing values, either direction (MLflow).
const VALUE = 0, NAN = 1, MISSING = 2

interface SortKey {
  cls: Uint8Array
  num?: Float64Array
  str?: (string | undefined)[]
  sign: number
}

/** How params and tags sort: numerically when every value is a number (`'auto'`), or always as text (`'string'`, MLflow). */
export type TextOrder = 'auto' | 'string'

function sortKey(runs: readonly RunSummary[], c: OrderClause, textOrder: TextOrder): SortKey {
  const get = fieldGetter(c.field)
  const n = runs.length
  const cls = new Uint8Array(n)
  const type = fieldType(c.field)
  const sign = c.ascending ? 1 : -1
  if (type === 'number' || type === 'boolean') {
    // One pass straight into a typed array: the common case (metrics, times) allocates nothing per run.
    const num = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const v = get(runs[i])
      if (v === undefined) cls[i] = MISSING
      else {
        const x = typeof v === 'number' ? v : Number(v)
        if (x !== x) cls[i] = NAN
        else num[i] = x
      }
    }
    return { cls, num, sign }
  }
  const values = new Array<FieldValue>(n)
  for (let i = 0; i < n; i++) {
    const v = get(runs[i])
    values[i] = v
    if (v === undefined) cls[i] = MISSING
  }
  // Params and tags: numerically when every present value is a number (so 10 sorts after 9), else as text like MLflow.
  let numeric = type === 'text' && textOrder === 'auto'
  for (let i = 0; i < n && numeric; i++) if (cls[i] !== MISSING && asNumber(values[i]) === undefined) numeric = false
  if (numeric) {
    const num = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      if (cls[i] === MISSING) continue
      const x = asNumber(values[i])!
      if (x !== x) cls[i] = NAN
      else num[i] = x
    }
    return { cls, num, sign }
  }
  const str = new Array<string | undefined>(n)
  for (let i = 0; i < n; i++) str[i] = asText(values[i])
  return { cls, str, sign }
}

/**
 * Sorts runs (a new array) by the clauses, then start_time DESC, then id; runs missing a key sort last whichever the direction.
 * With `limit`, only the first `limit` are fully ordered and returned (a bounded insertion buffer: fast for top-N of 100,000).
 * @example sortRuns(runs, parseOrderBy(['metrics.acc DESC']))
 */
export function sortRuns(runs: readonly RunSummary[], clauses: readonly OrderClause[] = [], limit?: number, textOrder: TextOrder = 'auto'): RunSummary[] {
  const n = runs.length
  const keys = clauses.map((c) => sortKey(runs, c, textOrder))
  const start = new Float64Array(n)
  for (let i = 0; i < n; i++) start[i] = runs[i].startTime
  const cmp = (a: number, b: number): number => {
    for (const k of keys) {
      const ca = k.cls[a], cb = k.cls[b]
      if (ca !== cb) return ca - cb
      if (ca !== VALUE) continue
      if (k.num) {
        const x = k.num[a], y = k.num[b]
        if (x !== y) return x < y ? -k.sign : k.sign
      } else {
        const x = k.str![a]!, y = k.str![b]!
        if (x !== y) return x < y ? -k.sign : k.sign
      }
    }
    if (start[a] !== start[b]) return start[b] - start[a]
    const ia = runs[a].id, ib = runs[b].id
    return ia < ib ? -1 : ia > ib ? 1 : a - b
  }
  if (limit !== undefined && limit >= 0 && limit < n / 4) return topK(n, limit, cmp).map((i) => runs[i])
  const idx = Array.from({ length: n }, (_, i) => i)
  idx.sort(cmp)
  const out = idx.map((i) => runs[i])
  return limit !== undefined && limit >= 0 ? out.slice(0, limit) : out
}

// Keeps the k smallest indices in order: binary search plus splice into a buffer of at most k.
function topK(n: number, k: number, cmp: (a: number, b: number) => number): number[] {
  const buf: number[] = []
  if (k === 0) return buf
  for (let i = 0; i < n; i++) {
    if (buf.length === k && cmp(i, buf[k - 1]) >= 0) continue
    let lo = 0, hi = buf.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cmp(i, buf[mid]) < 0) hi = mid
      else lo = mid + 1
    }
    buf.splice(lo, 0, i)
    if (buf.length > k) buf.pop()
  }
  return buf
}
