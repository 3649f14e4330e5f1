import { defineCommand } from 'citty'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { constants, hostname } from 'node:os'
import { join, resolve } from 'node:path'
import type { ParamValue, RunStatus, SourceInfo } from '../src/model/run.js'
import { DIFF_ARTIFACT, LOG_ARTIFACT } from '../src/model/layout.js'
import { runChild, type ChildExit } from '../src/cli-support/child.js'
import { MetricsFileTailer } from '../src/cli-support/metrics-file.js'
import { MetricsIngestor } from '../src/cli-support/metrics-ingest.js'
import type { LineProblem } from '../src/format/metrics-lines.js'
import { runMetricsSink, type ParamConflict } from '../src/track/metrics-sink.js'
import { readParamsFile } from '../src/cli-support/params-file.js'
import { ProcessTreeSampler } from '../src/cli-support/process-tree.js'
import { probeRuntime } from '../src/cli-support/runtime.js'
import { shellQuote } from '../src/cli-support/shell-words.js'
import { parseSize, TailBuffer } from '../src/cli-support/tail-buffer.js'
import { afterDashes, collect, parseInteger, parseParamValue, splitPair, usage } from './args.js'
import { repeatable } from './parse.js'
import { openBook, type Book, type RunHandle, resolveRunArg } from './book.js'
import { ctx, setExit } from './context.js'
import { loadConfig } from '../src/format/config-file.js'
import { startMlflowEndpoint } from './mlflow-endpoint.js'
import { push } from '../src/sync/remote.js'
import { processStartTime } from '../src/store/process.js'
import { withExamples } from './help.js'
import type { CliIO } from './io.js'
import { say } from './output.js'
import { formatDuration } from '../src/model/display-numbers.js'
import { keyed } from '../src/model/run.js'

/** How many skipped $LABBOOK_METRICS lines are printed one by one; the rest are counted in the closing line. */
const MAX_PROBLEMS_PRINTED = 20
/** The tag that records params the wrapped command tried to change (`lr: 0.01 -> 0.02`). */
const PARAM_CONFLICTS_TAG = 'labbook.param_conflicts'
/** The artifact holding the wrapped Python's installed distributions, one `name==version` a line. */
const REQUIREMENTS_ARTIFACT = 'requirements.txt'
/** How long the end of a run waits for the runtime probe once the command has ended. */
const RUNTIME_WAIT_MS = 10_000
/**
 * The journal is flushed this often while the command runs (only when lines came), so a killed wrapper loses at most
 * this much, and an open live page (`labbook ui`) sees a `$LABBOOK_METRICS` line within it: at 1 s this delay alone
 * was half the latency budget from a line to the point drawn; at 250 ms the `$LABBOOK_METRICS` loggers were still the
 * slowest of the three kinds in bench/live.ts (p95 1.7-3.7 s against 1.4-2.3 s for the library's). The file is read
 * every 100 ms: flushing as often adds at most one fdatasync per read that found lines.
 */
const FLUSH_EVERY_MS = 100

