/**
 * MLflow's wire format: proto messages as JSON with snake_case names. Requests may spell int64 as
 * numbers or strings and doubles as numbers or "NaN"/"Infinity"/"-Infinity" (proto3 JSON); we answer
 * int64 as numbers (as MLflow's `message_to_json` does) and non-finite doubles as those strings.
 */
import type { Experiment } from '../model/experiment.js'
import type { DatasetInput, MetricPoint, RunStatus, RunSummary } from '../model/run.js'
import { invalid } from './errors.js'
import { keyed } from '../model/run.js'

/** The fields of one request: the JSON body merged over the query string. */
export class Fields {
  constructor(
    readonly body: Record<string, unknown>,
    readonly query: URLSearchParams,
  ) {}

  has(name: string): boolean {
    return this.body[name] !== undefined && this.body[name] !== null ? true : this.query.has(name)
  }

  raw(name: string): unknown {
    const v = this.body[name]
    if (v !== undefined && v !== null) return v
    return this.query.get(name) ?? undefined
  }

  /** An optional string field; numbers are accepted (ids sent as ints). */
  str(name: string): string | undefined {
    const v = this.raw(name)
    if (v === undefined) return undefined
    if (typeof v === 'string') return v
    if (typeof v === 'number' && Number.isFinite(v)) return String(v)
    throw invalid(`Invalid value ${JSON.stringify(v)} for parameter '${name}' supplied: expected a string.`)
  }

  requiredStr(name: string, ...aliases: string[]): string {
    for (const n of [name, ...aliases]) {
      const v = this.str(n)
      if (v !== undefined && v !== '') return v
    }
    throw invalid(`Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`)
  }

  int(name: string): number | undefined {
    const v = this.raw(name)
    if (v === undefined || v === '') return undefined
    return parseInt64(v, name)
  }

  bool(name: string): boolean | undefined {
    const v = this.raw(name)
    if (v === undefined) return undefined
    if (typeof v === 'boolean') return v
    if (v === 'true' || v === 'True') return true
    if (v === 'false' || v === 'False') return false
    throw invalid(`Invalid value ${JSON.stringify(v)} for parameter '${name}' supplied: expected a boolean.`)
  }

  /** A repeated field: a JSON array in the body, or the parameter repeated in the query string. */
  list(name: string): unknown[] {
    const v = this.body[name]
    if (Array.isArray(v)) return v
    if (v !== undefined && v !== null) {
      throw invalid(`Invalid value ${JSON.stringify(v)} for parameter '${name}' supplied: expected a list.`)
    }
    return this.query.getAll(name)
  }

  strList(name: string): string[] {
    return this.list(name).map((v) => {
      if (typeof v === 'string') return v
      if (typeof v === 'number' && Number.isFinite(v)) return String(v)
      throw invalid(`Invalid value ${JSON.stringify(v)} in list parameter '${name}': expected strings.`)
    })
  }
}

/** int64 as a safe integer, from a number or a decimal string. */
export function parseInt64(v: unknown, name: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN
  if (!Number.isSafeInteger(n)) {
    throw invalid(`Invalid value ${JSON.stringify(v)} for parameter '${name}' supplied: expected an integer.`)
  }
  return n
}

/** A double from a number or proto3 JSON's strings for non-finite values. */
export function parseDouble(v: unknown, name: string): number {
  if (typeof v === 'number') return v
  if (typeof v === 'string') {
    if (v === 'NaN' || v === 'nan') return NaN
    if (v === 'Infinity' || v === 'inf') return Infinity
    if (v === '-Infinity' || v === '-inf') return -Infinity
    const n = Number(v)
    if (v.trim() !== '' && !Number.isNaN(n)) return n
  }
  throw invalid(`Invalid value ${JSON.stringify(v)} for parameter '${name}' supplied: expected a double.`)
}

/** JSON cannot hold NaN or ±Infinity; proto3 JSON spells them as strings. */
export function doubleToJson(v: number): number | string {
  if (Number.isFinite(v)) return v
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'
}

/**
 * Parses a request body. Python's `json.dumps` writes bare NaN / Infinity tokens, which JSON.parse
 * refuses; only when plain parsing fails do we retry with those tokens quoted.
 */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (first) {
    const fixed = quoteNonFinite(text)
    if (fixed !== text) {
      try {
        return JSON.parse(fixed)
      } catch {
        // fall through to the original error
      }
    }
    throw invalid(`Malformed JSON in the request body: ${(first as Error).message}.`)
  }
}

