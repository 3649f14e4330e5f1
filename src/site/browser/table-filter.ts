/**
 * The runs table's filter over columns, so a keystroke costs what the filter reads, not one object walk per run.
 * Each field a filter names is read from every run once per list of runs (src/query `fieldGetter`, the same reader
 * `compileFilter` uses) into a column: a dictionary (the distinct values and one index per row) or, for a metric, a
 * Float64Array with a presence mask. A filter is then evaluated leaf by leaf into a mask, one byte per row: a
 * dictionary leaf's test (src/query `valueTest`: the filter language's own semantics, nothing redone here) runs once
 * per distinct value and the rows just look their value's answer up; a metric leaf runs once per row over the typed
 * array. No object is made per row, and AND only tests the rows its earlier items kept. Browser-safe.
 */
import { compileFilter, fieldGetter, formatFilter, parseFilter, valueTest, type FieldRef, type FieldValue, type FilterAst, type FilterLeaf } from '../../query/index.js'
import type { RunSummary } from '../../model/run.js'
import type { TableRun } from './snapshot.js'
import { finish, orderSteps, SLICE_ROWS, type Column } from './table.js'

/** One field's values for every row of a list. */
type FieldColumn = { kind: 'dict'; values: FieldValue[]; index: Int32Array } | NumberColumn
/** A number per row (`has[i]`: whether row i has one); `ascending`: its rows in ascending order, made when first needed. */
interface NumberColumn { kind: 'number'; values: Float64Array; has: Uint8Array; ascending?: Uint32Array }

/** Distinct numbers a dictionary column keeps before it becomes a number column (measurements are all distinct). */
const DICT_NUMBERS = 1024

const columnCache = new WeakMap<readonly TableRun[], Map<string, FieldColumn>>()

function column(runs: readonly TableRun[], f: FieldRef): FieldColumn {
  return cachedColumn(runs, f) ?? finish(columnSteps(runs, f))
}

function cachedColumn(runs: readonly TableRun[], f: FieldRef): FieldColumn | undefined {
  return columnCache.get(runs)?.get(`${f.kind}\u0000${f.key}`)
}

/** Reads one field of every run into a column (cached per list), yielding every SLICE_ROWS rows. */
function* columnSteps(runs: readonly TableRun[], f: FieldRef): Generator<void, FieldColumn> {
  const c = yield* buildColumn(runs, fieldGetter(f) as unknown as (r: TableRun) => FieldValue, f.kind === 'metric')
  // a keystroke may have read it meanwhile: the first one read is the one kept
  const had = cachedColumn(runs, f)
  if (had) return had
  let cols = columnCache.get(runs)
  if (!cols) columnCache.set(runs, (cols = new Map()))
  cols.set(`${f.kind}\u0000${f.key}`, c)
  return c
}

function* buildColumn(runs: readonly TableRun[], get: (r: TableRun) => FieldValue, measured: boolean): Generator<void, FieldColumn> {
  // The loops are plain functions called once per slice (orderSteps says why).
  const n = runs.length
  if (measured) return yield* numberColumn(runs, get)
  const d: DictReader = { index: new Int32Array(n), values: [], pos: new Map(), numbers: true }
  for (let from = 0; from < n; from += SLICE_ROWS) {
    if (!readDict(runs, get, d, from, Math.min(n, from + SLICE_ROWS))) return yield* numberColumn(runs, get)
    yield
  }
  return { kind: 'dict', values: d.values, index: d.index }
}

interface DictReader { index: Int32Array; values: FieldValue[]; pos: Map<FieldValue, number>; numbers: boolean }

/** Reads rows `from…to` into a dictionary column; false when it turns out to be a column of measurements (too many distinct numbers). */
function readDict(runs: readonly TableRun[], get: (r: TableRun) => FieldValue, d: DictReader, from: number, to: number): boolean {
  const { index, values, pos } = d
  for (let i = from; i < to; i++) {
    const v = get(runs[i]!)
    if (v === undefined) { index[i] = -1; continue }
    if (typeof v !== 'number') d.numbers = false
    // A Map key is SameValueZero: NaN is one value, 0 and -0 share one (the filter language cannot tell them apart).
    let k = pos.get(v)
    if (k === undefined) {
      if (d.numbers && values.length >= DICT_NUMBERS) return false
      k = values.length
      values.push(v)
      pos.set(v, k)
    }
    index[i] = k
  }
  return true
}

function* numberColumn(runs: readonly TableRun[], get: (r: TableRun) => FieldValue): Generator<void, FieldColumn> {
  const n = runs.length, values = new Float64Array(n), has = new Uint8Array(n)
  for (let from = 0; from < n; from += SLICE_ROWS) {
    // a number column with a text value: keep every value as it is
    if (!readNumbers(runs, get, values, has, from, Math.min(n, from + SLICE_ROWS))) return dictOfAll(runs, get)
    yield
  }
  return { kind: 'number', values, has }
}