export default withExamples(defineCommand({
  meta: { name: 'run', description: 'Run a command as a tracked run: code link, params, output log, metrics, exit status' },
  args: {
    experiment: { type: 'string', alias: 'e', description: 'Experiment name (created if missing)', default: 'Default', valueHint: 'NAME' },
    name: { type: 'string', alias: 'n', description: 'Run name (default: generated)', valueHint: 'NAME' },
    param: repeatable({ type: 'string', alias: 'p', description: 'A param, repeatable: -p lr=0.01 -p epochs=10', valueHint: 'KEY=VALUE' }),
    tag: repeatable({ type: 'string', alias: 't', description: 'A tag, repeatable: -t team=vision', valueHint: 'KEY=VALUE' }),
    'params-file': repeatable({ type: 'string', description: 'YAML or JSON file whose leaves become params with dotted keys (train.lr); repeatable', valueHint: 'FILE' }),
    description: { type: 'string', description: 'Run description', valueHint: 'TEXT' },
    parent: { type: 'string', description: 'Parent run (id, prefix or name; default: the run this command is wrapped in, $LABBOOK_RUN_ID)', valueHint: 'RUN' },
    'system-interval': { type: 'string', description: 'Seconds between system metrics samples (CPU, memory, GPU); 0 turns them off', default: '10', valueHint: 'SECONDS' },
    'log-limit': { type: 'string', description: 'Keep at most this much of stdout+stderr in the output.log artifact (the tail)', default: '1MiB', valueHint: 'SIZE' },
    push: { type: 'boolean', description: 'Push the labbook branch when the run ends (also `push: true` or `push: REMOTE` in labbook.config.yaml)' },
    mlflow: { type: 'boolean', description: 'Give the command an MLflow endpoint (MLFLOW_TRACKING_URI, MLFLOW_RUN_ID) logging into this run; --no-mlflow leaves MLflow alone', default: true },
    repeat: { type: 'string', description: 'Run the command N times as children of one parent run, with seeds 0..N-1 ($LABBOOK_SEED and -p seed=i): a group of repeats for an honest verdict', valueHint: 'N' },
  },
  async run({ rawArgs, args }) {
    const { io } = ctx()
    const command = rawArgs.includes('--') ? afterDashes(rawArgs) : (args._ as string[])
    if (command.length === 0) throw usage('No command to run.', 'Put the command after --, e.g. `labbook run -- python train.py`.')
    const interval = Number(args['system-interval'])
    if (!Number.isFinite(interval) || interval < 0) throw usage(`--system-interval must be a number of seconds, got ${JSON.stringify(args['system-interval'])}.`)
    const logLimit = parseSize(String(args['log-limit']))
    if (logLimit === undefined) throw usage(`--log-limit must be a size like 1048576, 512k or 10MB, got ${JSON.stringify(args['log-limit'])}.`)

    const params = keyed<ParamValue>()
    for (const file of collect(rawArgs, ['params-file', 'paramsFile'])) Object.assign(params, await readParamsFile(resolve(io.cwd, file)))
    for (const pair of collect(rawArgs, ['p', 'param'])) {
      const [k, v] = splitPair(pair, '-p')
      params[k] = parseParamValue(v)
    }
    const tags = keyed<string>()
    for (const pair of collect(rawArgs, ['t', 'tag'])) {
      const [k, v] = splitPair(pair, '-t')
      tags[k] = v
    }

    const repeat = parseInteger('repeat', args.repeat)
    if (repeat !== undefined && (repeat < 1 || repeat > 1000)) throw usage(`--repeat must be between 1 and 1000, got ${repeat}.`)
    if (repeat !== undefined && Object.hasOwn(params, SEED_PARAM)) throw usage('--repeat sets the seed param itself (seed=0..N-1); drop -p seed.')

    const book = await openBook()
    try {
      // A `labbook run` inside a wrapped command (a sweep script under `labbook run`) is a child of that run.
      const parent = args.parent ? (await resolveRunArg(book, args.parent)).id : io.env.LABBOOK_RUN_ID || undefined
      const base: WrapOptions = {
        experiment: String(args.experiment), name: args.name, params, tags, description: args.description, parent,
        intervalMs: interval * 1000, logLimit, mlflow: args.mlflow !== false,
      }
      const result = repeat === undefined ? await wrap(book, io, command, base) : await wrapRepeats(book, io, command, base, repeat)
      const remote = pushTarget(args.push, loadConfig(book.repo).push)
      if (remote) await pushAfterRun(book, io, remote)
      setExit(result.exitCode, result.signal)
    } finally {
      await book.close()
    }
  },
}), [
  'labbook run -- python train.py --epochs 10',
  'labbook run -e iris -n rf-100 -p n_estimators=100 -t team=ml -- python train.py',
  'labbook run --params-file params.yaml -- ./train.sh',
  'labbook run --push -- python train.py',
  'labbook run --repeat 5 -e iris -p lr=0.1 -- python train.py   # reads os.environ["LABBOOK_SEED"]',
])

/** The param `--repeat` sets on each child (src/judge treats it as a seed: the children form one group). */
const SEED_PARAM = 'seed'

/**
 * `--repeat N`: one parent run holding the configuration, and N children with seed=0..N-1 (`-p seed=i` and
 * `$LABBOOK_SEED`), run one after the other. The parent ends FINISHED when every child exited 0, FAILED otherwise;
 * the exit code is the first failing child's.
 */
