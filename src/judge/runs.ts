/** Which runs may compete (eligibility) and which one wins (best run, with a documented tie-break). Browser-safe. */
import type { MetricSummary, RunSummary } from '../model/run.js'
import type { Goal } from './config.js'

/** The fields judgement reads from a run (a `RunSummary`, the site's table row, …). */
export type JudgedRun = Pick<RunSummary, 'id' | 'status' | 'lifecycle' | 'startTime' | 'params' | 'tags' | 'experiment'> & {
  /** Judgement reads each metric's latest value only (the site's table keeps no more). */
  metrics: Record<string, Pick<MetricSummary, 'value'> & Partial<MetricSummary>>
  parent?: string
  /** Where the run's code came from: runs of one configuration on different commits are not repeats (src/judge/groups.ts). */
  source?: { commit?: string }
}

/** Why a run does not compete: deleted, not FINISHED (RUNNING, FAILED, KILLED), no value, or a value that is not finite (NaN, ±inf). */
export type Ineligible = 'deleted' | 'running' | 'failed' | 'killed' | 'no-value' | 'not-finite'

/**
 * Why `run` may not compete on `key` (or at all, without a key); undefined when it may.
 * Only FINISHED, not deleted runs with a finite value compete: a diverged run's NaN or a crashed run's lucky value never wins.
 * @example ineligible({ status: 'FAILED', … }, 'acc') // 'failed'
 */
export function ineligible(run: Pick<JudgedRun, 'status' | 'lifecycle' | 'metrics'>, key?: string): Ineligible | undefined {
  if (run.lifecycle === 'deleted') return 'deleted'
  if (run.status !== 'FINISHED') return run.status === 'RUNNING' ? 'running' : run.status === 'FAILED' ? 'failed' : 'killed'
  if (key === undefined) return undefined
  const m = run.metrics[key]
  if (!m) return 'no-value'
  return Number.isFinite(m.value) ? undefined : 'not-finite'
}

/** The run's latest value of `key` when the run is eligible on it, else undefined. */
export function eligibleValue(run: Pick<JudgedRun, 'status' | 'lifecycle' | 'metrics'>, key: string): number | undefined {
  return ineligible(run, key) === undefined ? run.metrics[key]!.value : undefined
}

/** Negative when value `a` beats `b` under `goal`, positive when `b` beats `a`, 0 when equal. */
export function compareValues(a: number, b: number, goal: Goal): number {
  return a === b ? 0 : (goal === 'maximize') === a > b ? -1 : 1
}

/** The tie-break between runs of equal value: the earlier start wins (it got there first), then the smaller id. */
export function tieBreak(a: Pick<JudgedRun, 'startTime' | 'id'>, b: Pick<JudgedRun, 'startTime' | 'id'>): number {
  return a.startTime - b.startTime || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

/**
 * Whether run `r` with value `v` takes the place of `best` (value `bestValue`; none yet: undefined): a better value,
 * or an equal one that wins the tie-break. The one rule of "best member" that bestRun, scoreGroup, scoreAt and
 * bestGroup's tally share.
 */
export function beats<R extends Pick<JudgedRun, 'startTime' | 'id'>>(v: number, r: R, bestValue: number, best: R | undefined, goal: Goal): boolean {
  return !best || compareValues(v, bestValue, goal) < 0 || (v === bestValue && tieBreak(r, best) < 0)
}

/**
 * The best eligible run on `key` (by the latest value; ties: earlier start, then smaller id); undefined when none is eligible.
 * @example bestRun(runs, 'val_loss', 'minimize')?.id
 */
export function bestRun<R extends JudgedRun>(runs: readonly R[], key: string, goal: Goal): R | undefined {
  let best: R | undefined, bestValue = 0
  for (const r of runs) {
    const v = eligibleValue(r, key)
    if (v === undefined) continue
    if (beats(v, r, bestValue, best, goal)) { best = r; bestValue = v }
  }
  return best
}
