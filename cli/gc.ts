import { defineCommand } from 'citty'
import { withBook } from './book.js'
import { ctx } from './context.js'
import { withExamples } from './help.js'
import { out, say, toJson } from './output.js'

export default withExamples(defineCommand({
  meta: { name: 'gc', description: 'Pack the labbook branch\'s loose git objects now (also done in the background every ~2,000 objects)' },
  args: { json: { type: 'boolean', description: 'Print {objects, tip} as JSON' } },
  async run({ args }) {
    const { io } = ctx()
    await withBook(async (book) => {
      const r = book.gc()
      if (args.json) return out(io, toJson(r))
      say(io, r.objects > 0 ? `Packed ${r.objects} loose object${r.objects === 1 ? '' : 's'} of branch ${book.branch}.` : `Nothing to pack: branch ${book.branch} has no loose objects.`)
    })
  },
}), ['labbook gc'])
