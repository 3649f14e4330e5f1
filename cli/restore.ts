import { defineCommand } from 'citty'
import { withExamples } from './help.js'
import { forEachRun } from './rm.js'

export default withExamples(defineCommand({
  meta: { name: 'restore', description: 'Bring back runs deleted with `labbook rm`' },
  args: { run: { type: 'positional', description: 'Runs: ids, unique id prefixes or names (a shared name means the newest run)', valueHint: 'RUN...' } },
  run: ({ args }) => forEachRun(args._, async (book, run) => {
    if (run.lifecycle === 'active') return `Run ${run.id} (${run.name}) is not deleted; nothing to restore.`
    await book.restoreRun(run.id)
    return `Restored run ${run.id} (${run.name}).`
  }),
}), ['labbook restore 01jf3k'])
