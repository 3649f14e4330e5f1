/** The runs table's model: columns, filtering with the filter language, sorting, parent/child nesting. Browser-safe, no React. */
import { compileFilter, parseFilter, type FilterAst } from '../../query/index.js'
import type { RunSummary } from '../../model/run.js'
import type { TableRun } from './snapshot.js'

export type ColumnKind = 'param' | 'metric' | 'tag' | 'attr'
export interface Column { id: string; kind: ColumnKind; key: string; label: string; num?: boolean }

export const ATTR_COLUMNS: Column[] = [
  { id: 'attr:name', kind: 'attr', key: 'name', label: 'Run' },
  { id: 'attr:status', kind: 'attr', key: 'status', label: 'Status' },
  { id: 'attr:start', kind: 'attr', key: 'start', label: 'Started', num: true },
  { id: 'attr:duration', kind: 'attr', key: 'duration', label: 'Duration', num: true },
  { id: 'attr:commit', kind: 'attr', key: 'commit', label: 'Commit' },
  { id: 'attr:user', kind: 'attr', key: 'user', label: 'User' },
]

export function cellValue(r: TableRun, c: Column): string | number | boolean | undefined {
  switch (c.kind) {
    case 'param': return r.params[c.key]
    case 'metric': return r.metrics[c.key]?.value
    case 'tag': return r.tags[c.key]
  }
  switch (c.key) {
    case 'name': return r.name
    case 'status': return r.status
    case 'start': return r.startTime
    case 'duration': return r.duration
    case 'commit': return r.source?.commit
    case 'user': return r.user
  }
  return undefined
}

/** Every metric, param and tag key present, as columns (metrics first). */
export function keyColumns(runs: readonly TableRun[]): Column[] {
  const k = { metric: new Set<string>(), param: new Set<string>(), tag: new Set<string>() }
  for (const r of runs) {
    for (const m in r.metrics) k.metric.add(m)
    for (const p in r.params) k.param.add(p)
    for (const t in r.tags) k.tag.add(t)
  }
  return [
    ...[...k.metric].sort().map((m): Column => ({ id: `metric:${m}`, kind: 'metric', key: m, label: m, num: true })),
    ...[...k.param].sort().map((p): Column => ({ id: `param:${p}`, kind: 'param', key: p, label: p })),
    ...[...k.tag].sort().map((t): Column => ({ id: `tag:${t}`, kind: 'tag', key: t, label: t })),
  ]
}

export type Predicate = (r: TableRun) => boolean

/** A filter compiled once per keystroke: its AST (for `filterMask`), a predicate over one run, or the parse error (with its caret line). */
export interface TableFilter { ast: FilterAst | null; pred: Predicate | null; error: string | null }

/** Parses and compiles a filter once; the error message (with its caret line) when it does not parse. */
export function compileTableFilter(text: string): TableFilter {
  if (!text.trim()) return { ast: null, pred: null, error: null }
  try {
    const ast = parseFilter(text)
    const p = compileFilter(ast)
    return { ast, pred: (r) => p(r as unknown as RunSummary), error: null }
  } catch (e) {
    return { ast: null, pred: null, error: (e as Error).message }
  }
}

/** Missing values sort last in both directions; NaN after numbers. */
function cmp(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : a - b
  const x = String(a), y = String(b)
  return x < y ? -1 : x > y ? 1 : 0
}

export interface Row { run: TableRun; depth: number }

/** The table's rows without one object per row: `index[k]` is the k-th row's position in the runs, `depth[k]` its nesting. */
export interface RowList { index: Uint32Array; depth: Uint16Array; length: number }

/**
 * Filters, sorts and nests: children follow their parent when both are shown.
 * @example tableRows(runs, compileTableFilter('metrics.acc > 0.9').pred, ATTR_COLUMNS[2], true)
 */
export function tableRows(runs: readonly TableRun[], pred: Predicate | null, col: Column, desc: boolean): Row[] {
  let shown: Uint8Array | null = null
  if (pred) { shown = new Uint8Array(runs.length); for (let i = 0; i < runs.length; i++) if (pred(runs[i]!)) shown[i] = 1 }
  return rowsOf(runs, rowList(runs, shown, col, desc))
}

