import { defineCommand } from 'citty'
import { withBook } from './book.js'
import { ctx } from './context.js'
import { withExamples } from './help.js'
import { out, say, toJson } from './output.js'

export default withExamples(defineCommand({
  meta: { name: 'gc', description: 'Pack the labbook branch\'s loose git objects now (also done in the background every ~2,000 objects)' },
  args: {
    'migrate-artifacts': { type: 'boolean', description: 'Move large artifacts logged by labbook format 1 (.git/labbook/objects) to Git LFS, so `labbook push` shares them' },
    json: { type: 'boolean', description: 'Print {objects, tip} as JSON (with --migrate-artifacts: {migrated, missing, commit})' },
  },
  async run({ args }) {
    const { io } = ctx()
    await withBook(async (book) => {
      if (args['migrate-artifacts']) {
        const m = await book.migrateArtifacts()
        if (args.json) return out(io, toJson(m))
        say(io, m.migrated.length ? `Moved ${m.migrated.length} large artifact${m.migrated.length === 1 ? '' : 's'} to Git LFS (commit ${m.commit?.slice(0, 12)}); \`labbook push\` uploads them.` : 'No format-1 large artifacts to move.')
        for (const x of m.missing) say(io, `  not on this machine: run ${x.run} ${x.path} (sha256 ${x.sha256.slice(0, 12)}…): run this command where it was logged`)
        return
      }
      const r = book.gc()
      if (args.json) return out(io, toJson(r))
      say(io, r.objects > 0 ? `Packed ${r.objects} loose object${r.objects === 1 ? '' : 's'} of branch ${book.branch}.` : `Nothing to pack: branch ${book.branch} has no loose objects.`)
    })
  },
}), ['labbook gc', 'labbook gc --migrate-artifacts'])
