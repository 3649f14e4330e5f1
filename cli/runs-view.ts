/** How runs look on the command line: the JSON shape scripts rely on, and the terminal table (CSV: src/report/export). */
import type { RunSummary } from '../src/model/run.js'
import { runDuration } from '../src/model/run.js'
import { ATTRIBUTES, type FieldRef } from '../src/query/index.js'
// the two judge modules this needs, not src/judge/index.js (its ten modules cost `labbook ls` ~20 ms of loading)
import { isTelemetry, type JudgeContext, metricGoal, primaryMetrics } from '../src/judge/goals.js'
import { bestRun } from '../src/judge/runs.js'
import type { CliIO } from './io.js'
import { colorsFor, formatAge, renderTable, terminalWidth, type Colors, type Column } from './output.js'
import { formatDuration, formatNumber } from '../src/model/display-numbers.js'
import { keyed } from '../src/model/run.js'

export type ExperimentNames = Map<string, string>

/**
 * The `ls --json` record: at least id, name, experiment, status, lifecycle, startTime, endTime, params, metrics
 * (key → latest value), tags, source {commit, branch, dirty}, parent. Absent values are null so every key is there.
 */
export function runRecord(r: RunSummary, names: ExperimentNames) {
  const metrics = keyed<number>()
  for (const k of Object.keys(r.metrics).sort()) metrics[k] = r.metrics[k]!.value
  return {
    id: r.id,
    name: r.name,
    experiment: names.get(r.experiment) ?? r.experiment,
    experimentId: r.experiment,
    status: r.status,
    lifecycle: r.lifecycle,
    startTime: r.startTime,
    endTime: r.endTime ?? null,
    duration: runDuration(r) ?? null,
    user: r.user ?? null,
    params: sortKeys(r.params),
    metrics,
    tags: sortKeys(r.tags),
    source: { ...r.source, commit: r.source.commit ?? null, branch: r.source.branch ?? null, dirty: r.source.dirty ?? null },
    parent: r.parent ?? null,
    description: r.description ?? null,
  }
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out = keyed<T>()
  for (const k of Object.keys(o).sort()) out[k] = o[k]!
  return out
}

/** The shortest prefix (at least `min` characters) that tells each id apart from the others listed. */
export function shortIds(ids: string[], min = 8): Map<string, string> {
  const sorted = [...ids].sort()
  const out = new Map<string, string>()
  for (let i = 0; i < sorted.length; i++) {
    const id = sorted[i]!
    let n = min
    for (const other of [sorted[i - 1], sorted[i + 1]]) {
      if (other === undefined) continue
      let k = 0
      while (k < id.length && id[k] === other[k]) k++
      n = Math.max(n, k + 1)
    }
    out.set(id, id.slice(0, n))
  }
  return out
}

export function statusColor(c: Colors): (s: string) => string {
  return (s) => (s === 'FINISHED' ? c.green(s) : s === 'FAILED' ? c.red(s) : s === 'KILLED' ? c.yellow(s) : s === 'RUNNING' ? c.cyan(s) : s)
}

/**
 * Which columns a narrow terminal loses first (highest first): system/* metrics, then duration, then commit, then
 * the start time, params and tags, other metrics, the experiment. id, name, status and the primary metric stay.
 */
const DROP = { system: 9, duration: 8, commit: 7, started: 6, param: 5, metric: 4, experiment: 3 } as const

/** A column of `ls`: a header and how to get the cell text. */
interface ColumnSpec extends Column {
  get(r: RunSummary): string
}

/** Table columns for fields (parsed once by the query library's parseFieldList, MLflow spelling). */
export function columnSpecs(fields: FieldRef[], names: ExperimentNames, ids: Map<string, string>, c: Colors, now: number): ColumnSpec[] {
  return fields.map(({ kind, key }) => {
    if (kind === 'metric') return { header: key, right: true, drop: key.startsWith('system/') ? DROP.system : DROP.metric, max: 14, get: (r) => (r.metrics[key] ? formatNumber(r.metrics[key]!.value) : '') }
    if (kind === 'param') return { header: key, drop: DROP.param, max: 16, get: (r) => (Object.hasOwn(r.params, key) ? String(r.params[key]) : '') }
    if (kind === 'tag') return { header: key, drop: DROP.param, max: 20, get: (r) => r.tags[key] ?? '' }
    return attributeColumn(key, names, ids, c, now)
  })
}