/** Row objects for part of a list (a page): only what is drawn gets one. */
export function rowsOf(runs: readonly TableRun[], list: RowList, from = 0, to = list.length): Row[] {
  const out: Row[] = []
  for (let k = Math.max(0, from); k < Math.min(to, list.length); k++) out.push({ run: runs[list.index[k]!]!, depth: list.depth[k]! })
  return out
}

/**
 * The shown rows (`shown[i] === 1`; every row when null, e.g. `filterMask`'s answer) in sort order, children after
 * their parent when both are shown. Works on indices (the sort order is cached per list): after a sort the run objects
 * lie scattered in memory, and reading them in sorted order cost several times more than the filter itself.
 * @example rowList(runs, filterMask(runs, parseFilter('metrics.acc > 0.9')), ATTR_COLUMNS[2], true).length
 */
export function rowList(runs: readonly TableRun[], shown: Uint8Array | null, col: Column, desc: boolean): RowList {
  const n = runs.length
  const ix = indexOf(runs)
  const order = sortOrder(runs, col, desc)
  const index = new Uint32Array(n), depth = new Uint16Array(n)
  let len = 0
  if (!ix.hasChildren) {
    if (shown === null) index.set(order)
    else for (let k = 0; k < n; k++) { const i = order[k]!; if (shown[i] === 1) index[len++] = i }
    return { index, depth, length: shown === null ? n : len }
  }
  // Plain loops over typed arrays, no closure per row: at 100,000 rows this runs at every keystroke.
  const parent = ix.parent
  const on = shown ?? ix.all
  // Children of each shown parent, in sorted order: counted, then laid out parent by parent (start[p] .. start[p+1]).
  const start = new Int32Array(n + 1)
  for (let k = 0; k < n; k++) {
    const i = order[k]!, p = parent[i]!
    if (p >= 0 && on[i] === 1 && on[p] === 1) start[p + 1]!++
  }
  for (let p = 0; p < n; p++) start[p + 1]! += start[p]!
  const fill = start.slice(0, n), kids = new Uint32Array(start[n]!)
  for (let k = 0; k < n; k++) {
    const i = order[k]!, p = parent[i]!
    if (p >= 0 && on[i] === 1 && on[p] === 1) kids[fill[p]!++] = i
  }
  const placed = new Uint8Array(n)
  // depth-first, children in sorted order; a stack instead of recursion (a long chain of parents)
  const stack = new Uint32Array(n), stackDepth = new Uint16Array(n)
  for (let pass = 0; pass < 2; pass++) {
    for (let k = 0; k < n; k++) {
      const root = order[k]!
      if (on[root] !== 1 || placed[root] === 1) continue
      // first pass: the rows whose parent is not shown; second: what is left (parent cycles), flat
      if (pass === 0) { const p = parent[root]!; if (p >= 0 && on[p] === 1) continue }
      let top = 0
      stack[top] = root
      stackDepth[top++] = 0
      while (top > 0) {
        const i = stack[--top]!, d = stackDepth[top]!
        if (placed[i] === 1) continue
        placed[i] = 1
        index[len] = i
        depth[len++] = d
        const from = start[i]!
        for (let c = start[i + 1]! - 1; c >= from; c--) { const kid = kids[c]!; if (placed[kid] !== 1) { stack[top] = kid; stackDepth[top++] = d < 0xffff ? d + 1 : d } }
      }
    }
  }
  return { index, depth, length: len }
}

/**
 * The rows on screen: children show under their parent only while it is open (`isOpen(run)`; runs without a child
 * summary are never asked).
 */
export function openRows(runs: readonly TableRun[], list: RowList, isOpen: (r: TableRun) => boolean): RowList {
  const ix = indexOf(runs)
  if (!ix.hasChildren) return list
  const n = list.length, index = new Uint32Array(n), depth = new Uint16Array(n)
  const from = list.index, fromDepth = list.depth, summary = ix.summary
  let len = 0, hideBelow = Infinity
  for (let k = 0; k < n; k++) {
    const i = from[k]!, d = fromDepth[k]!
    if (d > hideBelow) continue
    hideBelow = Infinity
    index[len] = i
    depth[len++] = d
    if (summary[i] === 1 && !isOpen(runs[i]!)) hideBelow = d
  }
  return { index, depth, length: len }
}

