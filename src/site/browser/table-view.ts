/**
 * What the runs table shows and how the address keeps it: column order (primary metrics first, telemetry last and
 * hidden), the view state in the URL (filter, sort, columns, group-by, open groups), groups of repeats with their
 * statistics (src/judge), and parent rows that summarise their children. Browser-safe, no React.
 */
import {
  bestRun, eligibleColumn, type Goal, groupIndex, type GroupIndex, groupMembers, type GroupOptions, groupsAt, GROUP_TAG, isTelemetry, type JudgeConfig, type SampleStats, scoreAt,
} from '../../judge/index.js'
import { shortSha } from './display.js'
import type { ChildSummary, TableRun } from './snapshot.js'
import { ATTR_COLUMNS, cellValue, type Column } from './table.js'
import { keyed } from '../../model/run.js'

/** Name and status lead every row; the other attributes follow the chosen key columns. */
export const LEAD_ATTRS: readonly Column[] = ATTR_COLUMNS.filter((c) => c.key === 'name' || c.key === 'status')
export const TAIL_ATTRS: readonly Column[] = ATTR_COLUMNS.filter((c) => c.key !== 'name' && c.key !== 'status')

/** Metric columns that are telemetry (`system/*`, `sys/*`, `telemetry/*`: src/judge `isTelemetry`). */
export const isTelemetryColumn = (c: Column): boolean => c.kind === 'metric' && isTelemetry(c.key)

/**
 * Key columns in display order: the primary metrics (in their order), the other judged metrics, params, tags, and
 * telemetry metrics last.
 * @example orderColumns(keyColumns(runs), ['val_loss'])[0].key // 'val_loss'
 */
export function orderColumns(keys: readonly Column[], primary: readonly string[]): Column[] {
  const rank = (c: Column) => {
    if (c.kind === 'metric') {
      const p = primary.indexOf(c.key)
      return p >= 0 ? p : isTelemetryColumn(c) ? 1e6 + 3 : 1e6
    }
    return c.kind === 'param' ? 1e6 + 1 : 1e6 + 2
  }
  return keys.map((c, i) => ({ c, i, r: rank(c) })).sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.c)
}

/** Default visible key columns: every primary metric, up to 3 other judged metrics, up to 4 params; never telemetry. */
export function defaultColumns(ordered: readonly Column[], primary: readonly string[]): string[] {
  const prim = ordered.filter((c) => c.kind === 'metric' && primary.includes(c.key))
  const other = ordered.filter((c) => c.kind === 'metric' && !primary.includes(c.key) && !isTelemetryColumn(c)).slice(0, Math.max(0, 4 - prim.length))
  return [...prim, ...other, ...ordered.filter((c) => c.kind === 'param').slice(0, 4)].map((c) => c.id)
}

/** The table's columns in order for a set of visible key column ids (chosen order never reshuffles them). */
export function layoutColumns(ordered: readonly Column[], visible: readonly string[]): Column[] {
  const on = new Set(visible)
  return [...LEAD_ATTRS, ...ordered.filter((c) => on.has(c.id)), ...TAIL_ATTRS]
}

// ------------------------------------------------------------------ the address

/** `''`: no grouping; `config`: src/judge's repeats (params without seed params, or the labbook.group tag); `param:K` / `tag:K`: by one value. */
export type GroupBy = '' | 'config' | `param:${string}` | `tag:${string}`

/** The view a link reproduces: `?filter=…&sort=-metric:acc&cols=metric:acc,param:lr&group=config&open=…`. */
export interface TableState {
  filter: string
  sort: { col: string; desc: boolean }
  /** Visible key column ids; null: the default set. */
  cols: string[] | null
  group: GroupBy
  /** Expanded group keys and parent run ids. */
  open: string[]
}

export const DEFAULT_SORT = { col: 'attr:start', desc: true } as const

const list = (s: string | null) => (s ? s.split(',').map((x) => { try { return decodeURIComponent(x) } catch { return x } }).filter(Boolean) : [])
const packList = (xs: readonly string[]) => xs.map((x) => encodeURIComponent(x)).join(',')

/** Reads the table's view from a query string (unknown or malformed parts fall back to the defaults). */
export function readTableState(search: string): TableState {
  const q = new URLSearchParams(search)
  const sort = q.get('sort')
  const group = q.get('group') ?? ''
  const cols = q.get('cols')
  return {
    filter: q.get('filter') ?? '',
    sort: sort && /^-?(attr|metric|param|tag):./.test(sort) ? { col: sort.replace(/^-/, ''), desc: sort.startsWith('-') } : { ...DEFAULT_SORT },
    cols: cols === null ? null : list(cols),
    group: group === 'config' || /^(param|tag):./.test(group) ? (group as GroupBy) : '',
    open: list(q.get('open')),
  }
}