function attributeColumn(name: string, names: ExperimentNames, ids: Map<string, string>, c: Colors, now: number): ColumnSpec {
  switch (name) {
    case 'run_id': return { header: 'id', color: c.dim, get: (r) => ids.get(r.id) ?? r.id }
    case 'run_name': return { header: 'name', max: 28, get: (r) => r.name }
    case 'experiment': return { header: 'experiment', drop: DROP.experiment, max: 20, get: (r) => names.get(r.experiment) ?? r.experiment }
    case 'status': return { header: 'status', color: statusColor(c), get: (r) => (r.lifecycle === 'deleted' ? `${r.status}*` : r.status) }
    case 'start_time': return { header: 'started', drop: DROP.started, get: (r) => formatAge(r.startTime, now) }
    case 'end_time': return { header: 'ended', optional: true, get: (r) => (r.endTime === undefined ? '' : formatAge(r.endTime, now)) }
    case 'duration': return { header: 'duration', right: true, drop: DROP.duration, get: (r) => formatDuration(runDuration(r) ?? (r.status === 'RUNNING' ? now - r.startTime : undefined)) }
    case 'source.commit': return { header: 'commit', drop: DROP.commit, color: c.yellow, get: (r) => (r.source.commit ? r.source.commit.slice(0, 7) + (r.source.dirty ? '+' : '') : '') }
    case 'source.branch': return { header: 'branch', optional: true, max: 20, get: (r) => r.source.branch ?? '' }
    case 'source.dirty': return { header: 'dirty', optional: true, get: (r) => (r.source.dirty === undefined ? '' : String(r.source.dirty)) }
    case 'user_id': return { header: 'user', optional: true, max: 16, get: (r) => r.user ?? '' }
    case 'parent': return { header: 'parent', optional: true, get: (r) => (r.parent ? ids.get(r.parent) ?? r.parent.slice(0, 8) : '') }
    case 'lifecycle_stage': return { header: 'lifecycle', optional: true, get: (r) => r.lifecycle }
    default: return { header: name, optional: true, get: (r) => { const v = ATTRIBUTES[name]?.get(r); return v === undefined ? '' : String(v) } }
  }
}

/**
 * Picks what a table shows by default: id, name (the experiment when the runs span several), status, the most common
 * metrics (the first is the primary one and is never dropped; system/* are left out), params whose values differ
 * between the runs, then start time, duration and commit.
 */
export function defaultColumns(runs: RunSummary[], maxParams = 4, maxMetrics = 4, judge: JudgeContext = {}): FieldRef[] {
  // Per param key: its first value, and whether another value was seen (all we need to know).
  const first = new Map<string, string>()
  const varies = new Set<string>()
  const metricCount = new Map<string, number>()
  const experiments = new Set<string>()
  for (const r of runs) {
    experiments.add(r.experiment)
    const params = r.params
    for (const k in params) {
      if (varies.has(k)) continue
      const v = String(params[k])
      const f = first.get(k)
      if (f === undefined) first.set(k, v)
      else if (f !== v) varies.add(k)
    }
    for (const k in r.metrics) metricCount.set(k, (metricCount.get(k) ?? 0) + 1)
  }
  // With several runs, params that never vary say nothing about the difference between them: leave them out.
  const all = [...first.keys()]
  const varying = runs.length > 1 ? all.filter((k) => varies.has(k)) : all
  const params = (varying.length > 0 ? varying : all).sort().slice(0, maxParams).map((key): FieldRef => ({ kind: 'param', key }))
  // The primary metrics first (src/judge), then the most common others; telemetry never.
  const primary = primaryMetrics(runs, judge)
  const rank = (k: string) => { const i = primary.indexOf(k); return i < 0 ? primary.length : i }
  const metrics = [...metricCount.entries()]
    .filter(([k]) => !isTelemetry(k))
    .sort((a, b) => rank(a[0]) - rank(b[0]) || b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, maxMetrics).map(([key]): FieldRef => ({ kind: 'metric', key }))
  const attr = (key: string): FieldRef => ({ kind: 'attribute', key })
  const head = ['run_id', 'run_name', ...(experiments.size > 1 ? ['experiment'] : []), 'status'].map(attr)
  return [...head, ...metrics, ...params, ...['start_time', 'duration', 'source.commit'].map(attr)]
}

