/** The runs table's model: columns, filtering with the filter language, sorting, parent/child nesting. Browser-safe, no React. */
import { compileFilter, parseFilter } from '../query/index.js'
import type { RunSummary } from '../model/run.js'
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

/** Parses and compiles a filter once; the error message (with its caret line) when it does not parse. */
export function compileTableFilter(text: string): { pred: Predicate | null; error: string | null } {
  if (!text.trim()) return { pred: null, error: null }
  try {
    const p = compileFilter(parseFilter(text))
    return { pred: (r) => p(r as unknown as RunSummary), error: null }
  } catch (e) {
    return { pred: null, error: (e as Error).message }
  }
}

/** Missing values sort last in both directions; NaN after numbers. */
function cmp(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : a - b
  const x = String(a), y = String(b)
  return x < y ? -1 : x > y ? 1 : 0
}

export interface Row { run: TableRun; depth: number }

/**
 * Filters, sorts and nests: children follow their parent when both are shown.
 * @example tableRows(runs, compileTableFilter('metrics.acc > 0.9').pred, ATTR_COLUMNS[2], true)
 */
export function tableRows(runs: readonly TableRun[], pred: Predicate | null, col: Column, desc: boolean): Row[] {
  // Sorting is cached per column and direction; a keystroke in the filter only filters the sorted list (order is kept).
  const all = sortedRuns(runs, col, desc)
  const sorted = pred ? all.filter(pred) : all
  const parents = parentIds(runs)
  if (!parents.size) return sorted.map((run) => ({ run, depth: 0 }))
  // Only ids that some run names as parent go into sets: 10,000 rows cost 10,000 lookups in a small set.
  const shown = new Set<string>()
  for (const r of sorted) if (parents.has(r.id)) shown.add(r.id)
  const isChild = (r: TableRun) => r.parent !== undefined && r.parent !== r.id && shown.has(r.parent)
  const kids = new Map<string, TableRun[]>()
  for (const r of sorted) if (isChild(r)) (kids.get(r.parent!) ?? kids.set(r.parent!, []).get(r.parent!)!).push(r)
  const out: Row[] = []
  const placed = new Set<string>()
  const visit = (r: TableRun, depth: number) => {
    out.push({ run: r, depth })
    for (const c of kids.get(r.id) ?? []) if (!placed.has(c.id)) { placed.add(c.id); visit(c, depth + 1) }
  }
  for (const r of sorted) if (!isChild(r)) visit(r, 0)
  for (const r of sorted) if (isChild(r) && !placed.has(r.id)) { placed.add(r.id); visit(r, 0) } // parent cycles: show what is left flat
  return out
}

const sortCache = new WeakMap<readonly TableRun[], Map<string, TableRun[]>>()
/** The runs sorted by one column; missing values last in both directions. */
export function sortedRuns(runs: readonly TableRun[], col: Column, desc: boolean): TableRun[] {
  let byCol = sortCache.get(runs)
  if (!byCol) sortCache.set(runs, (byCol = new Map()))
  const key = `${col.id}\u0000${desc}`
  let out = byCol.get(key)
  if (out) return out
  // Decorate once: reading a cell per comparison would cost more than the sort itself at 10,000 rows.
  const keyed = runs.map((run) => ({ run, v: cellValue(run, col) }))
  keyed.sort((a, b) => {
    if (a.v === undefined || b.v === undefined) return a.v === b.v ? 0 : a.v === undefined ? 1 : -1
    const c = cmp(a.v, b.v)
    return desc ? -c : c
  })
  out = keyed.map((k) => k.run)
  byCol.set(key, out)
  return out
}

const parentCache = new WeakMap<readonly TableRun[], Set<string>>()
function parentIds(runs: readonly TableRun[]): Set<string> {
  let s = parentCache.get(runs)
  if (!s) {
    s = new Set()
    for (const r of runs) if (r.parent) s.add(r.parent)
    parentCache.set(runs, s)
  }
  return s
}