/** Writes the view into `url`'s query, leaving defaults out (so a plain link stays plain) and other parameters alone. */
export function writeTableState(url: URL, s: TableState): URL {
  const q = url.searchParams
  const set = (k: string, v: string | null) => (v ? q.set(k, v) : q.delete(k))
  set('filter', s.filter)
  set('sort', s.sort.col === DEFAULT_SORT.col && s.sort.desc === DEFAULT_SORT.desc ? null : `${s.sort.desc ? '-' : ''}${s.sort.col}`)
  if (s.cols === null) q.delete('cols')
  else q.set('cols', packList(s.cols) || ',')
  set('group', s.group)
  set('open', packList(s.open))
  return url
}

// ------------------------------------------------------------------ groups

/** A group of runs as a table row: src/judge's group, scored on each shown metric. */
export interface TableGroup {
  key: string
  /** Short stable id of `key` for the address (`open=`) and the DOM (`data-group`). */
  id: string
  /** What the members share, for people: `lr=0.01 · model=cnn` (plus ` @ <commit>` when another group has the same params). */
  label: string
  /** Group by configuration: the code commit every member ran on (src/judge splits configurations by commit). */
  commit?: string
  runs: TableRun[]
  /** Per metric key: statistics over eligible members (FINISHED, finite value); undefined when none is eligible. */
  stats: Record<string, SampleStats | undefined>
  /** Best eligible member on the first primary metric. */
  best?: TableRun
  /** Members that count on the first primary metric. */
  eligible: number
  /** Members that FINISHED. */
  finished: number
  /** How many distinct values a column has among the members (a missing value counts as one), and the value when one. */
  distinct(col: Column): { count: number; one?: string | number | boolean }
}

/** The label of a group: its shared params (or tag, or grouped value) as `k=v` joined by ` · `. */
export function groupLabel(label: Record<string, string>, by: GroupBy): string {
  if (by.startsWith('param:') || by.startsWith('tag:')) return `${by.slice(by.indexOf(':') + 1)}=${label.by ?? ''}`
  const parts = Object.entries(label).map(([k, v]) => `${k}=${v}`)
  return parts.length ? parts.join(' · ') : '(no params)'
}

const MISSING = '∅'

/**
 * Groups the table's runs as src/judge does (never across experiments; a parent run is its children's summary, not a
 * member) and scores each group on `metrics` with the goals given. `shown` (a filter's mask, 1 per kept run) groups
 * only those runs, as grouping that subset would: which configuration each run is is worked out once per list and
 * grouping (src/judge `groupIndex`), so a keystroke only collects and scores the runs it keeps.
 * @example tableGroups(runs, 'config', ['acc'], (k) => 'maximize', {})
 */
export function tableGroups(runs: readonly TableRun[], by: GroupBy, metrics: readonly string[], goalOf: (key: string) => Goal | undefined, config: JudgeConfig = {}, shown: Uint8Array | null = null): TableGroup[] {
  if (!by) return []
  const lead = metrics[0]
  // Scored when read: a keystroke groups every run it keeps, but only the sorted metric of every group and the
  // groups on the page are read, so only those are scored (each once).
  // Scored from columns (src/judge `scoreAt`): each metric's eligible values are read from the runs once per list, so
  // a sort on a metric (every group) or a page of groups reads typed arrays, not every member's objects again.
  // Members as positions (typed arrays); a group's run objects are gathered only when read (the page's groups).
  const ix = tableGroupIndex(runs, by, config), m = groupMembers(ix, shown), found = groupsAt(ix, m)
  // The same params on two commits are two groups: name the commit where a label would otherwise repeat.
  const labels = found.map((g) => groupLabel(g.label, by)), seen = new Map<string, number>()
  for (const l of labels) seen.set(l, (seen.get(l) ?? 0) + 1)
  // A group whose members and label are what they were at an earlier keystroke is that keystroke's object again: its
  // statistics are not worked out anew, and its row (memoised on it) is not drawn again: a filter every run passes,
  // or clearing one that kept every run, changes nothing on the page.
  const kept = keptGroups(runs, by, config, metrics, goalOf)
  return found.map((g, gi): TableGroup => {
    const from = m.from[gi]!, to = m.from[gi + 1]!
    const label = g.commit && seen.get(labels[gi]!)! > 1 ? `${labels[gi]} @ ${shortSha(g.commit)}` : labels[gi]!
    const before = kept.get(g.key)
    if (before && before.group.label === label && sameMembers(before.at, m.members, from, to)) return before.group
    // its own copy of the member positions: a group kept for later keystrokes holds these, not this keystroke's arrays
    const at = m.members.slice(from, to)
    const stats = keyed<SampleStats | undefined>()
    for (const k of metrics) {
      Object.defineProperty(stats, k, {
        enumerable: true, configurable: true,
        get: () => {
          const v = scoreAt(runs, at, eligibleOf(runs, k), goalOf(k) ?? 'maximize').stats
          Object.defineProperty(stats, k, { value: v, enumerable: true, writable: true })
          return v
        },
      })
    }
    let top: ReturnType<typeof scoreAt<TableRun>> | undefined | null = null, members: TableRun[] | undefined
    const score = () => (top === null ? (top = lead ? scoreAt(runs, at, eligibleOf(runs, lead), goalOf(lead) ?? 'maximize') : undefined) : top)
    const group: TableGroup = {
      key: g.key, id: shortHash(g.key), label, ...(g.commit ? { commit: g.commit } : {}), stats,
      get runs() { return (members ??= Array.from(at, (i) => runs[i]!)) },
      get best() { return score()?.best },
      get eligible() { return score()?.eligible ?? 0 },
      get finished() { const f = finishedOf(runs); let n = 0; for (let k = 0; k < at.length; k++) n += f[at[k]!]!; return n },
      distinct: (col) => distinctAt(runs, at, col),
    }
    kept.set(g.key, { at, group })
    return group
  })
}

