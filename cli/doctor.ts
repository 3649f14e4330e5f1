import { defineCommand } from 'citty'
import { diagnose } from '../src/track/doctor.js'
import { withBook } from './book.js'
import { ctx, setExit } from './context.js'
import { withExamples } from './help.js'
import { out, say, toJson } from './output.js'

export default withExamples(defineCommand({
  meta: { name: 'doctor', description: 'Report what labbook skips or waits for: damaged run files, dead writers, leftover locks; changes nothing' },
  args: { json: { type: 'boolean', description: 'Print the findings as JSON' } },
  async run({ args }) {
    const { io } = ctx()
    await withBook(async (book) => {
      const found = await diagnose(book)
      if (args.json) out(io, toJson(found))
      else if (found.length === 0) say(io, 'No problems found.')
      else {
        for (const d of found) {
          say(io, `${d.kind}: ${d.path}: ${d.message}`)
          say(io, `  hint: ${d.hint}`)
        }
        say(io, `${found.length} problem${found.length === 1 ? '' : 's'} found.`)
      }
      if (found.length > 0) setExit(1)
    }, { recover: false })
  },
}), ['labbook doctor', 'labbook doctor --json'])
