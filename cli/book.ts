/** The one place the CLI opens the library. */
// The track layer itself, not src/index.js: the public index loads the server, the site build, import and report
// modules, which cost `labbook ls` ~0.2 s of module loading it never uses (issue 17).
import { Labbook } from '../src/track/labbook.js'
import type { Run } from '../src/track/run.js'
import type { RunSummary } from '../src/model/run.js'
import { ctx, target } from './context.js'
import { say } from './output.js'

export type Book = Labbook
export type RunHandle = Run
export type { ArtifactEntry } from '../src/model/artifact.js'

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

/**
 * A RUN argument (id, id prefix or name) to its run. A name several runs share means the newest (as MLflow allows
 * duplicate names); which one was taken goes to stderr, with the others in a hint.
 */
export async function resolveRunArg(book: Labbook, ref: string): Promise<RunSummary> {
  const { run, others } = await book.resolveRunName(ref)
  if (others.length > 0) {
    const { io } = ctx()
    const when = (r: RunSummary) => new Date(r.startTime).toISOString().slice(0, 16).replace('T', ' ')
    say(io, `labbook: ${others.length + 1} runs are named ${JSON.stringify(ref)}; using the newest, ${run.id} (started ${when(run)} UTC${run.lifecycle === 'deleted' ? ', deleted' : ''}).`)
    say(io, `hint: the others: ${others.slice(0, 5).map((r) => `${r.id} (${when(r)}${r.lifecycle === 'deleted' ? ', deleted' : ''})`).join(', ')}${others.length > 5 ? `, and ${others.length - 5} more` : ''}; pass an id to pick one.`)
  }
  return run
}