/** Whether `at` holds the same positions as `members[from…to)`. */
function sameMembers(at: Uint32Array, members: Uint32Array, from: number, to: number): boolean {
  if (at.length !== to - from) return false
  for (let k = 0; k < at.length; k++) if (at[k] !== members[from + k]) return false
  return true
}

const keptByList = new WeakMap<readonly TableRun[], Map<string, { goalOf: (key: string) => Goal | undefined; groups: Map<string, { at: Uint32Array; group: TableGroup }> }>>()

/** The last group object made for each group key, per list, grouping, seed params, metrics and goals. */
function keptGroups(runs: readonly TableRun[], by: GroupBy, config: JudgeConfig, metrics: readonly string[], goalOf: (key: string) => Goal | undefined): Map<string, { at: Uint32Array; group: TableGroup }> {
  let byKey = keptByList.get(runs)
  if (!byKey) keptByList.set(runs, (byKey = new Map()))
  const id = `${by}\u0000${JSON.stringify(config.seed_params ?? null)}\u0000${metrics.join('\u0000')}`
  let k = byKey.get(id)
  if (!k || k.goalOf !== goalOf) byKey.set(id, (k = { goalOf, groups: new Map() }))
  return k.groups
}

const eligibleColumns = new WeakMap<readonly TableRun[], Map<string, Float64Array>>()

/** src/judge's eligible values of one metric over a list (NaN: not counted), once per list and metric. */
function eligibleOf(runs: readonly TableRun[], key: string): Float64Array {
  let byKey = eligibleColumns.get(runs)
  if (!byKey) eligibleColumns.set(runs, (byKey = new Map()))
  let c = byKey.get(key)
  if (!c) byKey.set(key, (c = eligibleColumn(runs, key)))
  return c
}

const finishedColumns = new WeakMap<readonly TableRun[], Uint8Array>()

/** 1 for each run of a list that FINISHED, once per list. */
function finishedOf(runs: readonly TableRun[]): Uint8Array {
  let f = finishedColumns.get(runs)
  if (!f) { f = new Uint8Array(runs.length); for (let i = 0; i < runs.length; i++) if (runs[i]!.status === 'FINISHED') f[i] = 1; finishedColumns.set(runs, f) }
  return f
}

/** A column's values over a list as numbers (one per distinct value, undefined included), and a scratch array to count them. */
interface ValueIds { ids: Int32Array; values: (string | number | boolean | undefined)[]; seen: Uint32Array; stamp: number }
const valueIds = new WeakMap<readonly TableRun[], Map<string, ValueIds>>()

/** The distinct values of `col` among `runs[at[…]]`, as `new Set(members.map(cellValue))` counts them, from a column made once per list. */
function distinctAt(runs: readonly TableRun[], at: Uint32Array, col: Column): { count: number; one?: string | number | boolean } {
  let byCol = valueIds.get(runs)
  if (!byCol) valueIds.set(runs, (byCol = new Map()))
  let v = byCol.get(col.id)
  if (!v) {
    const ids = new Int32Array(runs.length), values: ValueIds['values'] = [], pos = new Map<unknown, number>()
    for (let i = 0; i < runs.length; i++) {
      const x = cellValue(runs[i]!, col)
      let k = pos.get(x) // SameValueZero, as a Set counts
      if (k === undefined) { k = values.length; values.push(x); pos.set(x, k) }
      ids[i] = k
    }
    byCol.set(col.id, (v = { ids, values, seen: new Uint32Array(values.length), stamp: 0 }))
  }
  const stamp = ++v.stamp
  if (stamp === 0xffffffff) { v.seen.fill(0); v.stamp = 1 }
  let count = 0, first = -1
  for (let j = 0; j < at.length; j++) {
    const k = v.ids[at[j]!]!
    if (v.seen[k] === v.stamp) continue
    v.seen[k] = v.stamp
    if (count++ === 0) first = k
  }
  const one = count === 1 ? v.values[first] : undefined
  return { count, ...(one !== undefined ? { one } : {}) }
}