interface Index { parent: Int32Array; hasChildren: boolean; summary: Uint8Array; orders: Map<string, Uint32Array>; /** every row shown */ all: Uint8Array }
const indexCache = new WeakMap<readonly TableRun[], Index>()
function indexOf(runs: readonly TableRun[]): Index {
  let ix = indexCache.get(runs)
  if (!ix) {
    const pos = new Map<string, number>()
    runs.forEach((r, i) => pos.set(r.id, i))
    const parent = new Int32Array(runs.length).fill(-1), summary = new Uint8Array(runs.length)
    let hasChildren = false
    runs.forEach((r, i) => {
      const p = r.parent === undefined ? undefined : pos.get(r.parent)
      if (p !== undefined && p !== i) { parent[i] = p; hasChildren = true }
      if (r.summary) summary[i] = 1
    })
    indexCache.set(runs, (ix = { parent, hasChildren, summary, orders: new Map(), all: new Uint8Array(runs.length).fill(1) }))
  }
  return ix
}

/** Indices of `runs` sorted by one column (missing values last in both directions), cached per column and direction. */
export function sortOrder(runs: readonly TableRun[], col: Column, desc: boolean): Uint32Array {
  const ix = indexOf(runs)
  const key = `${col.id}\u0000${desc}`
  let order = ix.orders.get(key)
  if (order) return order
  order = numberOrder(runs, col, desc)
  if (!order) {
    // Decorate once: reading a cell per comparison would cost more than the sort itself at 10,000 rows.
    const keyed = runs.map((run, i) => ({ i, v: cellValue(run, col) }))
    keyed.sort((a, b) => {
      if (a.v === undefined || b.v === undefined) return a.v === b.v ? a.i - b.i : a.v === undefined ? 1 : -1
      const c = cmp(a.v, b.v)
      return (desc ? -c : c) || a.i - b.i
    })
    order = Uint32Array.from(keyed, (k) => k.i)
  }
  ix.orders.set(key, order)
  return order
}

/**
 * `sortOrder` for a column of numbers (metrics, start, duration), without a comparison per pair: the numbers sorted
 * natively, then each row placed at its value's next slot, so ties keep row order. The same order as the comparison
 * (numbers, then NaN, ascending; NaN first then numbers descending; missing last; ties by row). Undefined when a
 * value is not a number.
 */
function numberOrder(runs: readonly TableRun[], col: Column, desc: boolean): Uint32Array | undefined {
  const n = runs.length
  const values = new Float64Array(n), kind = new Uint8Array(n) // 0 number, 1 NaN, 2 missing
  const numbered = new Uint32Array(n)
  let count = 0, nan = 0
  for (let i = 0; i < n; i++) {
    const v = cellValue(runs[i]!, col)
    if (v === undefined) kind[i] = 2
    else if (typeof v !== 'number') return undefined
    else if (Number.isNaN(v)) { kind[i] = 1; nan++ }
    else { values[i] = v; numbered[count++] = i }
  }
  const out = new Uint32Array(n)
  out.set(orderByNumber(values, numbered.subarray(0, count), desc), desc ? nan : 0)
  let nanAt = desc ? 0 : count, missingAt = count + nan
  for (let i = 0; i < n; i++) {
    const k = kind[i]
    if (k === 1) out[nanAt++] = i
    else if (k === 2) out[missingAt++] = i
  }
  return out
}

/** Whether this machine stores numbers little-endian (every browser's does): which 32-bit half of a double is its high one. */
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0

