/** Which metric an experiment is judged by, and whether lower or higher wins. */
import type { Experiment } from '../model/experiment.js'
import type { RunSummary } from '../model/run.js'
import type { Goal } from './snapshot.js'

/** Tags that name an experiment's primary metric and goal explicitly. */
export const PRIMARY_TAGS = ['labbook.primary_metric', 'primary_metric']
export const GOAL_TAGS = ['labbook.goal', 'goal']

const LOWER_IS_BETTER = /(loss|err|error|mse|mae|rmse|mape|perplexity|ppl|wer|cer|latency|time|duration|regret|distance|nll|bpd|fid)/i

/** Lower-is-better for loss/error-like names, higher otherwise (same rule as the query helper's `metricGoal`). */
export function metricGoal(key: string): Goal {
  return LOWER_IS_BETTER.test(key.split('/').pop() ?? key) ? 'min' : 'max'
}

function tag(e: Experiment | undefined, names: string[]): string | undefined {
  for (const n of names) if (e?.tags?.[n]) return e.tags[n]
  return undefined
}

/** The experiment's tagged primary metric, else the metric most runs logged (ties: validation metrics, then by name). */
export function primaryMetric(e: Experiment | undefined, runs: readonly RunSummary[]): { key?: string; goal: Goal } {
  const tagged = tag(e, PRIMARY_TAGS)
  const count = new Map<string, number>()
  for (const r of runs) for (const k of Object.keys(r.metrics)) count.set(k, (count.get(k) ?? 0) + 1)
  let key = tagged && count.has(tagged) ? tagged : undefined
  if (!key && tagged) key = tagged
  if (!key) {
    const score = (k: string) => (/val|test|eval/i.test(k) ? 1 : 0)
    key = [...count.keys()].sort((a, b) => count.get(b)! - count.get(a)! || score(b) - score(a) || a.localeCompare(b))[0]
  }
  const g = tag(e, GOAL_TAGS)
  return { key, goal: g === 'min' || g === 'max' ? g : key ? metricGoal(key) : 'max' }
}

/** True when `a` beats `b` under `goal`; NaN never wins. */
export function better(a: number, b: number | undefined, goal: Goal): boolean {
  if (!Number.isFinite(a) && !(a === -Infinity || a === Infinity)) return false
  if (b === undefined || Number.isNaN(b)) return true
  return goal === 'min' ? a < b : a > b
}
