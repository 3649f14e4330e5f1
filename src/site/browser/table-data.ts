/**
 * `data/experiments/<id>/runs.json`, the experiment table's data: one array per column instead of one object per run.
 * Strings that repeat (status, params, tags, commits, users) are dictionary-encoded, numbers stay numbers, and each
 * metric keeps its latest value only (what the table shows and the filter language reads). At 100,000 runs this is
 * ~37 bytes gzip per row, against ~125 for the row objects it replaced. Encoder and decoder live side by side here
 * (browser-safe); docs/site.md describes the format.
 */
import { keyed, type ParamValue } from '../../model/run.js'
import type { TableRun } from './snapshot.js'

/** The format's name and version; a reader refuses any other. */
export const TABLE_FORMAT = 'labbook-runs-table'
export const TABLE_VERSION = 1

/** A dictionary-encoded column: `d` the distinct values, `i` one index into `d` per row, -1 where the row has none. */
export interface DictColumn<T> { d: T[]; i: number[] }
/** A metric's latest values, one per row: null where the run has none; NaN and ±Infinity (not JSON) as strings. */
export type NumberColumn = Array<number | null | 'NaN' | 'Infinity' | '-Infinity'>

export interface TableData {
  format: typeof TABLE_FORMAT
  version: number
  n: number
  experiment: string
  id: string[]
  name: string[]
  /** Start times: the first row's in ms since the epoch, then each row's difference from the row before. */
  start: number[]
  /** endTime − startTime in ms; null while the run has no end. */
  duration: Array<number | null>
  status: DictColumn<string>
  lifecycle: DictColumn<string>
  /** Optional attributes (user, host, parent, commitUrl): absent when no row has one. */
  attrs: Record<string, DictColumn<string>>
  /** `source.*` fields, each a column (commit, branch, dirty, remote, …). */
  source: Record<string, DictColumn<string | boolean>>
  /** Number of child runs; absent when no run has children. */
  children?: number[]
  params: Record<string, DictColumn<ParamValue>>
  tags: Record<string, DictColumn<string>>
  metrics: Record<string, NumberColumn>
  /** Rare per-row extras kept as they are, by row index: datasets. */
  extra?: Record<string, Pick<TableRun, 'datasets'>>
}

const ATTRS = ['user', 'host', 'parent', 'commitUrl'] as const

class DictBuilder<T> {
  private pos = new Map<T, number>()
  readonly col: DictColumn<T>
  used = false
  constructor(n: number) { this.col = { d: [], i: new Array<number>(n).fill(-1) } }
  set(row: number, v: T | undefined): void {
    if (v === undefined) return
    let k = this.pos.get(v)
    if (k === undefined) { k = this.col.d.length; this.col.d.push(v); this.pos.set(v, k) }
    this.col.i[row] = k
    this.used = true
  }
}

function builders<T>(n: number) {
  const m = new Map<string, DictBuilder<T>>()
  return { at: (k: string) => m.get(k) ?? m.set(k, new DictBuilder<T>(n)).get(k)!, out: () => Object.fromEntries([...m].filter(([, b]) => b.used).map(([k, b]) => [k, b.col])) }
}

