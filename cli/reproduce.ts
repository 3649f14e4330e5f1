import { defineCommand } from 'citty'
import { existsSync } from 'node:fs'
import { isAbsolute, join, relative } from 'node:path'
import { fail } from '../src/errors.js'
import { DIFF_ARTIFACT } from '../src/model/layout.js'
import type { RunSummary } from '../src/model/run.js'
import { eligibleValue, groupRuns, ineligible, type JudgeContext, judgeReproduction, metricGoal } from '../src/judge/index.js'
import { compareRuns } from '../src/report/compare.js'
import { comparisonText } from './compare.js'
import { shellWords } from '../src/cli-support/shell-words.js'
import { checkoutRun } from '../src/track/checkout.js'
import { openBook, resolveRunArg } from './book.js'
import { ctx, setExit } from './context.js'
import { loadConfig } from '../src/format/config-file.js'
import { experimentNames } from './experiment-names.js'
import { withExamples } from './help.js'
import { out, say, toJson } from './output.js'
import { formatNumber } from '../src/model/display-numbers.js'
import { wrap } from './run.js'

/** The tag a reproduction carries: the id of the run it reproduces. */
export const REPRODUCES_TAG = 'labbook.reproduces'

export default withExamples(defineCommand({
  meta: { name: 'reproduce', description: 'Run a recorded run again from its own commit and uncommitted diff, in a temporary git worktree, and compare' },
  args: {
    run: { type: 'positional', description: 'The run to reproduce: id, unique id prefix or name', valueHint: 'RUN' },
    name: { type: 'string', alias: 'n', description: 'Name of the new run (default: NAME-repro)', valueHint: 'NAME' },
    'system-interval': { type: 'string', description: 'Seconds between system metrics samples; 0 turns them off', default: '10', valueHint: 'SECONDS' },
    json: { type: 'boolean', description: 'Print the comparison and verdict as JSON' },
  },
  async run({ args }) {
    const { io } = ctx()
    const interval = Number(args['system-interval'])
    const book = await openBook()
    try {
      const original = await resolveRunArg(book, String(args.run))
      const command = recordedCommand(original)
      let diff: string | undefined
      if (original.source.dirty) diff = Buffer.from(await book.readArtifact(original.id, DIFF_ARTIFACT).catch(() => new Uint8Array())).toString('utf8') || undefined
      const checkout = checkoutRun(book.repo, original, diff)
      let result
      try {
        // The same subdirectory of the checkout as the one labbook was started in, when it exists there.
        const rel = relative(book.repo, io.cwd)
        const cwd = rel && !rel.startsWith('..') && !isAbsolute(rel) && existsSync(join(checkout.dir, rel)) ? join(checkout.dir, rel) : checkout.dir
        say(io, `labbook: reproducing run ${original.id} (${original.name}) at ${original.source.commit!.slice(0, 12)}${diff ? ' with its uncommitted changes' : ''}, in a temporary worktree`)
        const names = await experimentNames(book)
        const { runtime: _runtime, command: _command, ...source } = original.source
        // With --json, stdout is the JSON alone: the command's output goes to stderr.
        result = await wrap(book, { ...io, cwd, stdout: args.json ? io.stderr : io.stdout }, command, {
          experiment: names.get(original.experiment) ?? original.experiment,
          name: args.name ?? `${original.name}-repro`,
          params: original.params,
          tags: { [REPRODUCES_TAG]: original.id },
          intervalMs: Number.isFinite(interval) && interval >= 0 ? interval * 1000 : 10_000,
          logLimit: 1 << 20,
          source: { ...source, platform: `${process.platform}-${process.arch}` },
          diff,
        })
      } finally {
        checkout.remove()
      }
      const again = await book.getRun(result.runId)
      const names = await experimentNames(book)
      const named = [original, again].map((r) => ({ ...r, experiment: names.get(r.experiment) ?? r.experiment }))
      const config = loadConfig(book.repo)
      const judge: JudgeContext = { config, tags: (await book.getExperiment(original.experiment)).tags }
      const comparison = compareRuns(named, { goals: config, experimentTags: judge.tags })
      const v = verdict(original, again, judge, await repeatsOf(book, original, judge))
      if (args.json) out(io, toJson({ original: original.id, reproduction: again.id, verdict: v, comparison }))
      else {
        io.stdout.write(comparisonText(comparison, io))
        out(io, `\n${v.summary}`)
      }
      setExit(result.exitCode, result.signal)
    } finally {
      await book.close()
    }
  },
}), [
  'labbook reproduce baseline',
  'labbook reproduce 01jf3k --json',
])

/** The recorded command line as argv; only `labbook run` records one that can be run again. */
function recordedCommand(run: RunSummary): string[] {
  const wrapped = ['labbook.exit_code', 'labbook.signal', 'labbook.error'].some((t) => t in run.tags)
  const line = run.source?.command
  if (!wrapped || !line) {
    throw fail('NOT_REPRODUCIBLE', `Run ${run.id} (${run.name}) was not recorded by \`labbook run\`, so its command line is not known.`)
  }
  const words = shellWords(line)
  if (!words || words.length === 0) throw fail('NOT_REPRODUCIBLE', `Run ${run.id} (${run.name}) recorded a command line labbook cannot split into words: ${line}`)
  return words
}

