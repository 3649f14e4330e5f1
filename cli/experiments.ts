import { defineCommand } from 'citty'
import { withBook } from './book.js'
import { ctx } from './context.js'
import { withExamples } from './help.js'
import { colorsFor, formatAge, out, renderTable, say, toJson } from './output.js'

export default withExamples(defineCommand({
  meta: { name: 'experiments', description: 'List experiments with their run counts' },
  args: {
    all: { type: 'boolean', description: 'Include deleted experiments' },
    json: { type: 'boolean', description: 'Print a JSON array' },
  },
  async run({ args }) {
    const { io } = ctx()
    await withBook(async (book) => {
      const list = await book.listExperiments({ includeDeleted: args.all })
      const runs = await book.listRuns({ includeDeleted: false })
      const counts = new Map<string, number>()
      for (const r of runs) counts.set(r.experiment, (counts.get(r.experiment) ?? 0) + 1)
      const rows = list.map((e) => ({ ...e, runs: counts.get(e.id) ?? 0 }))
      if (args.json) return out(io, toJson(rows))
      if (rows.length === 0) return say(io, 'No experiments yet. `labbook run -e NAME -- <command>` creates one.')
      const c = colorsFor(io.stdout, io.env)
      io.stdout.write(renderTable(
        [{ header: 'id', color: c.dim }, { header: 'name' }, { header: 'runs', right: true }, { header: 'created' }, { header: 'lifecycle', optional: true }],
        rows.map((e) => [e.id, e.name, String(e.runs), formatAge(e.createdAt), e.lifecycle]),
        { width: io.stdout.isTTY ? io.stdout.columns || 100 : undefined, colors: c },
      ))
    })
  },
}), ['labbook experiments', 'labbook experiments --json'])
