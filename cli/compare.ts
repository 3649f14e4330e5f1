import { defineCommand } from 'citty'
import { compareRuns, renderComparisonMarkdown, renderComparisonText } from '../src/report/compare.js'
import { usage } from './args.js'
import { withBook, resolveRunArg } from './book.js'
import { ctx } from './context.js'
import { loadConfig } from '../src/format/config-file.js'
import { experimentNames } from './experiment-names.js'
import { withExamples } from './help.js'
import { out, toJson } from './output.js'

export default withExamples(defineCommand({
  meta: { name: 'compare', description: 'Compare runs side by side: params, metrics (best marked by goal), tags, code, durations' },
  args: {
    runs: { type: 'positional', description: 'Two or more runs: ids, unique id prefixes or unique names', valueHint: 'RUN...' },
    'diff-only': { type: 'boolean', description: 'Only rows whose values differ' },
    json: { type: 'boolean', description: 'Print the comparison as JSON' },
    md: { type: 'boolean', description: 'Print GitHub Markdown (pastes into a pull request)' },
  },
  async run({ args }) {
    const { io } = ctx()
    const refs = args._
    if (refs.length < 1) throw usage('Name the runs to compare.')
    if (args.json && args.md) throw usage('Choose one of --json and --md.')
    await withBook(async (book) => {
      const goals = loadConfig(book.repo)
      const runs = []
      for (const ref of refs) runs.push(await resolveRunArg(book, ref))
      const names = await experimentNames(book)
      const named = runs.map((r) => ({ ...r, experiment: names.get(r.experiment) ?? r.experiment }))
      const c = compareRuns(named, { goals, diffOnly: args['diff-only'] })
      if (args.json) return out(io, toJson(c))
      io.stdout.write(args.md ? renderComparisonMarkdown(c) : renderComparisonText(c))
    })
  },
}), ['labbook compare rf-n20-d2 rf-n50-d2', 'labbook compare 01jf3k 01jf9q 01jfa2 --diff-only --md > compare.md'])