/** Reads rows `from…to` into a number column; false at a value that is neither a number nor missing. */
function readNumbers(runs: readonly TableRun[], get: (r: TableRun) => FieldValue, values: Float64Array, has: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const v = get(runs[i]!)
    if (typeof v === 'number') { values[i] = v; has[i] = 1 }
    else if (v !== undefined) return false
  }
  return true
}

function dictOfAll(runs: readonly TableRun[], get: (r: TableRun) => FieldValue): FieldColumn {
  const n = runs.length, index = new Int32Array(n), values: FieldValue[] = new Array(n)
  for (let i = 0; i < n; i++) { const v = get(runs[i]!); values[i] = v; index[i] = v === undefined ? -1 : i }
  return { kind: 'dict', values, index }
}

/**
 * The rows of `runs` a parsed filter keeps: 1 per kept row. Same answer as `runs.filter(compileFilter(ast))`
 * (test/site/table-filter.test.ts), at a cost of one pass per leaf over the rows still in play.
 * @example filterMask(runs, parseFilter("metrics.acc > 0.9 and params.model = 'cnn'")).reduce((a, b) => a + b, 0)
 */
export function filterMask(runs: readonly TableRun[], ast: FilterAst): Uint8Array {
  return evaluate(runs, ast, null)
}

/** The mask of `ast` over the rows of `within` (every row when null); never writes `within`. */
function evaluate(runs: readonly TableRun[], ast: FilterAst, within: Uint8Array | null): Uint8Array {
  const n = runs.length
  switch (ast.type) {
    case 'all':
      return within ? within.slice() : new Uint8Array(n).fill(1)
    case 'and': {
      let m = within
      for (const item of ast.items) m = evaluate(runs, item, m)
      return m ?? new Uint8Array(n).fill(1)
    }
    case 'or': {
      const out = new Uint8Array(n)
      for (const item of ast.items) {
        const m = evaluate(runs, item, within)
        for (let i = 0; i < n; i++) out[i] |= m[i]!
      }
      return out
    }
    case 'not': {
      const m = evaluate(runs, ast.item, within)
      const out = new Uint8Array(n)
      for (let i = 0; i < n; i++) out[i] = (within === null || within[i] === 1) && m[i] === 0 ? 1 : 0
      return out
    }
    default:
      return leafMask(runs, ast, within)
  }
}

function leafMask(runs: readonly TableRun[], ast: FilterLeaf, within: Uint8Array | null): Uint8Array {
  const n = runs.length, out = new Uint8Array(n)
  if (ast.field.kind === 'dataset') {
    // datasets are a list per run (rare in a table): the library's predicate on the run itself
    const p = compileFilter(ast)
    for (let i = 0; i < n; i++) if ((within === null || within[i] === 1) && p(runs[i] as unknown as RunSummary)) out[i] = 1
    return out
  }
  const test = valueTest(ast)
  const c = column(runs, ast.field)
  if (c.kind === 'dict') {
    // the test once per distinct value; answer[0] is a row without the field
    const answer = new Uint8Array(c.values.length + 1)
    answer[0] = test(undefined) ? 1 : 0
    for (let k = 0; k < c.values.length; k++) answer[k + 1] = test(c.values[k]) ? 1 : 0
    const index = c.index
    if (within === null) for (let i = 0; i < n; i++) out[i] = answer[index[i]! + 1]!
    else for (let i = 0; i < n; i++) if (within[i] === 1) out[i] = answer[index[i]! + 1]!
    return out
  }
  const { values, has } = c
  const none = test(undefined) ? 1 : 0
  if (ast.type === 'compare' && typeof ast.value === 'number' && ast.op !== '=' && ast.op !== '!=') return rangeMask(c, test, ast.op === '<' || ast.op === '<=', none, within, out)
  for (let i = 0; i < n; i++) {
    if (within !== null && within[i] === 0) continue
    out[i] = has[i] === 1 ? (test(values[i]) ? 1 : 0) : none
  }
  return out
}

/**
 * `<`, `<=`, `>`, `>=` against a number over a number column, without testing every row: the test is true on a prefix
 * (`<`, `<=`) or a suffix (`>`, `>=`) of the column's numbers in ascending order, so a binary search with the filter
 * language's own test finds where (about 17 tests at 100,000 rows), and only the rows it keeps are written. NaN and
 * missing values are tested once each.
 */
