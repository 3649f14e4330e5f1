import { defineCommand } from 'citty'
import { existsSync } from 'node:fs'
import { isAbsolute, join, relative } from 'node:path'
import { fail } from '../src/errors.js'
import { DIFF_ARTIFACT } from '../src/model/layout.js'
import type { RunSummary } from '../src/model/run.js'
import { compareRuns, renderComparisonText } from '../src/report/compare.js'
import { shellWords } from '../src/cli-support/shell-words.js'
import { checkoutRun } from '../src/track/checkout.js'
import { openBook, resolveRunArg } from './book.js'
import { ctx, setExit } from './context.js'
import { loadConfig } from '../src/format/config-file.js'
import { experimentNames } from './experiment-names.js'
import { withExamples } from './help.js'
import { formatNumber, out, say, toJson } from './output.js'
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
      const comparison = compareRuns(named, { goals: loadConfig(book.repo) })
      const v = verdict(original, again)
      if (args.json) out(io, toJson({ original: original.id, reproduction: again.id, verdict: v, comparison }))
      else {
        io.stdout.write(renderComparisonText(comparison))
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
  /** Every shared model metric is within the tolerance (and the status is the same). */
  same: boolean
  tolerance: number
  matched: string[]
  differ: Array<{ key: string; original: number; reproduced: number }>
  missing: string[]
  summary: string
}

/**
 * Same within noise? h11 owns the judgement rules (goals, statistics over seeds); until its module lands this is the
 * minimal rule: each model metric's latest value within 1% (relative) or 1e-9 (absolute), system/* ignored.
 */
export function verdict(a: RunSummary, b: RunSummary, tolerance = 0.01): Verdict {
  const matched: string[] = []
  const differ: Verdict['differ'] = []
  const missing: string[] = []
  for (const key of Object.keys(a.metrics).sort()) {
    if (key.startsWith('system/')) continue
    const x = a.metrics[key]!.value
    const y = b.metrics[key]?.value
    if (y === undefined) missing.push(key)
    else if (Object.is(x, y) || Math.abs(x - y) <= Math.max(1e-9, tolerance * Math.abs(x))) matched.push(key)
    else differ.push({ key, original: x, reproduced: y })
  }
  const sameStatus = a.status === b.status
  const same = sameStatus && differ.length === 0 && missing.length === 0
  const pct = `${tolerance * 100}%`
  const parts: string[] = []
  if (!sameStatus) parts.push(`status ${a.status} → ${b.status}`)
  if (matched.length) parts.push(`${matched.length} metric${matched.length === 1 ? '' : 's'} within ${pct}`)
  if (differ.length) parts.push(`differs: ${differ.map((d) => `${d.key} ${formatNumber(d.original)} → ${formatNumber(d.reproduced)}${d.original !== 0 ? ` (${d.reproduced > d.original ? '+' : ''}${formatNumber(((d.reproduced - d.original) / Math.abs(d.original)) * 100)}%)` : ''}`).join(', ')}`)
  if (missing.length) parts.push(`not logged again: ${missing.join(', ')}`)
  if (!parts.length) parts.push('no model metrics to compare')
  return { same, tolerance, matched, differ, missing, summary: `${same ? 'REPRODUCED' : 'DIFFERENT'}: run ${b.id} against ${a.id}: ${parts.join('; ')}` }
}
