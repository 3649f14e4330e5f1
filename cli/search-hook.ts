import { LabbookError } from '../src/errors.js'
import type { RunSummary } from '../src/model/run.js'

/** Filters and orders listed runs with the query library (src/query). */
export async function searchHook(runs: RunSummary[], filter: string | undefined, orderBy: string[]): Promise<RunSummary[]> {
  const spec = '../src/query/index.js'
  let q: { searchRuns?: (runs: RunSummary[], o: { filter?: string; orderBy?: string[] }) => RunSummary[] }
  try {
    q = await import(spec)
  } catch (e) {
    throw new LabbookError('INVALID_FILTER', 'Filtering and ordering are not available in this build (src/query is missing).', 'Drop --filter/--order-by.', {}, { cause: e })
  }
  if (!q.searchRuns) throw new LabbookError('INVALID_FILTER', 'The query library has no searchRuns().', 'Drop --filter/--order-by.')
  return q.searchRuns(runs, { filter, orderBy })
}
