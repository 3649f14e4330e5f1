/**
 * MLflow's `search_registered_models` and `search_model_versions` over the registry: their filter and order-by
 * attributes are renamed onto run fields and evaluated by the one filter language (src/query).
 */
import { LabbookError, isLabbookError } from '../errors.js'
import type { ModelRecord, ModelVersion } from '../model/registry.js'
import type { RunSummary } from '../model/run.js'
import { parseFilter } from '../query/parser.js'
import { renameAttributes } from '../query/rename.js'
import { searchRuns } from '../query/search.js'

const MODEL_FIELDS: Record<string, string> = {
  name: 'run_name',
  creation_timestamp: 'start_time',
  last_updated_timestamp: 'end_time',
}

const VERSION_FIELDS: Record<string, string> = {
  name: 'run_name',
  version_number: 'metrics.version_number',
  run_id: 'parent',
  source_path: 'params.source_path',
  current_stage: 'params.current_stage',
  user_id: 'user_id',
  creation_timestamp: 'start_time',
  last_updated_timestamp: 'end_time',
}

export interface RegistrySearch {
  filter?: string
  orderBy?: string[]
  limit?: number
  offset?: number
}

/** Registered models matching an MLflow model filter (`name LIKE 'iris%'`, `tags.team = 'cv'`); default order name ASC. */
export function searchModels(records: readonly ModelRecord[], o: RegistrySearch = {}): { models: ModelRecord[]; total: number } {
  const byName = new Map(records.map((r) => [r.model.name, r]))
  const rows = records.map(modelRow)
  const found = run(rows, o, MODEL_FIELDS, ['run_name ASC'], 'registered models')
  return { models: page(found, o).map((r) => byName.get(r.name)!), total: found.length }
}

/** Versions (live ones) matching an MLflow version filter (`name = 'iris' AND version_number > 2`, `run_id IN (…)`). */
export function searchVersions(records: readonly ModelRecord[], o: RegistrySearch = {}): { versions: ModelVersion[]; total: number } {
  const byId = new Map<string, ModelVersion>()
  const rows: RunSummary[] = []
  for (const r of records) for (const v of r.versions) if (!v.deleted) { byId.set(v.id, v); rows.push(versionRow(v)) }
  const found = run(rows, o, VERSION_FIELDS, ['run_name ASC', 'metrics.version_number DESC'], 'model versions')
  return { versions: page(found, o).map((r) => byId.get(r.id)!), total: found.length }
}

function run(rows: RunSummary[], o: RegistrySearch, fields: Record<string, string>, tiebreak: string[], what: string): RunSummary[] {
  try {
    const filter = o.filter?.trim() ? parseFilter(renameAttributes(o.filter, fields)) : undefined
    const orderBy = [...(o.orderBy ?? []).map((x) => renameAttributes(x, fields)), ...tiebreak]
    return searchRuns(rows, filter, { orderBy, textOrder: 'string', limit: o.limit === undefined ? undefined : (o.offset ?? 0) + o.limit })
  } catch (e) {
    if (isLabbookError(e, 'INVALID_FILTER')) {
      throw new LabbookError('INVALID_FILTER', `Invalid filter or order_by for ${what}: ${e.message}`, `Fields: ${Object.keys(fields).join(', ')}, tags.<key>.`, {}, { cause: e })
    }
    throw e
  }
}

function page<T>(rows: T[], o: RegistrySearch): T[] {
  const offset = o.offset ?? 0
  return rows.slice(offset, o.limit === undefined ? undefined : offset + o.limit)
}

function modelRow(r: ModelRecord): RunSummary {
  return {
    id: r.model.name, name: r.model.name, experiment: '', status: 'FINISHED', lifecycle: 'active',
    startTime: r.model.createdAt, endTime: r.model.updatedAt, source: {}, params: {}, tags: r.model.tags, metrics: {},
  }
}

function versionRow(v: ModelVersion): RunSummary {
  const row: RunSummary = {
    id: v.id, name: v.model, experiment: '', status: 'FINISHED', lifecycle: 'active', startTime: v.createdAt, endTime: v.updatedAt,
    source: {}, params: { source_path: v.source, current_stage: v.stage }, tags: v.tags,
    metrics: { version_number: { value: v.version, step: 0, timestamp: 0, min: v.version, max: v.version, count: 1 } },
  }
  if (v.runId) row.parent = v.runId
  if (v.user) row.user = v.user
  return row
}
