import { defineCommand } from 'citty'
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { historyToCsv, runsToCsv, runsToJsonl, type HistoryRow } from '../src/report/export.js'
import { collect, parseInteger, usage } from './args.js'
import { repeatable } from './parse.js'
import { withBook } from './book.js'
import { ctx, setExit } from './context.js'
import { experimentNames } from './experiment-names.js'
import { withExamples } from './help.js'
import { say } from './output.js'
import { listRuns } from './ls.js'

export default withExamples(defineCommand({
  meta: { name: 'export', description: 'Export runs as CSV (one row per run) or JSONL (full runs), or metric histories in long format' },
  args: {
    format: { type: 'enum', options: ['csv', 'jsonl'], default: 'csv', description: 'csv or jsonl (no Parquet: see docs/query.md)' },
    history: { type: 'string', description: 'Export these metrics\' histories instead (comma-separated keys): run_id,key,step,value,timestamp', valueHint: 'KEY' },
    experiment: { type: 'string', alias: 'e', description: 'Only runs of this experiment (name or id)', valueHint: 'NAME' },
    filter: { type: 'string', description: 'MLflow-style filter, e.g. "metrics.acc > 0.9"', valueHint: 'EXPR' },
    'order-by': repeatable({ type: 'string', description: 'Sort key, repeatable (default: start_time DESC)', valueHint: 'KEY [ASC|DESC]' }),
    limit: { type: 'string', description: 'At most N runs', valueHint: 'N' },
    all: { type: 'boolean', description: 'Include deleted runs' },
    epoch: { type: 'boolean', description: 'Times as ms since the epoch instead of ISO 8601 (UTC)' },
    output: { type: 'string', alias: 'o', description: 'Write to FILE instead of stdout', valueHint: 'FILE' },
  },
  async run({ args, rawArgs }) {
    const { io } = ctx()
    const limit = parseInteger('limit', args.limit)
    const orderBy = collect(rawArgs, ['order-by', 'orderBy'])
    const times = args.epoch ? 'epoch' as const : 'iso' as const
    if (args.history !== undefined && args.format === 'jsonl') throw usage('--history writes CSV; drop --format jsonl.')
    await withBook(async (book) => {
      const names = await experimentNames(book)
      const runs = await listRuns(book, { experiment: args.experiment, all: args.all, filter: args.filter, orderBy, limit }, names)
      let text: string
      if (args.history !== undefined) {
        const keys = String(args.history).split(',').map((k) => k.trim()).filter(Boolean)
        if (keys.length === 0) throw usage('--history needs at least one metric key.')
        const rows: HistoryRow[] = []
        const found = new Set<string>()
        for (const r of runs) {
          for (const key of keys) {
            if (!r.metrics[key]) continue
            found.add(key)
            for (const p of await book.metricHistory(r.id, key)) rows.push({ run_id: r.id, key, step: p.step, value: p.value, timestamp: p.timestamp })
          }
        }
        const missing = keys.filter((k) => !found.has(k))
        if (missing.length > 0) {
          const known = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort()
          say(io, `labbook: no ${runs.length === 1 ? '' : 'selected '}run has the metric${missing.length === 1 ? '' : 's'} ${missing.map((k) => JSON.stringify(k)).join(', ')}.`)
          say(io, `hint: ${known.length ? `metrics of these runs: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}` : 'these runs have no metrics'}.`)
          setExit(1)
        }
        text = historyToCsv(rows, { times })
      } else {
        text = args.format === 'jsonl' ? runsToJsonl(runs) : runsToCsv(runs, { times })
      }
      if (args.output) {
        writeFileSync(resolve(io.cwd, String(args.output)), text)
        say(io, `Wrote ${runs.length} run${runs.length === 1 ? '' : 's'} to ${args.output}.`)
      } else io.stdout.write(text)
    })
  },
}), [
  'labbook export > runs.csv',
  'labbook export --format jsonl --filter "status = \'FINISHED\'" -o runs.jsonl',
  'labbook export --history loss,accuracy -e iris > history.csv',
  'labbook export --epoch > runs.csv   # times as ms since the epoch',
])