function quoteNonFinite(text: string): string {
  let out = ''
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (inString) {
      out += c
      if (c === '\\') out += text[++i] ?? ''
      else if (c === '"') inString = false
      continue
    }
    if (c === '"') {
      inString = true
      out += c
      continue
    }
    const rest = text.slice(i, i + 9)
    const m = /^(-?Infinity|NaN)/.exec(rest)
    if (m) {
      out += `"${m[1]}"`
      i += m[1]!.length - 1
      continue
    }
    out += c
  }
  return out
}

// ---- enums ----

const STATUS_NUMBERS: Record<number, string> = { 1: 'RUNNING', 2: 'SCHEDULED', 3: 'FINISHED', 4: 'FAILED', 5: 'KILLED' }

/** MLflow's RunStatus (name or number) as ours; SCHEDULED is a RUNNING run that has not started. */
export function parseRunStatus(v: unknown): RunStatus {
  const name = typeof v === 'number' ? STATUS_NUMBERS[v] : typeof v === 'string' ? (STATUS_NUMBERS[Number(v)] ?? v) : undefined
  if (name === 'RUNNING' || name === 'SCHEDULED') return 'RUNNING'
  if (name === 'FINISHED' || name === 'FAILED' || name === 'KILLED') return name
  throw invalid(`Invalid value ${JSON.stringify(v)} for parameter 'status' supplied: expected one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED.`)
}

export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL'

export function parseViewType(v: unknown): ViewType {
  if (v === undefined || v === null || v === '') return 'ACTIVE_ONLY'
  const map: Record<string, ViewType> = { 1: 'ACTIVE_ONLY', 2: 'DELETED_ONLY', 3: 'ALL', ACTIVE_ONLY: 'ACTIVE_ONLY', DELETED_ONLY: 'DELETED_ONLY', ALL: 'ALL' }
  const t = map[String(v)]
  if (!t) throw invalid(`Invalid value ${JSON.stringify(v)} for view type: expected ACTIVE_ONLY, DELETED_ONLY or ALL.`)
  return t
}

export function matchesView(lifecycle: string, view: ViewType): boolean {
  return view === 'ALL' || (view === 'ACTIVE_ONLY' ? lifecycle === 'active' : lifecycle === 'deleted')
}

// ---- entities ----

/** Tags MLflow keeps as tags but labbook keeps as fields of the run. */
export const RUN_NAME_TAG = 'mlflow.runName'
export const USER_TAG = 'mlflow.user'
export const PARENT_TAG = 'mlflow.parentRunId'
export const NOTE_TAG = 'mlflow.note.content'
export const GIT_COMMIT_TAG = 'mlflow.source.git.commit'

export interface KeyValue { key: string; value: string }

export function experimentArtifactLocation(experimentId: string): string {
  return `mlflow-artifacts:/${experimentId}`
}

export function runArtifactUri(experimentId: string, runId: string): string {
  return `mlflow-artifacts:/${experimentId}/${runId}/artifacts`
}

export function experimentToJson(e: Experiment): Record<string, unknown> {
  const tags: KeyValue[] = Object.entries(e.tags ?? {}).map(([key, value]) => ({ key, value }))
  if (e.description !== undefined && !('mlflow.note.content' in (e.tags ?? {}))) tags.push({ key: NOTE_TAG, value: e.description })
  return {
    experiment_id: e.id,
    name: e.name,
    artifact_location: experimentArtifactLocation(e.id),
    lifecycle_stage: e.lifecycle,
    last_update_time: e.updatedAt ?? e.createdAt,
    creation_time: e.createdAt,
    tags,
  }
}

export function runInfoToJson(r: RunSummary): Record<string, unknown> {
  const info: Record<string, unknown> = {
    run_id: r.id,
    run_uuid: r.id,
    run_name: r.name,
    experiment_id: r.experiment,
    user_id: r.user ?? '',
    status: r.status,
    start_time: r.startTime,
    artifact_uri: runArtifactUri(r.experiment, r.id),
    lifecycle_stage: r.lifecycle,
  }
  if (r.endTime !== undefined) info.end_time = r.endTime
  return info
}

