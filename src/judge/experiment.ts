/** One call for a face that shows an experiment: its primary metrics with goals, its best run and its best group. Browser-safe. */
import type { Goal } from './config.js'
import { type JudgeContext, metricGoal, type MetricGoal, primaryMetrics } from './goals.js'
import { bestGroup, type GroupOptions, groupRuns, type GroupScore, type RunGroup } from './groups.js'
import { bestRun, type JudgedRun } from './runs.js'

export interface PrimaryMetric extends MetricGoal {
  key: string
  goal: Goal
}

export interface ExperimentJudgement<R extends JudgedRun = JudgedRun> {
  /** The primary metrics in order (empty when no run logged a judged metric). */
  primary: PrimaryMetric[]
  /** Best eligible run on the first primary metric. */
  best?: { run: R; key: string; value: number; goal: Goal }
  groups: RunGroup<R>[]
  /** Best eligible group on the first primary metric (mean over eligible members). */
  bestGroup?: GroupScore<R>
}

/**
 * Judges the runs of one experiment (pass one experiment's runs: judgement never mixes experiments).
 * @example const j = judgeExperiment(runs, { config, tags: experiment.tags }); j.best?.run.id
 */
export function judgeExperiment<R extends JudgedRun>(runs: readonly R[], ctx: JudgeContext = {}, o: Omit<GroupOptions, 'config'> = {}): ExperimentJudgement<R> {
  const primary = primaryMetrics(runs, ctx).map((key) => ({ key, ...metricGoal(key, ctx) }) as PrimaryMetric)
  const groups = groupRuns(runs, { ...o, config: ctx.config })
  const out: ExperimentJudgement<R> = { primary, groups }
  const first = primary[0]
  if (first) {
    const r = bestRun(runs, first.key, first.goal)
    if (r) out.best = { run: r, key: first.key, value: r.metrics[first.key]!.value, goal: first.goal }
    const g = bestGroup(groups, first.key, first.goal)
    if (g) out.bestGroup = g
  }
  return out
}