async function wrapRepeats(book: Book, io: CliIO, command: string[], o: WrapOptions, n: number): Promise<{ exitCode: number; signal?: NodeJS.Signals }> {
  const parent = await book.startRun({
    experiment: o.experiment, name: o.name, params: o.params, tags: keyed({ ...o.tags, 'labbook.repeat': String(n) }), description: o.description, parent: o.parent,
    command: command.map(shellQuote).join(' '),
  })
  say(io, `labbook: ${n} repeats of ${command.map(shellQuote).join(' ')} under parent run ${parent.id} (${parent.name})`)
  let first: { exitCode: number; signal?: NodeJS.Signals } | undefined
  try {
    for (let i = 0; i < n; i++) {
      const r = await wrap(book, io, command, {
        ...o, name: `${parent.name}-seed${i}`, parent: parent.id, params: keyed({ ...o.params, [SEED_PARAM]: i }), env: { LABBOOK_SEED: String(i) },
      })
      if ((r.exitCode !== 0 || r.signal) && !first) first = { exitCode: r.exitCode, ...(r.signal ? { signal: r.signal } : {}) }
      if (r.signal === 'SIGINT' || r.signal === 'SIGTERM') break // the user stopped it: no more repeats
    }
  } finally {
    await parent.end(first ? 'FAILED' : 'FINISHED')
  }
  return first ?? { exitCode: 0 }
}

/** `--push` pushes to origin; `push: true` or `push: NAME` in labbook.config.yaml does it for every run. */
function pushTarget(flag: boolean | undefined, config: unknown): string | undefined {
  if (flag) return typeof config === 'string' && config ? config : 'origin'
  if (config === true) return 'origin'
  return typeof config === 'string' && config ? config : undefined
}

/** The run is safe on the local branch whatever happens here, so a failed push warns and keeps the command's exit code. */
async function pushAfterRun(book: Book, io: CliIO, remote: string): Promise<void> {
  try {
    const r = await push(book, remote)
    say(io, `labbook: pushed ${book.branch} to ${remote}${r.retries ? ` (merged ${r.retries} concurrent push${r.retries === 1 ? '' : 'es'} first)` : ''}`)
  } catch (e) {
    const err = e as { code?: string; message?: string }
    say(io, `${err.code ?? 'GIT_FAILED'}: the run is recorded locally, but pushing it failed: ${err.message}`)
    say(io, 'hint: run `labbook push` once the remote is reachable.')
  }
}

export interface WrapOptions {
  experiment: string
  name?: string
  params: Record<string, ParamValue>
  tags: Record<string, string>
  description?: string
  parent?: string
  intervalMs: number
  logLimit: number
  /** The code link to record instead of the one detected in the repository (`labbook reproduce` runs elsewhere). */
  source?: SourceInfo
  /** The uncommitted diff that goes with `source` (stored as labbook/uncommitted.diff). */
  diff?: string
  /** Start an MLflow endpoint for the command (cli/mlflow-endpoint.ts). @default false */
  mlflow?: boolean
  /** More environment for the command (`--repeat` sets LABBOOK_SEED). */
  env?: Record<string, string>
}

/**
 * Starts the run, runs the command under it (in `io.cwd`), ingests what it logs, records how it ended.
 * Shared by `labbook run` and `labbook reproduce`.
 */
export async function wrap(book: Book, io: CliIO, command: string[], o: WrapOptions): Promise<{ runId: string; exitCode: number; signal?: NodeJS.Signals }> {
  const run = await book.startRun({
    experiment: o.experiment, name: o.name, params: o.params, tags: o.tags, description: o.description, parent: o.parent,
    command: command.map(shellQuote).join(' '), source: o.source,
  })
  try {
    if (o.diff) await run.logBytes(DIFF_ARTIFACT, o.diff)
    return { runId: run.id, ...(await supervise(book, io, run, command, o)) }
  } catch (e) {
    // labbook itself failed (not the command): do not leave the run RUNNING.
    if (!run.isEnded) await run.end('FAILED').catch(() => {})
    throw e
  }
}

