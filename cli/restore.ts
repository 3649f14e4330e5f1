import { defineCommand } from 'citty'
import { usage } from './args.js'
import { withBook } from './book.js'
import { ctx } from './context.js'
import { withExamples } from './help.js'
import { say } from './output.js'

export default withExamples(defineCommand({
  meta: { name: 'restore', description: 'Bring back runs deleted with `labbook rm`' },
  args: { run: { type: 'positional', description: 'Runs: ids, unique id prefixes or unique names', valueHint: 'RUN...' } },
  async run({ args }) {
    const { io } = ctx()
    const refs = args._.length ? args._ : []
    if (refs.length === 0) throw usage('Name at least one run.')
    await withBook(async (book) => {
      for (const ref of refs) {
        const run = await book.resolveRun(ref)
        await book.restoreRun(run.id)
        say(io, `Restored run ${run.id} (${run.name}).`)
      }
    })
  },
}), ['labbook restore 01jf3k'])
