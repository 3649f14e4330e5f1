import type { RunSummary } from '../model/run.js'

/**
 * `runs/search` over run summaries: filter, order and page with the query layer (src/query), the same
 * language `labbook ls --filter` speaks. MLflow's default order is newest start time first.
 */
export async function searchRunSummaries(
  runs: RunSummary[], filter: string | undefined, orderBy: string[], limit: number, offset: number,
): Promise<{ runs: RunSummary[]; total: number }> {
  // TEMPORARY until src/query lands: a specifier TypeScript does not resolve
  const spec = '../query/index.js'
  const q = (await import(spec)) as {
    searchRuns(runs: RunSummary[], filter?: string, o?: { orderBy?: string[]; limit?: number; offset?: number }): RunSummary[]
  }
  const sorted = orderBy.length ? runs : runs.slice().sort((a, b) => b.startTime - a.startTime || (a.id < b.id ? -1 : 1))
  const all = q.searchRuns(sorted, filter || undefined, { orderBy })
  return { runs: all.slice(offset, offset + limit), total: all.length }
}