function rangeMask(c: NumberColumn, test: (v: FieldValue) => boolean, prefix: boolean, none: number, within: Uint8Array | null, out: Uint8Array): Uint8Array {
  const { values, has } = c
  const order = ascending(c), m = order.length
  let lo = 0, hi = m
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (test(values[order[mid]!]!) === prefix) lo = mid + 1
    else hi = mid
  }
  const from = prefix ? 0 : lo, to = prefix ? lo : m
  if (within === null) for (let k = from; k < to; k++) out[order[k]!] = 1
  else for (let k = from; k < to; k++) { const i = order[k]!; if (within[i] === 1) out[i] = 1 }
  const nan = test(Number.NaN) ? 1 : 0
  if (none || nan) {
    for (let i = 0; i < out.length; i++) {
      if (within !== null && within[i] === 0) continue
      if (has[i] === 0) out[i] = none
      else if (Number.isNaN(values[i]!)) out[i] = nan
    }
  }
  return out
}

/** The rows of a number column that hold a number (not NaN), in ascending order of it; once per column. */
function ascending(c: NumberColumn): Uint32Array {
  return c.ascending ?? finish(ascendingSteps(c))
}

function* ascendingSteps(c: NumberColumn): Generator<void, Uint32Array> {
  const { values, has } = c
  const rows = new Uint32Array(values.length)
  let m = 0
  for (let i = 0; i < values.length; i++) if (has[i] === 1 && !Number.isNaN(values[i]!)) rows[m++] = i
  yield
  const order = yield* orderSteps(values, rows.subarray(0, m), false)
  return (c.ascending ??= order)
}

// ------------------------------------------------------------------ ahead of the first keystroke

/** Attributes read ahead besides the key columns: the ones a table's filter names most, each a small dictionary. */
const READ_AHEAD_ATTRIBUTES = ['status', 'user_id', 'source.commit', 'duration']
/** At most this many fields are read ahead (a column is 0.4–0.8 MB at 100,000 runs). */
const READ_AHEAD_MAX = 40

/**
 * The fields worth reading into columns before anyone types: the primary metrics, the other metrics, params and tags
 * (in the table's column order), then a few attributes; at most READ_AHEAD_MAX.
 * @example readAheadFields(orderColumns(keyColumns(runs), ['acc']), ['acc'])[0] // { kind: 'metric', key: 'acc' }
 */
export function readAheadFields(columns: readonly Column[], primary: readonly string[]): FieldRef[] {
  const out: FieldRef[] = primary.map((key) => ({ kind: 'metric', key }))
  for (const c of columns) if (c.kind !== 'attr' && !(c.kind === 'metric' && primary.includes(c.key))) out.push({ kind: c.kind, key: c.key })
  out.splice(Math.max(0, READ_AHEAD_MAX - READ_AHEAD_ATTRIBUTES.length), Infinity, ...READ_AHEAD_ATTRIBUTES.map((key): FieldRef => ({ kind: 'attribute', key })))
  return out
}

/**
 * Reads `fields` into the columns `filterMask` uses, ahead of the keystroke that first names one (and a number
 * column's ascending order, for `<`/`>`), about SLICE_ROWS rows of work per step: whoever drives it (the table, while
 * the browser is idle) can stop between any two steps, so a keystroke waits for one slice at most, never a whole
 * column (tens of milliseconds at 100,000 runs). A column a keystroke read meanwhile is not read again.
 * @example for (const _ of prepareSteps(runs, readAheadFields(columns, ['acc']))) if (deadline.timeRemaining() < 4) break
 */
export function* prepareSteps(runs: readonly TableRun[], fields: readonly FieldRef[]): Generator<void, void> {
  for (const f of fields) {
    if (f.kind === 'dataset') continue
    const c = cachedColumn(runs, f) ?? (yield* columnSteps(runs, f))
    if (c.kind === 'number' && !c.ascending) { yield; yield* ascendingSteps(c) }
    yield
  }
}

/**
 * Runs the filter language's parser (good filters and half-typed ones, whose errors carry a caret line) and this
 * module's evaluation once over a few rows, so that their code is compiled before the first keystroke needs it: the
 * browser compiles a function the first time it runs, and the first keystroke paid for all of it (about 100 ms).
 */
export function warmFilter(runs: readonly TableRun[]): void {
  const sample = runs.slice(0, 8)
  for (const text of ["metrics.m >= 0.5 and params.p = 'a' or not tags.t like 'b%'", "params.p in ('a', 'b') and attributes.status != 'FAILED'", 'metrics.m >', "params.p = 'a", 'm']) {
    try {
      const ast = parseFilter(text)
      formatFilter(ast)
      compileFilter(ast)
      evaluate(sample, ast, null)
    } catch {
      // a half-typed filter: its error message is the work done
    }
  }
}
