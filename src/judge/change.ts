/**
 * Change detection along a code history (as asv's step detection, with labbook's noise rule): each commit's best
 * eligible group judged against the best eligible group of the nearest earlier commit that has one — the comparison
 * `labbook report` makes between a PR and its baseline. Browser-safe.
 */
import type { Goal, JudgeConfig } from './config.js'
import { bestGroup, groupRuns, type GroupScore } from './groups.js'
import type { JudgedRun } from './runs.js'
import { judgeDifference, type MetricVerdict } from './verdict.js'

export interface CommitStep<R extends JudgedRun = JudgedRun> {
  commit: string
  /** The commit's best eligible group on the metric (groups never span commits); undefined when none is eligible. */
  best?: GroupScore<R>
  /** The nearest earlier commit with an eligible group. */
  previous?: string
  /** src/judge's verdict of `best` against the previous commit's best group (absent for the first commit with results). */
  verdict?: MetricVerdict
}

export interface CommitStepOptions {
  config?: JudgeConfig
  /** The configured noise floor of the metric (`metricGoal(key).minEffect`). */
  minEffect?: number
}

/**
 * Judges each commit of `order` (oldest first) against the one before it that has results, on one metric of one
 * experiment (pass one experiment's runs). Runs whose commit is not in `order` are ignored.
 * @example commitSteps(runs, (r) => r.source?.commit, ['c1', 'c2'], 'val_loss', 'minimize').at(-1)?.verdict?.verdict
 */
export function commitSteps<R extends JudgedRun>(runs: readonly R[], commitOf: (r: R) => string | undefined, order: readonly string[], key: string, goal: Goal, o: CommitStepOptions = {}): CommitStep<R>[] {
  const byCommit = new Map<string, R[]>()
  const wanted = new Set(order)
  for (const r of runs) {
    const c = commitOf(r)
    if (c !== undefined && wanted.has(c)) (byCommit.get(c) ?? byCommit.set(c, []).get(c)!).push(r)
  }
  const out: CommitStep<R>[] = []
  let prev: { commit: string; best: GroupScore<R> } | undefined
  for (const commit of order) {
    const mine = byCommit.get(commit)
    if (!mine) continue
    const best = bestGroup(groupRuns(mine, { config: o.config }), key, goal)
    const step: CommitStep<R> = { commit, ...(best ? { best } : {}) }
    if (best && prev) {
      step.previous = prev.commit
      step.verdict = judgeDifference(prev.best.values, best.values, goal, o.minEffect)
    }
    if (best) prev = { commit, best }
    out.push(step)
  }
  return out
}
