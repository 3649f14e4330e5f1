/** Runs and metric histories as CSV (RFC 4180) and JSONL, for pandas, polars, spreadsheets and jq. Browser-safe. */
import type { RunSummary } from '../model/run.js'
import { artifactUri } from '../query/fields.js'

/** One history point in long format, as `labbook export --history` writes it. */
export interface HistoryRow {
  run_id: string
  key: string
  step: number
  value: number
  timestamp: number
}

type Cell = string | number | boolean | undefined

/** How CSV exports write times. */
export interface CsvOptions {
  /** `iso`: ISO 8601 in UTC with milliseconds (`2026-01-01T00:00:00.000Z`, what pandas' `parse_dates` and spreadsheets read); `epoch`: ms since the epoch. @default 'iso' */
  times?: 'iso' | 'epoch'
}

function timeCell(ms: number | undefined, o: CsvOptions): Cell {
  if (ms === undefined || o.times === 'epoch') return ms
  const d = new Date(ms)
  return Number.isNaN(d.getTime()) ? ms : d.toISOString()
}

/** Fixed columns first, in this order; then params.*, metrics.* (latest value) and tags.*, each sorted by key. */
export const RUN_COLUMNS = [
  'run_id', 'run_name', 'experiment_id', 'status', 'lifecycle_stage', 'user_id', 'start_time', 'end_time', 'duration_ms',
  'parent_run_id', 'source.commit', 'source.branch', 'source.dirty', 'artifact_uri',
] as const

const FIXED: Record<(typeof RUN_COLUMNS)[number], (r: RunSummary, o: CsvOptions) => Cell> = {
  run_id: (r) => r.id,
  run_name: (r) => r.name,
  experiment_id: (r) => r.experiment,
  status: (r) => r.status,
  lifecycle_stage: (r) => r.lifecycle,
  user_id: (r) => r.user,
  start_time: (r, o) => timeCell(r.startTime, o),
  end_time: (r, o) => timeCell(r.endTime, o),
  duration_ms: (r) => (r.endTime === undefined ? undefined : r.endTime - r.startTime),
  parent_run_id: (r) => r.parent,
  'source.commit': (r) => r.source?.commit,
  'source.branch': (r) => r.source?.branch,
  'source.dirty': (r) => r.source?.dirty,
  artifact_uri: (r) => artifactUri(r.id),
}

/** One CSV field: numbers as JS writes them except NaN/inf/-inf (what pandas and polars read back), quoted when RFC 4180 requires. */
export function csvField(v: Cell): string {
  if (v === undefined) return ''
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v)
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  return /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v
}

function csvLine(cells: Cell[]): string {
  return cells.map(csvField).join(',') + '\r\n'
}

function keysOf(runs: readonly RunSummary[], pick: (r: RunSummary) => Record<string, unknown>): string[] {
  const s = new Set<string>()
  for (const r of runs) for (const k of Object.keys(pick(r))) s.add(k)
  return [...s].sort()
}

/**
 * One row per run: the fixed columns, then `params.<key>`, `metrics.<key>` (latest value) and `tags.<key>`. Empty cell = missing.
 * CRLF line ends and quoting per RFC 4180; read it back with `pandas.read_csv` or `polars.read_csv`. Times are
 * ISO 8601 (UTC) unless `times: 'epoch'`.
 * @example await writeFile('runs.csv', runsToCsv(await book.listRuns()))
 */
export function runsToCsv(runs: readonly RunSummary[], o: CsvOptions = {}): string {
  const params = keysOf(runs, (r) => r.params)
  const metrics = keysOf(runs, (r) => r.metrics)
  const tags = keysOf(runs, (r) => r.tags)
  let out = csvLine([...RUN_COLUMNS, ...params.map((k) => `params.${k}`), ...metrics.map((k) => `metrics.${k}`), ...tags.map((k) => `tags.${k}`)])
  for (const r of runs) {
    const cells: Cell[] = RUN_COLUMNS.map((c) => FIXED[c](r, o))
    for (const k of params) cells.push(Object.hasOwn(r.params, k) ? r.params[k] : undefined)
    for (const k of metrics) cells.push(Object.hasOwn(r.metrics, k) ? r.metrics[k].value : undefined)
    for (const k of tags) cells.push(Object.hasOwn(r.tags, k) ? r.tags[k] : undefined)
    out += csvLine(cells)
  }
  return out
}

/** JSON with non-finite numbers as the strings "NaN", "Infinity", "-Infinity" (protobuf's JSON mapping, which MLflow's REST API uses). */
function jsonLine(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity') : v)) + '\n'
}

/**
 * One full RunSummary per line (params, tags, metrics with latest/min/max/count, source). Valid JSON on every line.
 * @example await writeFile('runs.jsonl', runsToJsonl(runs))
 */
export function runsToJsonl(runs: readonly RunSummary[]): string {
  let out = ''
  for (const r of runs) out += jsonLine(r)
  return out
}

/**
 * Long-format metric history: `run_id,key,step,value,timestamp`, one point per line; timestamps ISO 8601 (UTC)
 * unless `times: 'epoch'`.
 * @example historyToCsv(points.map((p) => ({ run_id: id, ...p })))
 */
export function historyToCsv(rows: Iterable<HistoryRow>, o: CsvOptions = {}): string {
  let out = 'run_id,key,step,value,timestamp\r\n'
  for (const p of rows) out += csvLine([p.run_id, p.key, p.step, p.value, timeCell(p.timestamp, o)])
  return out
}