/**
 * Orders runs as a tree: each child right under its parent (children in the listed order), and returns the prefix
 * each name gets (`├─ `, `└─ `, nested `│  `). Undefined when no listed run has its parent listed too.
 */
export function treeOrder(runs: RunSummary[]): { runs: RunSummary[]; prefix: Map<string, string> } | undefined {
  const listed = new Set(runs.map((r) => r.id))
  const children = new Map<string, RunSummary[]>()
  for (const r of runs) {
    if (r.parent && listed.has(r.parent) && r.parent !== r.id) {
      const list = children.get(r.parent) ?? []
      list.push(r)
      children.set(r.parent, list)
    }
  }
  if (children.size === 0) return undefined
  const out: RunSummary[] = []
  const prefix = new Map<string, string>()
  const seen = new Set<string>()
  const visit = (r: RunSummary, lead: string, own: string) => {
    if (seen.has(r.id)) return
    seen.add(r.id)
    out.push(r)
    prefix.set(r.id, own)
    const kids = children.get(r.id) ?? []
    kids.forEach((k, i) => {
      const last = i === kids.length - 1
      visit(k, lead + (last ? '   ' : '│  '), lead + (last ? '└─ ' : '├─ '))
    })
  }
  for (const r of runs) if (!(r.parent && listed.has(r.parent))) visit(r, '', '')
  for (const r of runs) visit(r, '', '') // a cycle of parents (should not happen) still lists every run
  return { runs: out, prefix }
}

/** The `ls` table: width-aware and coloured on a terminal, plain and complete when piped; a tree when `tree` is on. */
export function runsTable(runs: RunSummary[], names: ExperimentNames, io: CliIO, columns?: FieldRef[], o: { tree?: boolean; judge?: JudgeContext } = {}): string {
  const c = colorsFor(io.stdout, io.env)
  const now = Date.now()
  const ids = shortIds(runs.map((r) => r.id))
  const tree = o.tree === false ? undefined : treeOrder(runs)
  const listed = tree?.runs ?? runs
  const specs = columnSpecs(columns ?? defaultColumns(runs, 4, 4, o.judge), names, ids, c, now)
  const nameCol = specs.findIndex((s) => s.header === 'name')
  const best = bestRuns(runs, o.judge)
  const rows = listed.map((r) => specs.map((s, i) => (tree && i === nameCol ? (tree.prefix.get(r.id) ?? '') : '') + (i === nameCol && best.has(r.id) ? '★ ' : '') + s.get(r)))
  return renderTable(specs, rows, { width: terminalWidth(io), colors: c, dropped: (n) => `(+${n} column${n === 1 ? '' : 's'}: --columns, or widen the terminal)` })
}

/** The best eligible run of each experiment on its first primary metric (src/judge): the ones `ls` stars. */
export function bestRuns(runs: RunSummary[], judge: JudgeContext = {}): Set<string> {
  const byExp = new Map<string, RunSummary[]>()
  for (const r of runs) {
    const list = byExp.get(r.experiment)
    if (list) list.push(r)
    else byExp.set(r.experiment, [r])
  }
  const out = new Set<string>()
  for (const list of byExp.values()) {
    if (list.length < 2) continue
    const key = primaryMetrics(list, judge)[0]
    const goal = key ? metricGoal(key, judge).goal : undefined
    const top = key && goal ? bestRun(list, key, goal) : undefined
    if (top) out.add(top.id)
  }
  return out
}
