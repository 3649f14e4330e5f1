import { defineCommand } from 'citty'
import { push } from '../src/sync/remote.js'
import { usage } from './args.js'
import { withBook } from './book.js'
import { ctx } from './context.js'
import { withExamples } from './help.js'
import { out, say, toJson } from './output.js'

/** Shared by push and pull. */
export const REMOTE_ARGS = {
  remote: { type: 'positional', required: false, default: 'origin', description: 'Remote name or URL (default origin)' },
  json: { type: 'boolean', description: 'Print the result as JSON' },
} as const

export default withExamples(defineCommand({
  meta: { name: 'push', description: 'Push the labbook branch and its git notes; a lost race is merged and retried (or --hosts: to this clone\'s own ref, no race)' },
  args: {
    ...REMOTE_ARGS,
    hosts: { type: 'boolean', description: 'Push to this clone\'s own ref, refs/labbook/hosts/<id> (for many machines; readers merge them). Default: git config labbook.push, else shared' },
    shared: { type: 'boolean', description: 'Push to the shared branch (the default unless git config labbook.push hosts)' },
  },
  async run({ args }) {
    const { io } = ctx()
    await withBook(async (book) => {
      if (args.hosts && args.shared) throw usage('--hosts and --shared exclude each other.', 'Pick one, or set a default: git config labbook.push hosts')
      const result = await push(book, args.remote || 'origin', { mode: args.hosts ? 'hosts' : args.shared ? 'shared' : undefined })
      if (args.json) return out(io, toJson(result))
      for (const p of result.pulls) if (p.branch === 'merged') say(io, `Merged ${p.runsAdded} run${p.runsAdded === 1 ? '' : 's'} from ${p.remote} after a concurrent push.`)
      for (const c of result.pulls.flatMap((p) => p.conflicts)) say(io, `  ${c.path}: ${c.reason}`)
      if (result.lfsObjects) say(io, `Large artifacts: ${result.lfsObjects} Git LFS object${result.lfsObjects === 1 ? '' : 's'} (${(result.lfsBytes / 1048576).toFixed(1)} MiB) on ${result.remote}.`)
      const where = result.mode === 'hosts' ? ` as ${result.ref}${result.shared ? ` (and ${book.branch})` : ''}` : ''
      say(io, `Pushed ${book.branch} (${result.tip?.slice(0, 12)}) to ${result.remote}${where}${result.retries ? ` after ${result.retries} retr${result.retries === 1 ? 'y' : 'ies'}` : ''}.`)
    })
  },
}), ['labbook push', 'labbook push upstream', 'labbook push --hosts', 'labbook push --json'])
