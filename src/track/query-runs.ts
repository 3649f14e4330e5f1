/**
 * `queryRuns`: listRuns + filter + order + limit over the listing table (src/store/listing.ts), with the query
 * library's own rules (src/query: compileFilter, sortRuns), so the answer is the one `searchRuns(listRuns())` gives.
 * The filter and the order run over thin run objects that hold only the fields they name; only the rows picked are
 * parsed into full run summaries. Without a filter and an order, rows are already in listRuns order and the scan
 * stops at the limit.
 */
import { LabbookError } from '../errors.js'
import type { RunSummary } from '../model/run.js'
import { compileFilter, filterFields, parseFilter, parseOrderBy, sortRuns, type FieldRef, type FilterAst, type OrderClause } from '../query/index.js'
import type { SearchOptions } from '../query/index.js'
import type { AttributeColumn, Column, ColumnName, ListingTable } from '../store/listing.js'

export interface QueryRunsOptions extends Omit<SearchOptions, 'experimentNames'> {
  /** Experiment id to list (resolved by the caller); all experiments when omitted. */
  experimentId?: string
  /** Include runs whose lifecycle is `deleted`. @default false */
  includeDeleted?: boolean
  /** Only runs of a code commit whose id starts with this (lower-case hex). */
  commit?: string
  /** MLflow-style filter text or AST. */
  filter?: string | FilterAst
  /** Experiment names by id, so `experiment = 'name'` works. */
  experimentNames?: Record<string, string>
}

/** Which attribute columns an attribute field reads (src/query/fields.ts ATTRIBUTES getters). */
const ATTRIBUTE_NEEDS: Record<string, AttributeColumn[]> = {
  run_id: ['id'], artifact_uri: ['id'], run_name: ['name'], status: ['status'], user_id: ['user'], start_time: ['startTime'],
  end_time: ['endTime'], duration: ['endTime', 'startTime'], lifecycle_stage: ['lifecycle'], experiment: ['experiment'],
  'source.commit': ['source.commit'], 'source.branch': ['source.branch'], 'source.dirty': ['source.dirty'], parent: ['parent'],
}

interface Plan { ast: FilterAst | undefined; clauses: OrderClause[]; offset: number; fields: FieldRef[] }

function plan(o: QueryRunsOptions): Plan {
  const offset = o.offset ?? 0
  if (!Number.isInteger(offset) || offset < 0) throw new LabbookError('INVALID_ARGUMENT', `offset must be a whole number ≥ 0, got ${offset}.`)
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 0)) throw new LabbookError('INVALID_ARGUMENT', `limit must be a whole number ≥ 0, got ${o.limit}.`)
  const ast = o.filter === undefined ? undefined : typeof o.filter === 'string' ? parseFilter(o.filter) : o.filter
  const clauses: OrderClause[] = !o.orderBy || o.orderBy.length === 0 ? [] : typeof o.orderBy[0] === 'string' ? parseOrderBy(o.orderBy as readonly string[]) : [...(o.orderBy as readonly OrderClause[])]
  return { ast, clauses, offset, fields: [...(ast ? filterFields(ast) : []), ...clauses.map((c) => c.field)] }
}

/**
 * The columns a query reads (its listRuns part, filter and order), so a table built for it computes them while it
 * parses the summary lines. Throws on a bad filter or order, before anything is read.
 */
export function queryColumns(o: QueryRunsOptions): ColumnName[] {
  const { fields, ast, clauses } = plan(o)
  const names: ColumnName[] = []
  if (!o.includeDeleted) names.push('lifecycle')
  if (o.experimentId !== undefined) names.push('experiment')
  if (o.commit) names.push('source.commit')
  if ((ast === undefined || ast.type === 'all') && clauses.length === 0) return names
  names.push('startTime')
  for (const f of fields) {
    if (f.kind === 'attribute') names.push(...(ATTRIBUTE_NEEDS[f.key] ?? []))
    else if (f.kind === 'metric') names.push(`m:${f.key}`)
    else if (f.kind === 'param') names.push(`p:${f.key}`)
    else if (f.kind === 'tag') names.push(`t:${f.key}`)
  }
  return names
}

/** The runs a listing query picks, as full run summaries. */
export function queryTable(table: ListingTable, o: QueryRunsOptions): RunSummary[] {
  const { ast, clauses, offset, fields } = plan(o)
  const filtered = ast !== undefined && ast.type !== 'all'
  const need = o.limit === undefined ? undefined : offset + o.limit
  table.prepare(queryColumns(o)) // every column the query reads, in one pass if the table lacks several
  const keep = baseTest(table, o)
  if (!filtered && clauses.length === 0) {
    // listRuns order is the table's order: take the first `need` rows that pass
    const rows: number[] = []
    for (let i = 0; i < table.n && (need === undefined || rows.length < need); i++) if (keep(i)) rows.push(i)
    return rows.slice(offset).map((i) => table.run(i))
  }
  let matched: RunSummary[]
  const rowOf = new Map<RunSummary, number>()
  if (fields.some((f) => f.kind === 'dataset')) {
    // datasets have no column: whole runs
    const candidates: RunSummary[] = []
    for (let i = 0; i < table.n; i++) if (keep(i)) { const r = table.run(i); rowOf.set(r, i); candidates.push(r) }
    matched = filtered ? candidates.filter(compileFilter(ast!, { experimentNames: o.experimentNames })) : candidates
  } else {
    // The filter runs over one reused row object holding the fields it reads; the rows it keeps get objects of
    // their own for the sort.
    const fill = rowFiller(table, fields)
    const test = filtered ? compileFilter(ast!, { experimentNames: o.experimentNames }) : undefined
    const cursor = blankRow()
    matched = []
    for (let i = 0; i < table.n; i++) {
      if (!keep(i)) continue
      if (test) {
        fill(cursor, i, false)
        if (!test(cursor)) continue
      }
      const r = blankRow()
      fill(r, i, true)
      rowOf.set(r, i)
      matched.push(r)
    }
  }
  const picked = sortRuns(matched, clauses, need, o.textOrder).slice(offset)
  return picked.map((r) => table.run(rowOf.get(r)!))
}