async function supervise(book: Book, io: CliIO, run: RunHandle, command: string[], o: WrapOptions): Promise<{ exitCode: number; signal?: NodeJS.Signals }> {
  const started = Date.now()
  say(io, `labbook: run ${run.id} (${run.name}) started in experiment ${o.experiment}`)

  const dir = join(book.gitdir, 'labbook', 'cli')
  mkdirSync(dir, { recursive: true })
  const metricsPath = join(dir, `${run.id}.metrics.jsonl`)
  writeFileSync(metricsPath, '')

  let printed = 0
  const onProblem = (p: LineProblem) => {
    if (printed++ < MAX_PROBLEMS_PRINTED) say(io, `labbook: $LABBOOK_METRICS line ${p.line} skipped: ${p.message}`)
    else if (printed === MAX_PROBLEMS_PRINTED + 1) say(io, 'labbook: more lines skipped; the count follows when the command ends')
  }
  const conflicts: ParamConflict[] = []
  const artifactFailures = { count: 0 }
  const sink = runMetricsSink(run, {
    cwd: io.cwd,
    onParamConflict: (c) => conflicts.push(c),
    onArtifactError: (path, e) => {
      artifactFailures.count++
      say(io, `labbook: $LABBOOK_METRICS artifact ${JSON.stringify(path)} skipped: ${e.code ? e.code + ': ' : ''}${e.message}`)
    },
  })
  // The worker-thread ingestor needs the compiled worker; from TypeScript sources (tsx) parse in this thread.
  const tailer = MetricsIngestor.available() ? new MetricsIngestor(metricsPath, sink, { onProblem }) : new MetricsFileTailer(metricsPath, sink, { onProblem })
  await tailer.start()

  const tail = new TailBuffer(o.logLimit)
  const mlflow = o.mlflow ? await startMlflowEndpoint(book, run, (m) => say(io, `labbook: ${m}`)) : undefined
  const env: NodeJS.ProcessEnv = {
    ...io.env,
    LABBOOK_RUN_ID: run.id,
    LABBOOK_REPO: book.repo,
    LABBOOK_BRANCH: book.branch,
    LABBOOK_METRICS: metricsPath,
    LABBOOK_EXPERIMENT: o.experiment,
    // The child writes into a pipe, not a terminal: without this Python holds its output back until exit.
    PYTHONUNBUFFERED: io.env.PYTHONUNBUFFERED ?? '1',
    ...o.env,
    ...mlflow?.env,
  }
  const { child, done } = runChild(command[0]!, command.slice(1), { env, cwd: io.cwd, stdout: io.stdout, stderr: io.stderr, tail })
  // Each journal write records how far the metrics file is in the run, and who writes it: if this process is
  // killed, `labbook recover` commits the rest of the file once the command is gone (docs/cli.md, recover).
  const childId = child.pid !== undefined ? { pid: child.pid, host: hostname(), started: processStartTime(child.pid) ?? '' } : undefined
  run.setJournalMark(() => ({ op: 'metrics-file', path: metricsPath, ...tailer.mark(), ...(childId ? { child: childId } : {}) }))
  // What the command runs on (Python and its packages, or `--version`), found beside it, never before it.
  const probeAbort = new AbortController()
  const runtime = probeRuntime(command, { env: io.env, cwd: io.cwd, signal: probeAbort.signal })

  // Signals: SIGTERM (and SIGHUP) are always forwarded. SIGINT from a terminal's Ctrl-C already reached the child,
  // which shares our process group, so on a terminal the first SIGINT is not sent again; a second one is.
  let interrupted: NodeJS.Signals | undefined
  let sigints = 0
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted ??= sig
    if (sig === 'SIGINT' && process.stdin.isTTY && sigints++ === 0) return
    if (child.exitCode === null && child.signalCode === null) child.kill(sig)
  }
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const s of signals) process.on(s, onSignal)
  try {
    // System metrics of the child's process tree, and a journal flush each second so a crash loses little.
    let sampleStep = 0
    const sampler = o.intervalMs > 0 && child.pid !== undefined && ProcessTreeSampler.supported() ? new ProcessTreeSampler(child.pid) : undefined
    const sample = async () => {
      if (!sampler) return
      const values = await sampler.sample()
      if (Object.keys(values).length > 0) run.logMetrics(values, { step: sampleStep++, timestamp: Date.now() })
    }
    // The first sample only sets the CPU baseline; values are logged from the first interval on.
    if (sampler) await sampler.sample().catch(() => {})
    const sampleTimer = sampler ? setInterval(() => void sample().catch(() => {}), o.intervalMs) : undefined
    let lastPoints = 0
    const flushTimer = setInterval(() => {
      if (tailer.stats.lines !== lastPoints) {
        lastPoints = tailer.stats.lines
        try {
          run.flush()
        } catch {
          // a full disk shows up again, loudly, at end()
        }
      }
    }, FLUSH_EVERY_MS)

    let exit: ChildExit
    try {
      exit = await done
    } finally {
      if (sampleTimer) clearInterval(sampleTimer)
      clearInterval(flushTimer)
      await mlflow?.close()
    }

    const stats = { ...(await tailer.stop()) }
    await Promise.all(sink.pending)
    stats.malformed += artifactFailures.count
    if (stats.malformed > 0) run.setTag('labbook.metrics_malformed_lines', String(stats.malformed))
    if (conflicts.length > 0) run.setTag(PARAM_CONFLICTS_TAG, describeConflicts(conflicts))
    const rt = await settleWithin(runtime, RUNTIME_WAIT_MS)
    probeAbort.abort()
    if (rt?.runtime) run.setRuntime(rt.runtime)
    if (rt?.requirements) await run.logBytes(REQUIREMENTS_ARTIFACT, rt.requirements).catch((e: Error) => say(io, `labbook: ${REQUIREMENTS_ARTIFACT} not logged: ${e.message}`))

    let status: RunStatus
    let exitCode: number
    let signal: NodeJS.Signals | undefined
    if (exit.error) {
      status = 'FAILED'
      exitCode = exit.error.code === 'ENOENT' ? 127 : 126
      run.setTag('labbook.error', `${exit.error.code}: cannot start ${command[0]}`)
    } else if (exit.signal) {
      status = 'KILLED'
      signal = exit.signal
      exitCode = 128 + (constants.signals[exit.signal] ?? 0)
      run.setTag('labbook.signal', exit.signal)
    } else {
      exitCode = exit.code ?? 1
      status = interrupted ? 'KILLED' : exitCode === 0 ? 'FINISHED' : 'FAILED'
      // the script ended its MLflow run FAILED or KILLED itself (mlflow.end_run(status=...)) and still exited 0
      const asked = mlflow?.clientStatus()
      if (status === 'FINISHED' && (asked === 'FAILED' || asked === 'KILLED')) status = asked
      run.setTag('labbook.exit_code', String(exitCode))
      if (interrupted) run.setTag('labbook.signal', interrupted)
    }
    const output = tail.contents()
    // A command that printed nothing leaves no output.log (an empty file only clutters the artifact list).
    if (output.length > 0) await run.logBytes(LOG_ARTIFACT, output)
    await run.end(status)
    rmSync(metricsPath, { force: true })
    const ingest = stats.points > 0 || stats.malformed > 0
      ? `; ${stats.points} metric point${stats.points === 1 ? '' : 's'} from $LABBOOK_METRICS${stats.malformed ? `, ${stats.malformed} malformed line${stats.malformed === 1 ? '' : 's'} skipped` : ''}`
      : ''
    if (conflicts.length > 0) {
      say(io, `labbook: PARAM_CHANGED: the command logged ${conflicts.length === 1 ? 'a param' : `${conflicts.length} params`} the run already had with another value; the first value is kept: ${describeConflicts(conflicts)} (tag ${PARAM_CONFLICTS_TAG})`)
    }
    say(io, `labbook: run ${run.id} ${status} in ${formatDuration(Date.now() - started)}${signal ? ` (${signal})` : exit.error ? '' : ` (exit ${exitCode})`}${ingest}`)
    if (exit.error) {
      say(io, `${exit.error.code === 'ENOENT' ? 'COMMAND_NOT_FOUND' : 'COMMAND_NOT_STARTED'}: cannot run ${JSON.stringify(command[0])}: ${exit.error.message}`)
      say(io, 'hint: check the command after --; it must be on PATH or a path to an executable file.')
    }
    return { exitCode, signal }
  } finally {
    // Until here a Ctrl-C only reached the (finished) child: the final commit is not cut short.
    for (const s of signals) process.off(s, onSignal)
    probeAbort.abort()
  }
}

function describeConflicts(conflicts: ParamConflict[]): string {
  return conflicts.map((c) => `${c.key}: ${JSON.stringify(c.kept)} -> ${JSON.stringify(c.logged)}`).join('; ')
}

/** The promise's value if it settles within `ms`, else undefined (a rejection counts as undefined too). */
async function settleWithin<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), ms) })
  try {
    return await Promise.race([p.catch(() => undefined), late])
  } finally {
    clearTimeout(timer)
  }
}