const indexes = new WeakMap<readonly TableRun[], Map<string, GroupIndex<TableRun>>>()

/** src/judge's group index of a list, once per list, grouping and seed params. */
function tableGroupIndex(runs: readonly TableRun[], by: GroupBy, config: JudgeConfig): GroupIndex<TableRun> {
  let byKey = indexes.get(runs)
  if (!byKey) indexes.set(runs, (byKey = new Map()))
  const id = `${by}\u0000${JSON.stringify(config.seed_params ?? null)}`
  let ix = byKey.get(id)
  if (!ix) {
    const o: GroupOptions = { config }
    if (by.startsWith('param:')) { const k = by.slice(6); o.by = (r) => (Object.hasOwn(r.params, k) ? String(r.params[k]) : MISSING) }
    else if (by.startsWith('tag:')) { const k = by.slice(4); o.by = (r) => r.tags[k] ?? MISSING }
    byKey.set(id, (ix = groupIndex(runs, o)))
  }
  return ix
}

/** Groups sorted by a metric's mean (groups without one last) or by label; any other column keeps first-start order. */
export function sortGroups(groups: readonly TableGroup[], col: Column, desc: boolean): TableGroup[] {
  const out = [...groups]
  if (col.kind === 'metric') {
    const m = (g: TableGroup) => g.stats[col.key]?.mean
    out.sort((a, b) => {
      const x = m(a), y = m(b)
      if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? 1 : -1
      return desc ? y - x : x - y
    })
  } else if (col.key === 'name') out.sort((a, b) => (desc ? b.label.localeCompare(a.label) : a.label.localeCompare(b.label)))
  else if (desc) out.reverse()
  return out
}

/** The keys a group-by control offers: config, the `labbook.group` tag when used, every param. */
export function groupChoices(runs: readonly TableRun[]): GroupBy[] {
  const params = new Set<string>(), tags = new Set<string>()
  for (const r of runs) { for (const p in r.params) params.add(p); if (r.tags[GROUP_TAG] !== undefined) tags.add(GROUP_TAG) }
  return ['config', ...[...tags].map((t) => `tag:${t}` as GroupBy), ...[...params].sort().map((p) => `param:${p}` as GroupBy)]
}

/** The half-width of a 95% interval (mean ± this), when there is one. */
export const halfWidth = (s: SampleStats | undefined): number | undefined => (s?.ci ? (s.ci[1] - s.ci[0]) / 2 : undefined)

// ------------------------------------------------------------------ parents

/**
 * Parent runs summarise their children: a metric the parent did not log shows (and sorts by) its best eligible child's
 * value. Returns `runs` itself when no run has children among them; otherwise a copy with new parent objects.
 * @example withChildSummaries(runs, ['acc'], goalOf).find((r) => r.summary)?.summary?.best
 */
export function withChildSummaries(runs: readonly TableRun[], primary: readonly string[], goalOf: (key: string) => Goal | undefined): readonly TableRun[] {
  const kids = new Map<string, TableRun[]>()
  const ids = new Set(runs.map((r) => r.id))
  for (const r of runs) if (r.parent && r.parent !== r.id && ids.has(r.parent)) (kids.get(r.parent) ?? kids.set(r.parent, []).get(r.parent)!).push(r)
  if (!kids.size) return runs
  return runs.map((r) => {
    const children = kids.get(r.id)
    if (!children) return r
    const metrics = keyed(r.metrics)
    const filled: string[] = []
    const keys = new Set(children.flatMap((c) => Object.keys(c.metrics)))
    for (const k of keys) {
      const goal = goalOf(k)
      if (Object.hasOwn(metrics, k) || !goal) continue
      const b = bestRun(children, k, goal)
      if (b) { metrics[k] = b.metrics[k]!; filled.push(k) }
    }
    const lead = primary.find((k) => goalOf(k))
    const best = lead ? bestRun(children, lead, goalOf(lead)!) : undefined
    const summary: ChildSummary = { n: children.length, ids: children.map((c) => c.id), filled, ...(best ? { best: { id: best.id, name: best.name } } : {}) }
    return { ...r, metrics, summary }
  })
}

/** FNV-1a of a string as 8 hex digits: a short, stable handle for a group in the address. */
export function shortHash(s: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) }
  return (h >>> 0).toString(16).padStart(8, '0')
}
