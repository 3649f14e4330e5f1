import type { RunSummary } from '../model/run.js'
import { searchRuns } from '../query/index.js'
import { systemTags } from './protocol.js'

/** Filters and order-bys naming a tag MLflow keeps but labbook holds as a field (runName, user, parent, note, git commit). */
const SYSTEM_TAG = /mlflow\.(runName|user|parentRunId|note\.content|source\.git\.commit)/

/**
 * `runs/search` over run summaries with the query layer (src/query), the language `labbook ls --filter`
 * speaks; its default order is MLflow's (newest start time first, then id). Params and tags sort as
 * strings, as every MLflow store does.
 */
export function searchRunSummaries(
  runs: RunSummary[], filter: string | undefined, orderBy: string[], limit: number, offset: number,
  experimentNames?: Record<string, string>,
): { runs: RunSummary[]; total: number } {
  // MLflow clients filter and sort on the system tags labbook keeps as fields (tags.mlflow.runName = 'x')
  const wantsSystem = (filter !== undefined && SYSTEM_TAG.test(filter)) || orderBy.some((o) => SYSTEM_TAG.test(o))
  const input = wantsSystem ? runs.map((r) => ({ ...r, tags: systemTags(r) })) : runs
  const all = searchRuns(input, filter || undefined, { orderBy, experimentNames, textOrder: 'string' })
  const page = all.slice(offset, offset + limit)
  // hand back the runs as stored, not the copies with system tags
  const byId = wantsSystem ? new Map(runs.map((r) => [r.id, r])) : undefined
  return { runs: byId ? page.map((r) => byId.get(r.id)!) : page, total: all.length }
}
