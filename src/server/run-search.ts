import type { RunSummary } from '../model/run.js'
import { searchRuns } from '../query/index.js'
import { NOTE_TAG, PARENT_TAG, RUN_NAME_TAG, USER_TAG } from './protocol.js'

/**
 * `runs/search` over run summaries with the query layer (src/query), the language `labbook ls --filter`
 * speaks; its default order is MLflow's (newest start time first, then id).
 */
export function searchRunSummaries(
  runs: RunSummary[], filter: string | undefined, orderBy: string[], limit: number, offset: number,
  experimentNames?: Record<string, string>,
): { runs: RunSummary[]; total: number } {
  // MLflow clients filter on the system tags labbook keeps as fields (tags.mlflow.runName = 'x')
  const input = filter && /mlflow\.(runName|user|parentRunId|note\.content)/.test(filter) ? runs.map(withSystemTags) : runs
  const all = searchRuns(input, filter || undefined, { orderBy, experimentNames })
  return { runs: all.slice(offset, offset + limit), total: all.length }
}

function withSystemTags(r: RunSummary): RunSummary {
  const tags: Record<string, string> = { ...r.tags, [RUN_NAME_TAG]: r.name }
  if (r.user !== undefined) tags[USER_TAG] ??= r.user
  if (r.parent !== undefined) tags[PARENT_TAG] = r.parent
  if (r.description !== undefined) tags[NOTE_TAG] = r.description
  return { ...r, tags }
}