/** The run's tags as MLflow has them: labbook's fields reappear as MLflow's system tags (one home for search, order and replies). */
export function systemTags(r: RunSummary): Record<string, string> {
  const tags = keyed(r.tags)
  tags[RUN_NAME_TAG] = r.name
  if (r.user !== undefined && tags[USER_TAG] === undefined) tags[USER_TAG] = r.user
  if (r.parent !== undefined) tags[PARENT_TAG] = r.parent
  if (r.description !== undefined) tags[NOTE_TAG] = r.description
  if (r.source?.commit !== undefined && tags[GIT_COMMIT_TAG] === undefined) tags[GIT_COMMIT_TAG] = r.source.commit
  return tags
}

/** The whole run as `runs/get` and `runs/search` answer it. */
export function runToJson(r: RunSummary): Record<string, unknown> {
  const metrics = Object.entries(r.metrics).map(([key, m]) => ({ key, value: doubleToJson(m.value), timestamp: m.timestamp, step: m.step }))
  const params = Object.entries(r.params).map(([key, value]) => ({ key, value: String(value) }))
  return {
    info: runInfoToJson(r),
    data: { metrics, params, tags: Object.entries(systemTags(r)).map(([key, value]) => ({ key, value })) },
    inputs: r.datasets?.length ? { dataset_inputs: r.datasets.map(datasetToJson) } : {},
  }
}

export const DATASET_CONTEXT_TAG = 'mlflow.data.context'

/** MLflow's DatasetInput: `{tags: [{key: 'mlflow.data.context', value}], dataset: {name, digest, source_type, source, schema, profile}}`. */
export function datasetToJson(d: DatasetInput): Record<string, unknown> {
  const dataset: Record<string, unknown> = { name: d.name, digest: d.digest, source_type: d.sourceType, source: d.source }
  if (d.schema !== undefined) dataset.schema = d.schema
  if (d.profile !== undefined) dataset.profile = d.profile
  return { tags: d.context !== undefined ? [{ key: DATASET_CONTEXT_TAG, value: d.context }] : [], dataset }
}

/** A DatasetInput from a `runs/log-inputs` request, checked. */
export function datasetIn(v: unknown): DatasetInput {
  const o = (v && typeof v === 'object' ? v : {}) as { tags?: unknown; dataset?: Record<string, unknown> }
  const ds = o.dataset && typeof o.dataset === 'object' ? o.dataset : undefined
  const str = (k: string, required: boolean): string | undefined => {
    const x = ds?.[k]
    if (x === undefined || x === null || x === '') {
      if (required) throw invalid(`Missing value for required parameter 'dataset.${k}' of a dataset input.`)
      return undefined
    }
    if (typeof x !== 'string') throw invalid(`Invalid value ${JSON.stringify(x)} for 'dataset.${k}': expected a string.`)
    return x
  }
  const d: DatasetInput = { name: str('name', true)!, digest: str('digest', true)!, sourceType: str('source_type', true)!, source: str('source', true)! }
  const schema = str('schema', false), profile = str('profile', false)
  if (schema !== undefined) d.schema = schema
  if (profile !== undefined) d.profile = profile
  if (Array.isArray(o.tags)) {
    for (const t of o.tags as Array<{ key?: unknown; value?: unknown }>) if (t?.key === DATASET_CONTEXT_TAG && typeof t.value === 'string') d.context = t.value
  }
  return d
}

export function metricToJson(p: MetricPoint, runId?: string): Record<string, unknown> {
  const m: Record<string, unknown> = { key: p.key, value: doubleToJson(p.value), timestamp: p.timestamp, step: p.step }
  if (runId !== undefined) m.run_id = runId
  return m
}

// ---- paging ----

/** Page tokens are opaque to clients; ours are base64 JSON of the offset, as MLflow's are. */
export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64')
}

export function decodePageToken(token: string | undefined): number {
  if (!token) return 0
  try {
    const v = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown }
    if (typeof v.offset === 'number' && Number.isSafeInteger(v.offset) && v.offset >= 0) return v.offset
  } catch {
    // reported below
  }
  throw invalid(`Invalid page token ${JSON.stringify(token)}.`)
}

/** `max_results`; 0 is allowed where MLflow answers it with an empty page (`min` 0). */
export function maxResults(f: Fields, name: string, fallback: number, limit: number, min = 1): number {
  const n = f.int(name)
  if (n === undefined) return fallback
  if (n < min || n > limit) throw invalid(`Invalid value ${n} for parameter '${name}' supplied: it must be between ${min} and ${limit}.`)
  return n
}
