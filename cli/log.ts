import { defineCommand } from 'citty'
import { appendFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { LabbookError } from '../src/errors.js'
import { validateKey, validateParamValue, validateTagValue, validateTimestamp } from '../src/model/validate.js'
import type { ParamValue } from '../src/model/run.js'
import { parseInteger, parseMetricValue, parseParamValue, splitPair, usage } from './args.js'
import { withBook, type RunHandle, resolveRunArg } from './book.js'
import { ctx } from './context.js'
import { withExamples, type AnyCommand } from './help.js'
import type { CliIO } from './io.js'
import { encodeMetricsLine } from '../src/format/metrics-lines.js'
import { keyed } from '../src/model/run.js'

const RUN_ARG = { type: 'string', description: 'Run to log to (default: $LABBOOK_RUN_ID, set by `labbook run`)', valueHint: 'RUN' } as const

/**
 * Inside `labbook run` (same run id, $LABBOOK_METRICS set) a log call appends one line to the metrics file, which
 * the wrapper ingests: no second writer on the branch, no lock. Elsewhere it opens the run and writes directly.
 */
async function logTo(io: CliIO, runRef: string | undefined, line: () => string, direct: (run: RunHandle) => Promise<void> | void): Promise<void> {
  const envRun = io.env.LABBOOK_RUN_ID
  const ref = runRef ?? envRun
  if (!ref) throw usage('No run to log to.', 'Run this inside `labbook run -- <command>` (which sets $LABBOOK_RUN_ID) or pass --run ID.')
  if (io.env.LABBOOK_METRICS && ref === envRun) {
    appendFileSync(io.env.LABBOOK_METRICS, line())
    return
  }
  await withBook(async (book) => {
    const summary = await resolveRunArg(book, ref)
    if (summary.status === 'RUNNING') {
      // Opening the book already recovered runs whose writer died, so a RUNNING run has a live writer: another
      // process here (the library would refuse it too, RUN_LOCKED) or a machine it was synced from.
      throw new LabbookError('RUN_LOCKED', `Run ${summary.id} (${summary.name}) is RUNNING: another process is writing it, and labbook log cannot share that writer.`,
        'Log from inside that run: under `labbook run` plain `labbook log …` goes through $LABBOOK_METRICS; from code, use its Run object. Or wait until it ends.', { run: summary.id })
    }
    const run = await book.openRun(summary.id)
    try {
      await direct(run)
    } finally {
      // Ending again with the same status and end time commits the addition (nothing, when it was refused) and
      // removes this writer's journal.
      await run.end(summary.status, { endTime: summary.endTime })
    }
  })
}

function pairs(args: { _: string[] }, what: string): Array<[string, string]> {
  if (args._.length === 0) throw usage(`Give at least one ${what} as KEY=VALUE.`)
  return args._.map((p) => splitPair(p, what))
}

const metric = withExamples(defineCommand({
  meta: { name: 'metric', description: 'Log metric values' },
  args: {
    pairs: { type: 'positional', description: 'One or more KEY=VALUE (NaN, Infinity allowed)', valueHint: 'KEY=VALUE...' },
    step: { type: 'string', description: 'Step, an integer (default: the key\'s next step: 0, 1, 2, …)', valueHint: 'N' },
    timestamp: { type: 'string', description: 'Time in ms since the epoch (default: now)', valueHint: 'MS' },
    run: RUN_ARG,
  },
  async run({ args }) {
    const { io } = ctx()
    const step = parseInteger('step', args.step)
    const timestamp = parseInteger('timestamp', args.timestamp) ?? Date.now()
    const values = keyed<number>()
    for (const [k, v] of pairs(args, 'metric')) {
      validateKey(k, 'metric')
      values[k] = parseMetricValue(k, v)
      // Checked before anything is opened: a refused value must not leave a commit behind.
      validateTimestamp(k, timestamp)
    }
    await logTo(io, args.run,
      () => encodeMetricsLine({ metrics: values, step, timestamp }),
      (run) => run.logMetrics(values, { step, timestamp }))
  },
}), ['labbook log metric loss=0.25 acc=0.91 --step 3'])

const param = withExamples(defineCommand({
  meta: { name: 'param', description: 'Log params (a param cannot change once logged)' },
  args: { pairs: { type: 'positional', description: 'One or more KEY=VALUE', valueHint: 'KEY=VALUE...' }, run: RUN_ARG },
  async run({ args }) {
    const { io } = ctx()
    const values = keyed<ParamValue>()
    for (const [k, v] of pairs(args, 'param')) {
      validateKey(k, 'param')
      const value = parseParamValue(v)
      validateParamValue(k, value)
      values[k] = value
    }
    await logTo(io, args.run, () => encodeMetricsLine({ params: values }), (run) => run.logParams(values))
  },
}), ['labbook log param lr=0.01 optimizer=adam'])

const tag = withExamples(defineCommand({
  meta: { name: 'tag', description: 'Set tags (later values replace earlier ones)' },
  args: { pairs: { type: 'positional', description: 'One or more KEY=VALUE', valueHint: 'KEY=VALUE...' }, run: RUN_ARG },
  async run({ args }) {
    const { io } = ctx()
    const values = keyed<string>()
    for (const [k, v] of pairs(args, 'tag')) {
      validateKey(k, 'tag')
      values[k] = validateTagValue(k, v)
    }
    await logTo(io, args.run, () => encodeMetricsLine({ tags: values }), (run) => run.setTags(values))
  },
}), ['labbook log tag phase=finetune'])

const artifact = withExamples(defineCommand({
  meta: { name: 'artifact', description: 'Store a file or directory as an artifact of the run' },
  args: {
    path: { type: 'positional', description: 'File or directory to store', valueHint: 'PATH' },
    to: { type: 'string', description: 'Directory inside the run\'s artifacts', valueHint: 'DIR' },
    run: RUN_ARG,
  },
  async run({ args }) {
    const { io } = ctx()
    const path = resolve(io.cwd, String(args.path))
    await logTo(io, args.run, () => encodeMetricsLine({ artifact: path, to: args.to }),
      (run) => run.logArtifact(path, args.to ? { to: args.to } : undefined))
  },
}), ['labbook log artifact model.json --to models', 'labbook log artifact plots/'])

export default withExamples(defineCommand({
  meta: { name: 'log', description: 'Log metrics, params, tags or artifacts to a run (from any language)' },
  subCommands: { metric, param, tag, artifact } as Record<string, AnyCommand>,
}), ['labbook log metric loss=0.3 --step 12', 'labbook log param lr=0.01', 'labbook log tag stage=eval', 'labbook log artifact model.pt'])