/**
 * `rows` (indices into `values`; none NaN) ordered by their number, ascending or descending, ties in the order given
 * (0 and -0 tie, as `a - b` says), without a comparison per pair: a radix sort of the doubles' bits, 16 at a time. At
 * 100,000 rows a comparator sort costs 50-100 ms, this a few. Both the table's number columns (`sortOrder`) and the
 * filter's (table-filter.ts, for `<`/`>` over a sorted column) are ordered by it.
 * @example Array.from(orderByNumber(Float64Array.of(2, 1, 2, -0, 0), Uint32Array.of(0, 1, 2, 3, 4), false)) // [3, 4, 1, 0, 2]
 */
export function orderByNumber(values: Float64Array, rows: Uint32Array, desc: boolean): Uint32Array {
  return finish(orderSteps(values, rows, desc))
}

/** `orderByNumber` a slice at a time: yields after about SLICE_ROWS rows of work (see `finish`). */
export function* orderSteps(values: Float64Array, rows: Uint32Array, desc: boolean): Generator<void, Uint32Array> {
  // The loops are plain functions called once per slice: the browser compiles a function that is called often, not
  // a generator resumed often (its first column would run uncompiled: 100-200 ms instead of 15).
  const n = rows.length, hi = new Uint32Array(n), lo = new Uint32Array(n)
  for (let from = 0; from < n; from += SLICE_ROWS) { sortKeys(values, rows, desc, hi, lo, from, Math.min(n, from + SLICE_ROWS)); yield }
  let order = new Uint32Array(n), next = new Uint32Array(n)
  for (let k = 0; k < n; k++) order[k] = k
  const count = new Uint32Array(65536)
  for (const [key, shift] of [[lo, 0], [lo, 16], [hi, 0], [hi, 16]] as const) {
    if (!digitStarts(key, shift, count)) continue // every row has this digit: nothing to move
    yield
    for (let from = 0; from < n; from += SLICE_ROWS) { moveByDigit(key, shift, count, order, next, from, Math.min(n, from + SLICE_ROWS)); yield }
    ;[order, next] = [next, order]
  }
  for (let j = 0; j < n; j++) order[j] = rows[order[j]!]!
  return order
}

/** Each double of `rows[from…to)` as two 32-bit keys that sort as unsigned numbers in the double's order (descending: inverted). */
function sortKeys(values: Float64Array, rows: Uint32Array, desc: boolean, hi: Uint32Array, lo: Uint32Array, from: number, to: number): void {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length * 2)
  for (let k = from; k < to; k++) {
    const i = rows[k]!
    let h = bits[2 * i + HIGH]!, l = bits[2 * i + 1 - HIGH]!
    if (h === 0x80000000 && l === 0) h = 0 // -0 is 0
    if (h & 0x80000000) { h = ~h; l = ~l } else h |= 0x80000000
    hi[k] = desc ? ~h : h
    lo[k] = desc ? ~l : l
  }
}

/** Where each 16-bit digit's rows start in the next order (`count`); false when every key has the same digit. */
function digitStarts(key: Uint32Array, shift: number, count: Uint32Array): boolean {
  const n = key.length
  count.fill(0)
  for (let k = 0; k < n; k++) count[(key[k]! >>> shift) & 0xffff]!++
  if (n === 0 || count[(key[0]! >>> shift) & 0xffff] === n) return false
  for (let d = 0, at = 0; d < 65536; d++) { const c = count[d]!; count[d] = at; at += c }
  return true
}

/** One radix pass over `order[from…to)`: each row to its digit's next place in `next` (stable). */
function moveByDigit(key: Uint32Array, shift: number, count: Uint32Array, order: Uint32Array, next: Uint32Array, from: number, to: number): void {
  for (let j = from; j < to; j++) { const k = order[j]!; next[count[(key[k]! >>> shift) & 0xffff]!++] = k }
}

/**
 * Rows of work between two steps of a sliced job (a column read, a sort): a few milliseconds at most, so a keystroke
 * that arrives during a job the page runs while idle waits for one slice, not the job.
 */
export const SLICE_ROWS = 16384

/** Runs a sliced job (a generator of steps) to its end at once and returns what it makes. */
export function finish<T>(steps: Generator<void, T>): T {
  for (;;) { const s = steps.next(); if (s.done) return s.value }
}