/** The listRuns part of a query: lifecycle, experiment, commit prefix. */
function baseTest(table: ListingTable, o: QueryRunsOptions): (row: number) => boolean {
  const tests: Array<(row: number) => boolean> = []
  if (!o.includeDeleted) {
    const active = dense(table, 'lifecycle', (v) => v === 'active')
    tests.push((i) => active[i] === 1)
  }
  if (o.experimentId !== undefined) {
    const id = o.experimentId
    const ok = dense(table, 'experiment', (v) => v === id)
    tests.push((i) => ok[i] === 1)
  }
  if (o.commit) {
    const prefix = o.commit
    const ok = dense(table, 'source.commit', (v) => typeof v === 'string' && v.startsWith(prefix))
    tests.push((i) => ok[i] === 1)
  }
  if (tests.length === 0) return () => true
  return (i) => {
    for (const t of tests) if (!t(i)) return false
    return true
  }
}

/** One test over a column, as 0/1 per row (rows without the field are 0). */
function dense(table: ListingTable, name: ColumnName, test: (v: unknown) => boolean): Uint8Array {
  const out = new Uint8Array(table.n)
  const c = table.column(name)
  if (!c) return out
  each(c, (row, v) => { if (test(v)) out[row] = 1 })
  return out
}

function each(c: Column, f: (row: number, v: unknown) => void): void {
  const { rows, values } = c
  for (let j = 0; j < values.length; j++) f(rows ? rows[j]! : j, values[j])
}

function blankRow(): RunSummary {
  // null prototypes: a key such as __proto__ is an own property like any other (as JSON.parse makes it)
  return { id: '', startTime: 0, experiment: '', lifecycle: 'active', source: {}, params: Object.create(null), tags: Object.create(null), metrics: Object.create(null) } as unknown as RunSummary
}

/**
 * Writes into a row object the fields a query reads (plus the start time and an id-like key for the sort's
 * tie-break), from the table's columns spread out per row. `fresh`: the object is new (a
 * metric gets an object of its own), else it is the reused cursor (holders are reused, absent fields cleared).
 */
function rowFiller(table: ListingTable, fields: FieldRef[]): (r: RunSummary, row: number, fresh: boolean) => void {
  const attrs = new Set<AttributeColumn>(['startTime'])
  const parts: Array<(r: RowCursor, row: number, fresh: boolean) => void> = []
  if (!fields.some((f) => f.kind === 'attribute' && ATTRIBUTE_NEEDS[f.key]?.includes('id'))) {
    // sortRuns breaks ties of start time by id ascending; within one start time the table's rows run by id
    // descending, so a key that grows as the row number falls sorts alike, without reading the id column
    const width = String(table.n).length
    parts.push((r, i) => { r.id = String(table.n - i).padStart(width, '0') })
  }
  const seen = new Set<string>()
  for (const f of fields) {
    const tag = `${f.kind}:${f.key}`
    if (seen.has(tag)) continue
    seen.add(tag)
    const key = f.key
    if (f.kind === 'attribute') for (const a of ATTRIBUTE_NEEDS[key] ?? []) attrs.add(a)
    else if (f.kind === 'metric') {
      const at = spread(table, `m:${key}`)
      const holder = { value: 0 }
      parts.push((r, i, fresh) => {
        const v = at(i)
        if (v === undefined) r.metrics[key] = undefined
        else if (fresh) r.metrics[key] = { value: v }
        else { holder.value = v as number; r.metrics[key] = holder }
      })
    } else if (f.kind === 'param' || f.kind === 'tag') {
      const at = spread(table, `${f.kind === 'param' ? 'p' : 't'}:${key}`)
      const bag = f.kind === 'param' ? 'params' : 'tags'
      parts.push((r, i) => { r[bag][key] = at(i) })
    }
  }
  for (const a of attrs) {
    const at = spread(table, a)
    if (a.startsWith('source.')) {
      const k = a.slice(7)
      parts.push((r, i) => { r.source[k] = at(i) })
    } else parts.push((r, i) => { r[a] = at(i) })
  }
  return (r, row, fresh) => {
    const c = r as unknown as RowCursor
    for (const p of parts) p(c, row, fresh)
  }
}

/** A row under construction: a RunSummary written field by field, by the names the query reads. */
type RowCursor = Record<string, unknown> & { metrics: Record<string, unknown>; params: Record<string, unknown>; tags: Record<string, unknown>; source: Record<string, unknown> }

/** A column as a value per row (undefined where the row lacks the field). */
function spread(table: ListingTable, name: ColumnName): (row: number) => unknown {
  const c = table.column(name)
  if (!c) return () => undefined
  const { rows, values } = c
  if (!rows) return (i) => values[i]
  const byRow: unknown[] = new Array(table.n)
  for (let j = 0; j < rows.length; j++) byRow[rows[j]!] = values[j]
  return (i) => byRow[i]
}
