import { defineCommand } from 'citty'
import { withBook, resolveRunArg } from './book.js'
import { ctx } from './context.js'
import { withExamples } from './help.js'
import { say } from './output.js'

export default withExamples(defineCommand({
  meta: { name: 'rename', description: 'Give a run a new name' },
  args: {
    run: { type: 'positional', description: 'Run id, unique id prefix or unique name', valueHint: 'RUN' },
    name: { type: 'positional', description: 'The new name', valueHint: 'NEW_NAME' },
  },
  async run({ args }) {
    const { io } = ctx()
    await withBook(async (book) => {
      const run = await resolveRunArg(book, String(args.run))
      await book.renameRun(run.id, String(args.name))
      say(io, `Renamed run ${run.id}: ${run.name} → ${args.name}.`)
    })
  },
}), ['labbook rename 01jf3k baseline'])
