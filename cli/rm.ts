import { defineCommand } from 'citty'
import { usage } from './args.js'
import { withBook, type Book, resolveRunArg } from './book.js'
import type { RunSummary } from '../src/model/run.js'
import { ctx } from './context.js'
import { withExamples } from './help.js'
import { say } from './output.js'

export default withExamples(defineCommand({
  meta: { name: 'rm', description: 'Mark runs deleted (kept on the branch; `labbook restore` brings them back)' },
  args: { run: { type: 'positional', description: 'Runs: ids, unique id prefixes or names (a shared name means the newest run)', valueHint: 'RUN...' } },
  run: ({ args }) => forEachRun(args._, async (book, run) => {
    if (run.lifecycle === 'deleted') return `Run ${run.id} (${run.name}) is already deleted; \`labbook restore ${run.id}\` brings it back.`
    await book.deleteRun(run.id)
    return `Deleted run ${run.id} (${run.name}).`
  }),
}), ['labbook rm 01jf3k 01jf9q', 'labbook rm my-broken-run'])

/** Resolves each RUN argument and applies `act` to it, printing what it returns (shared by rm and restore). */
export async function forEachRun(refs: string[] | undefined, act: (book: Book, run: RunSummary) => Promise<string>): Promise<void> {
  const { io } = ctx()
  if (!refs?.length) throw usage('Name at least one run.')
  await withBook(async (book) => {
    for (const ref of refs) say(io, await act(book, await resolveRunArg(book, ref)))
  })
}
