import type { Book } from './book.js'
import type { ExperimentNames } from './runs-view.js'

export async function experimentNames(book: Book): Promise<ExperimentNames> {
  const list = await book.listExperiments({ includeDeleted: true })
  return new Map(list.map((e) => [e.id, e.name]))
}
