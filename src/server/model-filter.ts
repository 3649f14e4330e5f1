import { isLabbookError } from '../errors.js'
import { addToSummary } from '../model/metric.js'
import type { MetricSummary, RunSummary } from '../model/run.js'
import { compileFilter, parseFilter } from '../query/index.js'
import { renameAttributes } from '../query/rename.js'
import { invalid } from './errors.js'
import type { KeyValue } from './protocol.js'
import { keyed } from '../model/run.js'

/** What the filter sees of a logged model (see routes/models.ts for the record). */
export interface FilterableModel {
  info: { model_id: string; experiment_id: string; name: string; creation_timestamp_ms: number; last_updated_timestamp_ms: number; status: string; source_run_id: string; tags: KeyValue[] }
  data: { params: KeyValue[]; metrics: unknown[] }
}

/** MLflow's logged-model attributes, spelled as the run attributes our filter language knows. */
const ATTRIBUTES: Record<string, string> = {
  name: 'run_name',
  model_id: 'run_id',
  source_run_id: 'parent',
  creation_timestamp: 'start_time',
  creation_time: 'start_time',
  last_updated_timestamp: 'end_time',
  experiment_id: 'experiment',
}

/**
 * `logged-models/search`'s `filter`: MLflow's syntax for models (`name = 'rf' AND metrics.acc > 0.9 AND
 * params.lr = '0.01'`), evaluated by the run filter language after renaming the model attributes.
 */
export function compileModelFilter(text: string): (m: FilterableModel) => boolean {
  const rewritten = renameAttributes(text, ATTRIBUTES)
  let predicate: (r: RunSummary) => boolean
  try {
    predicate = compileFilter(parseFilter(rewritten))
  } catch (e) {
    if (isLabbookError(e, 'INVALID_FILTER')) throw invalid(`Invalid filter for logged models ${JSON.stringify(text)}: ${e.message}`)
    throw e
  }
  return (m) => predicate(asRun(m))
}

function asRun(m: FilterableModel): RunSummary {
  const metrics = keyed<MetricSummary>()
  for (const x of m.data.metrics as Array<{ key?: string; value?: number; step?: number; timestamp?: number }>) {
    if (typeof x?.key === 'string' && typeof x.value === 'number') metrics[x.key] = addToSummary(metrics[x.key], x.value, x.step ?? 0, x.timestamp ?? 0)
  }
  return {
    id: m.info.model_id, name: m.info.name, experiment: m.info.experiment_id, status: m.info.status as RunSummary['status'],
    lifecycle: 'active', startTime: m.info.creation_timestamp_ms, endTime: m.info.last_updated_timestamp_ms,
    parent: m.info.source_run_id, source: {},
    params: Object.fromEntries(m.data.params.map((p) => [p.key, p.value])),
    tags: Object.fromEntries(m.info.tags.map((t) => [t.key, t.value])),
    metrics,
  }
}
