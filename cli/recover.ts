import { defineCommand } from 'citty'
import type { RecoveredRun } from '../src/index.js'
import { withBook } from './book.js'
import { ctx } from './context.js'
import { withExamples } from './help.js'
import { progress } from './progress.js'
import { out, say, toJson } from './output.js'

export default withExamples(defineCommand({
  meta: { name: 'recover', description: 'Commit the journals of runs whose process died (crash, kill -9) and report them' },
  args: { json: { type: 'boolean', description: 'Print the recovered runs as JSON' } },
  async run({ args }) {
    const { io } = ctx()
    await withBook(async (book) => {
      const bar = progress(io, 'recovering')
      bar.update(0)
      const recovered = await book.recover({ onProgress: (done, total) => bar.update(done, total) }).finally(() => bar.done())
      if (args.json) return out(io, toJson(recovered))
      if (recovered.length === 0) return say(io, 'Nothing to recover: no journals left by dead processes.')
      for (const r of recovered) say(io, `Recovered run ${r.id}${describe(r)}.`)
      say(io, `Recovered ${recovered.length} run${recovered.length === 1 ? '' : 's'}.`)
    }, { recover: false })
  },
}), ['labbook recover', 'labbook recover --json'])

function describe(r: RecoveredRun): string {
  return ` (${r.name}, status ${r.status}, ${r.points} point${r.points === 1 ? '' : 's'} recovered)`
}
