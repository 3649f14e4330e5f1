import { searchRuns, type SearchOptions } from './query/index.js'
import type { FilterAst } from './query/index.js'
import type { RunSummary } from './model/run.js'
import type { LabbookReader } from './track/reader.js'

export interface SearchBookOptions extends Omit<SearchOptions, 'experimentNames'> {
  /** Limit to one experiment (id or name). */
  experiment?: string
  /** Include runs whose lifecycle is deleted. @default false */
  includeDeleted?: boolean
}

/**
 * Runs matching an MLflow-style filter (with OR, NOT, parentheses, IS NULL), sorted and limited.
 * @example await search(book, "metrics.accuracy > 0.9 AND params.model = 'cnn'", { orderBy: ['metrics.accuracy DESC'], limit: 10 })
 */
export async function search(book: LabbookReader, filter?: string | FilterAst, o: SearchBookOptions = {}): Promise<RunSummary[]> {
  const runs = await book.listRuns({ experiment: o.experiment, includeDeleted: o.includeDeleted })
  const experimentNames = Object.fromEntries((await book.listExperiments({ includeDeleted: true })).map((e) => [e.id, e.name]))
  return searchRuns(runs, filter, { ...o, experimentNames })
}
