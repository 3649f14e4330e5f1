import { defineCommand } from 'citty'
import { pull } from '../src/sync/remote.js'
import { withBook } from './book.js'
import { ctx } from './context.js'
import { withExamples } from './help.js'
import { out, say, toJson } from './output.js'
import { REMOTE_ARGS } from './push.js'

const WHAT: Record<string, string> = {
  'no-remote-branch': 'has no labbook branch yet',
  'up-to-date': 'had nothing new',
  'fast-forward': 'fast-forwarded',
  merged: 'merged',
  created: 'created from the remote',
}

export default withExamples(defineCommand({
  meta: { name: 'pull', description: 'Fetch the remote labbook branch, notes and per-host refs and merge them (union of runs, no checkout)' },
  args: REMOTE_ARGS,
  async run({ args }) {
    const { io } = ctx()
    await withBook(async (book) => {
      const r = await pull(book, args.remote || 'origin')
      if (args.json) return out(io, toJson(r))
      say(io, `${r.remote}: branch ${WHAT[r.branch]}${r.branch === 'merged' ? ` (${r.runsAdded} new run${r.runsAdded === 1 ? '' : 's'})` : ''}${r.hosts ? ` with ${r.hosts} host ref${r.hosts === 1 ? '' : 's'}` : ''}; notes ${WHAT[r.notes] ?? r.notes}.`)
      for (const c of r.conflicts) say(io, `  ${c.path}: ${c.reason}`)
    })
  },
}), ['labbook pull', 'labbook pull upstream --json'])