export interface Verdict {
  /** Every judged metric is the same (identical, within min_effect or within the spread of the original's repeats) and so is the status. */
  same: boolean
  /** Judged metrics that are the same, with src/judge's reason. */
  matched: string[]
  /** Judged metrics outside the noise: better or worse than the original. */
  differ: Array<{ key: string; original: number; reproduced: number; verdict: 'better' | 'worse'; reason: string }>
  /** Judged metrics nothing can decide on (one original run, no min_effect), with the values. */
  undecided: Array<{ key: string; original: number; reproduced: number; reason: string }>
  /** Judged metrics the original has and the reproduction did not log. */
  missing: string[]
  /** How many runs the original's sample has (the original and its repeats). */
  repeats: number
  summary: string
}

/**
 * Same within noise? src/judge decides (judgeReproduction): each metric with a goal (telemetry and `goal: none` are
 * informational) is compared with the original's sample, which is the original and the other repeats of its
 * configuration (src/judge's groups; earlier reproductions excluded). `same` needs every judged metric the same.
 */
export function verdict(a: RunSummary, b: RunSummary, judge: JudgeContext = {}, repeats: readonly RunSummary[] = []): Verdict {
  const matched: string[] = []
  const differ: Verdict['differ'] = []
  const undecided: Verdict['undecided'] = []
  const missing: string[] = []
  const sample = [a, ...repeats.filter((r) => r.id !== a.id && r.id !== b.id && ineligible(r) === undefined)]
  for (const key of Object.keys(a.metrics).sort()) {
    const g = metricGoal(key, judge)
    if (!g.goal) continue
    const values = sample.map((r) => (r === a ? a.metrics[key]?.value : eligibleValue(r, key))).filter((v): v is number => v !== undefined && Number.isFinite(v))
    const y = b.metrics[key]?.value
    if (y === undefined) { missing.push(key); continue }
    const x = a.metrics[key]!.value
    const j = judgeReproduction(values, y, g.goal, g.minEffect)
    if (!j) differ.push({ key, original: x, reproduced: y, verdict: 'worse', reason: Number.isFinite(y) ? 'the original has no finite value' : 'the reproduction has no finite value' })
    else if (j.verdict === 'same') matched.push(key)
    else if (j.verdict === 'inconclusive') undecided.push({ key, original: x, reproduced: y, reason: j.reason })
    else differ.push({ key, original: x, reproduced: y, verdict: j.verdict, reason: j.reason })
  }
  const sameStatus = a.status === b.status
  const same = sameStatus && differ.length === 0 && undecided.length === 0 && missing.length === 0
  const change = (x: number, y: number) => `${formatNumber(x)} → ${formatNumber(y)}${x !== 0 ? ` (${y > x ? '+' : ''}${formatNumber(((y - x) / Math.abs(x)) * 100)}%)` : ''}`
  const parts: string[] = []
  if (!sameStatus) parts.push(`status ${a.status} → ${b.status}`)
  if (matched.length) parts.push(`${matched.length} metric${matched.length === 1 ? '' : 's'} the same${sample.length > 1 ? ` (within the spread of ${sample.length} repeats)` : ''}`)
  if (differ.length) parts.push(`differs: ${differ.map((d) => `${d.key} ${change(d.original, d.reproduced)} ${d.verdict}, ${d.reason}`).join('; ')}`)
  if (undecided.length) parts.push(`cannot tell: ${undecided.map((d) => `${d.key} ${change(d.original, d.reproduced)}`).join(', ')} (one original run and no min_effect: run repeats with labbook run --repeat, or set min_effect in labbook.config.yaml)`)
  if (missing.length) parts.push(`not logged again: ${missing.join(', ')}`)
  if (!parts.length) parts.push('no judged metrics to compare')
  const word = same ? 'REPRODUCED' : differ.length || missing.length || !sameStatus ? 'DIFFERENT' : 'INCONCLUSIVE'
  return { same, matched, differ, undecided, missing, repeats: sample.length, summary: `${word}: run ${b.id} against ${a.id}: ${parts.join('; ')}` }
}

/** The other repeats of the original's configuration (src/judge's groups), reproductions excluded. */
export async function repeatsOf(book: { listRuns(o: { experiment: string }): Promise<RunSummary[]> }, original: RunSummary, judge: JudgeContext): Promise<RunSummary[]> {
  const runs = (await book.listRuns({ experiment: original.experiment })).filter((r) => !(REPRODUCES_TAG in r.tags) || r.id === original.id)
  const group = groupRuns(runs, { config: judge.config }).find((g) => g.runs.some((r) => r.id === original.id))
  return group ? group.runs.filter((r) => r.id !== original.id) : []
}
