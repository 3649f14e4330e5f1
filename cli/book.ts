/** The one place the CLI opens the library. */
import { Labbook, type Run } from '../src/index.js'
import { target } from './context.js'

export type Book = Labbook
export type RunHandle = Run
export type { ArtifactEntry } from '../src/index.js'

/** Opens the labbook of the target repository (see context.target). */
export async function openBook(o: { recover?: boolean } = {}): Promise<Labbook> {
  const { repo, branch } = target()
  return Labbook.open({ repo, branch, ...o })
}

/** Opens the book, runs `fn`, and always closes it (committing what runs it opened have logged). */
export async function withBook<T>(fn: (book: Labbook) => Promise<T>, o: { recover?: boolean } = {}): Promise<T> {
  const book = await openBook(o)
  try {
    return await fn(book)
  } finally {
    await book.close()
  }
}