const num = (v: number): number | 'NaN' | 'Infinity' | '-Infinity' => (Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity')
const unnum = (v: number | string | null): number | undefined => (v === null ? undefined : typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : -Infinity)

/**
 * The columnar table of an experiment's runs (in the order given).
 * @example JSON.stringify(encodeTable(rows, '1'))
 */
export function encodeTable(runs: readonly TableRun[], experiment: string): TableData {
  const n = runs.length
  const status = new DictBuilder<string>(n), lifecycle = new DictBuilder<string>(n)
  const attrs = builders<string>(n), source = builders<string | boolean>(n), params = builders<ParamValue>(n), tags = builders<string>(n)
  const metrics = new Map<string, NumberColumn>()
  const start: number[] = new Array(n), duration: Array<number | null> = new Array(n), children: number[] = new Array(n).fill(0)
  let anyChildren = false
  const extra: Record<string, Pick<TableRun, 'datasets'>> = {}
  runs.forEach((r, row) => {
    start[row] = row === 0 ? r.startTime : r.startTime - runs[row - 1]!.startTime
    duration[row] = r.endTime === undefined ? null : r.endTime - r.startTime
    status.set(row, r.status)
    lifecycle.set(row, r.lifecycle)
    for (const a of ATTRS) attrs.at(a).set(row, r[a])
    if (r.source) for (const [k, v] of Object.entries(r.source)) if (v !== undefined) source.at(k).set(row, v as string | boolean)
    for (const k in r.params) params.at(k).set(row, r.params[k])
    for (const k in r.tags) tags.at(k).set(row, r.tags[k])
    for (const k in r.metrics) {
      let col = metrics.get(k)
      if (!col) metrics.set(k, (col = new Array(n).fill(null)))
      col[row] = num(r.metrics[k]!.value)
    }
    if (r.children) { children[row] = r.children; anyChildren = true }
    if (r.datasets?.length) extra[row] = { datasets: r.datasets }
  })
  return {
    format: TABLE_FORMAT, version: TABLE_VERSION, n, experiment,
    id: runs.map((r) => r.id), name: runs.map((r) => r.name), start, duration,
    status: status.col, lifecycle: lifecycle.col, attrs: attrs.out(), source: source.out(),
    ...(anyChildren ? { children } : {}),
    params: params.out(), tags: tags.out(), metrics: Object.fromEntries(metrics),
    ...(Object.keys(extra).length ? { extra } : {}),
  }
}

/**
 * The table's rows from its columns: one object per run, with prototype-less params/tags/metrics records (a key such
 * as "constructor" is an ordinary key, src/model/run.ts `keyed`). Throws on another format or a newer version.
 * @example decodeTable(await (await fetch('runs.json')).json())
 */
export function decodeTable(t: TableData): TableRun[] {
  if (!t || t.format !== TABLE_FORMAT || typeof t.version !== 'number') throw new Error('Not a labbook runs table (data/experiments/<id>/runs.json): rebuild the site with this labbook.')
  if (t.version > TABLE_VERSION) throw new Error(`This runs table has format version ${t.version}; this page reads version ${TABLE_VERSION} or older: rebuild the site.`)
  const n = t.n
  const out: TableRun[] = new Array(n)
  const dictKeys = <T>(cols: Record<string, DictColumn<T>>) => Object.entries(cols).map(([k, c]) => [k, c.d, c.i] as const)
  const attrs = dictKeys(t.attrs), source = dictKeys(t.source), params = dictKeys(t.params), tags = dictKeys(t.tags)
  const metrics = Object.entries(t.metrics)
  let startTime = 0
  for (let row = 0; row < n; row++) {
    startTime = row === 0 ? t.start[0]! : startTime + t.start[row]!
    const d = t.duration[row]
    const r = {
      id: t.id[row]!, name: t.name[row]!, experiment: t.experiment,
      status: t.status.d[t.status.i[row]!], lifecycle: t.lifecycle.d[t.lifecycle.i[row]!],
      startTime, source: {}, params: keyed(), tags: keyed(), metrics: keyed(),
    } as TableRun & Record<string, unknown>
    if (d !== null && d !== undefined) { r.endTime = startTime + d; r.duration = d }
    for (const [k, d, i] of attrs) if (i[row]! >= 0) r[k] = d[i[row]!]
    for (const [k, d, i] of source) if (i[row]! >= 0) (r.source as Record<string, unknown>)[k] = d[i[row]!]
    for (const [k, d, i] of params) if (i[row]! >= 0) r.params[k] = d[i[row]!]!
    for (const [k, d, i] of tags) if (i[row]! >= 0) r.tags[k] = d[i[row]!]!
    for (const [k, col] of metrics) { const v = unnum(col[row] ?? null); if (v !== undefined) r.metrics[k] = { value: v } }
    const c = t.children?.[row]
    if (c) r.children = c
    const x = t.extra?.[row]
    if (x?.datasets) r.datasets = x.datasets
    out[row] = r
  }
  return out
}
