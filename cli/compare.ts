import { defineCommand } from 'citty'
import { type Comparison, compareRuns, renderComparisonMarkdown, renderComparisonText } from '../src/report/compare.js'
import { usage } from './args.js'
import { withBook, resolveRunArg } from './book.js'
import { ctx } from './context.js'
import { loadConfig } from '../src/format/config-file.js'
import { experimentNames } from './experiment-names.js'
import { withExamples } from './help.js'
import type { CliIO } from './io.js'
import { colorsFor, formatTime, out, terminalWidth, toJson } from './output.js'
import { shortIds } from './runs-view.js'

export default withExamples(defineCommand({
  meta: { name: 'compare', description: 'Compare runs side by side: params, metrics (best marked by goal), tags, code, durations' },
  args: {
    runs: { type: 'positional', description: 'Two or more runs: ids, unique id prefixes or unique names', valueHint: 'RUN...' },
    'diff-only': { type: 'boolean', description: 'Only rows whose values differ' },
    json: { type: 'boolean', description: 'Print the comparison as JSON' },
    md: { type: 'boolean', description: 'Print GitHub Markdown (pastes into a pull request)' },
    utc: { type: 'boolean', description: 'Start times in UTC (default: local time with its offset)' },
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
      io.stdout.write(args.md ? renderComparisonMarkdown(c) : comparisonText(c, io, !!args.utc))
    })
  },
}), ['labbook compare rf-n20-d2 rf-n50-d2', 'labbook compare 01jf3k 01jf9q 01jfa2 --diff-only --md > compare.md', 'labbook compare lr-0.1 lr-0.01 --utc'])

/** The comparison for a terminal: fitted to its width and coloured when stdout is one (NO_COLOR respected), short unique ids; plain and complete when piped. */
export function comparisonText(c: Comparison, io: CliIO, utc = false): string {
  const width = terminalWidth(io)
  const ids = shortIds(c.runs.map((r) => r.id))
  return renderComparisonText(c, { ids, time: startTimes(c, utc), style: colorsFor(io.stdout, io.env), ...(width === undefined ? {} : { width }) })
}

/** Start times to the minute in local time, the offset written once in the row's name (`start (+01:00)`) unless the runs straddle a change of offset; `start (UTC)` with `--utc`. */
function startTimes(c: Comparison, utc: boolean): { key: string; format: (ms: number) => string } {
  const split = (ms: number) => {
    const m = /^(\d{4}-\d\d-\d\d \d\d:\d\d):\d\d (.+)$/.exec(formatTime(ms, utc))
    return m ? { at: m[1]!, zone: m[2]! } : { at: formatTime(ms, utc), zone: '' }
  }
  const zones = new Set(c.runs.map((r) => split(r.startTime).zone))
  if (zones.size === 1) return { key: `start (${[...zones][0]})`, format: (ms) => split(ms).at }
  return { key: 'start', format: (ms) => { const t = split(ms); return `${t.at} ${t.zone}` } }
}
