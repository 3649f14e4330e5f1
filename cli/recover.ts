import { defineCommand } from 'citty'
import type { DeferredRun, RecoveredRun } from '../src/index.js'
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
      const deferred: DeferredRun[] = []
      const recovered = await book.recover({ onProgress: (done, total) => bar.update(done, total), onDeferred: (d) => deferred.push(d) }).finally(() => bar.done())
      // Said on stderr even with --json: the run is not recovered yet, and the user should know why.
      for (const d of deferred) {
        say(io, `Run ${d.id} left RUNNING: its labbook run wrapper died, but the command it ran (pid ${d.childPid}) is still alive and may write more to $LABBOOK_METRICS.`)
        say(io, 'hint: run `labbook recover` again once that command has exited; it then commits everything the command wrote.')
      }
      if (args.json) return out(io, toJson(recovered))
      if (recovered.length === 0) return say(io, deferred.length ? 'Nothing recovered yet.' : 'Nothing to recover: no journals left by dead processes.')
      for (const r of recovered) {
        say(io, `Recovered run ${r.id}${describe(r)}.`)
        const f = r.metricsFile
        if (f) {
          say(io, `  ${f.points} point${f.points === 1 ? '' : 's'} from ${f.path} written after the wrapper died${f.malformed ? `, ${f.malformed} bad line${f.malformed === 1 ? '' : 's'} skipped` : ''}.`)
          for (const p of f.problems.slice(0, 20)) say(io, `  skipped${p.line > 0 ? ` line ${p.line} after the recorded offset` : ''}: ${p.message}`)
        }
      }
      say(io, `Recovered ${recovered.length} run${recovered.length === 1 ? '' : 's'}.`)
    }, { recover: false })
  },
}), ['labbook recover', 'labbook recover --json'])

function describe(r: RecoveredRun): string {
  return ` (${r.name}, status ${r.status}, ${r.points} point${r.points === 1 ? '' : 's'} recovered)`
}
