import { defineCommand } from 'citty'
import type { RunSummary } from '../src/model/run.js'
import { parseInteger, usage, collect } from './args.js'
import { repeatable } from './parse.js'
import { withBook, type Book } from './book.js'
import { ctx } from './context.js'
import { experimentNames } from './experiment-names.js'
import { withExamples } from './help.js'
import { out, say, toJson } from './output.js'
import { runRecord, runsTable, type ExperimentNames } from './runs-view.js'
import { loadConfig } from '../src/format/config-file.js'
import type { GroupBy } from './groups-view.js'
import { parseFieldList } from '../src/query/index.js'

export default withExamples(defineCommand({
  meta: { name: 'ls', description: 'List runs, newest first' },
  args: {
    experiment: { type: 'string', alias: 'e', description: 'Only runs of this experiment (name or id)', valueHint: 'NAME' },
    all: { type: 'boolean', description: 'Include deleted runs (marked * in the table)' },
    limit: { type: 'string', description: 'Show at most N runs', valueHint: 'N' },
    filter: { type: 'string', description: 'MLflow-style filter, e.g. "metrics.acc > 0.9 and params.lr < 0.01"', valueHint: 'EXPR' },
    'order-by': repeatable({ type: 'string', description: 'Sort key, repeatable, e.g. "metrics.acc DESC" (default: start_time DESC)', valueHint: 'KEY [ASC|DESC]' }),
    columns: { type: 'string', description: 'Table columns in filter spelling, e.g. run_name,status,params.lr,metrics.acc', valueHint: 'LIST' },
    json: { type: 'boolean', description: 'Print a JSON array of runs' },
    csv: { type: 'boolean', description: 'Print CSV, one row per run (the `labbook export` shape)' },
    tree: { type: 'boolean', description: 'Children under their parent run (on by default when the list has children; --no-tree turns it off)' },
    commit: { type: 'string', description: 'Only runs of this code commit (a full id or a prefix of 4+ hex digits, as git notes print it)', valueHint: 'SHA' },
    'group-by': { type: 'string', description: 'One aggregated row per group (mean ± std, n, best run): fields like params.lr,tags.model, or `config` (same params except seeds)', valueHint: 'KEYS' },
  },
  async run({ args, rawArgs }) {
    const { io } = ctx()
    if (args.json && args.csv) throw usage('Choose one of --json and --csv.')
    const limit = parseInteger('limit', args.limit)
    if (limit !== undefined && limit < 0) throw usage('--limit must be 0 or more.')
    const commit = args.commit === undefined ? undefined : String(args.commit).toLowerCase()
    if (commit !== undefined && !/^[0-9a-f]{4,64}$/.test(commit)) throw usage(`--commit ${JSON.stringify(args.commit)} is not a commit id: give 4 to 64 hex digits, e.g. --commit 1a2b3c4d.`)
    const orderBy = collect(rawArgs, ['order-by', 'orderBy'])
    if (args.columns) parseFieldList(String(args.columns)) // fail on a bad list before touching the repository
    const groupText = args['group-by'] === undefined ? undefined : String(args['group-by']).trim()
    const groupBy: GroupBy | undefined = groupText === undefined ? undefined : groupText === 'config' ? 'config' : parseFieldList(groupText)
    if (groupBy !== undefined && args.csv) throw usage('--group-by prints a table or --json, not --csv.')
    await withBook(async (book) => {
      const names = await experimentNames(book)
      const runs = await listRuns(book, { experiment: args.experiment, all: args.all, filter: args.filter, orderBy, limit, commit }, names)
      const config = loadConfig(book.repo)
      if (groupBy !== undefined) {
        // --group-by and --csv load their modules when asked for (a plain `ls` loads only what it prints with)
        const { groupRecords, groupsTable } = await import('./groups-view.js')
        const records = groupRecords(runs, groupBy, names, config)
        if (args.json) return out(io, toJson(records))
        if (records.length === 0) return say(io, 'No runs to group.')
        return io.stdout.write(groupsTable(records, runs, io, config))
      }
      if (args.json) return out(io, toJson(runs.map((r) => runRecord(r, names))))
      if (args.csv) return io.stdout.write((await import('../src/report/export.js')).runsToCsv(runs))
      if (runs.length === 0) {
        say(io, args.filter ? 'No runs match the filter.' : await noRunsYet(book))
        return
      }
      const columns = args.columns ? parseFieldList(String(args.columns)) : undefined
      io.stdout.write(runsTable(runs, names, io, columns, { tree: args.tree, judge: { config } }))
    })
  },
}), [
  'labbook ls',
  'labbook ls -e iris --limit 20',
  'labbook ls --filter "metrics.accuracy > 0.9" --order-by "metrics.accuracy DESC"',
  'labbook ls --columns run_name,params.n_estimators,metrics.accuracy',
  'labbook ls --json | jq ".[0].metrics"',
  'labbook ls --commit 1a2b3c4d   # the runs a git note counts',
  'labbook ls -e iris --group-by config          # repeats (seeds) of each configuration: mean ± std, n, best',
  'labbook ls --group-by params.lr,params.depth --json',
])

export interface LsOptions { experiment?: string; all?: boolean; filter?: string; orderBy?: string[]; limit?: number; /** Code commit id or prefix. */ commit?: string }

/** The runs `ls` shows: by experiment, filtered, ordered and limited by the query library (through the listing table). */
export async function listRuns(book: Book, o: LsOptions, names: ExperimentNames): Promise<RunSummary[]> {
  const runs = await book.queryRuns({ experiment: o.experiment, includeDeleted: o.all, commit: o.commit, filter: o.filter, orderBy: o.orderBy, limit: o.limit, experimentNames: Object.fromEntries(names) })
  // A damaged run.yaml is skipped, never fatal: say where it is (`labbook doctor` lists them all).
  for (const d of await book.damagedRuns()) say(ctx().io, `labbook: warning: ${d.path} skipped: ${d.message} (see \`labbook doctor\`)`)
  return runs
}

/**
 * What to say when the branch lists no run: in a fresh clone of a repository whose remote has the branch (git clone
 * makes no local `labbook`), that `labbook pull` brings its runs, rather than that there are none.
 */
async function noRunsYet(book: Book): Promise<string> {
  if ((await book.tip()) === null) {
    const { remoteCopies } = await import('../src/sync/published.js')
    const [first] = await remoteCopies(book.gitdir, book.branch)
    const remote = first && /^refs\/remotes\/([^/]+)\//.exec(first[1])?.[1]
    if (remote) return `No local \`${book.branch}\` branch yet, but ${remote} has one: \`labbook pull${remote === 'origin' ? '' : ` ${remote}`}\` brings its runs here.`
  }
  return 'No runs yet. Record one with `labbook run -- <command>`.'
}
