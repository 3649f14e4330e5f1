/** Did a change make a metric better? Two samples, a goal and an optional noise floor in; a verdict with its interval out. Browser-safe. */
import type { Goal } from './config.js'
import { describe, type SampleStats, welch } from './stats.js'

/** `inconclusive`: the 95% interval crosses zero, the change is below `min_effect`, or a side has one run and no `min_effect` is set. */
export type Verdict = 'better' | 'worse' | 'inconclusive' | 'no-data'

export interface MetricVerdict {
  verdict: Verdict
  baseline?: SampleStats
  candidate?: SampleStats
  /** mean(candidate) − mean(baseline). */
  diff?: number
  /** Welch 95% interval of `diff`; absent when a side has fewer than two runs. */
  ci?: [number, number]
  /** diff / |mean(baseline)| × 100; absent when the baseline mean is 0. */
  relative?: number
  minEffect?: number
  /** One short sentence saying why (for reports and tooltips). */
  reason: string
}

type Sample = readonly number[] | SampleStats | undefined

function stats(s: Sample): SampleStats | undefined {
  return s === undefined ? undefined : Array.isArray(s) ? describe(s as readonly number[]) : (s as SampleStats)
}

/**
 * Compares a candidate sample with a baseline sample under `goal`.
 * - both sides with ≥ 2 runs: Welch 95% CI of the difference; better/worse only when it excludes zero and |diff| ≥ min_effect;
 * - a side with one run: better/worse only when `minEffect` is set and |diff| ≥ minEffect; else inconclusive;
 * - a side with no eligible value: no-data.
 * @example judgeDifference([0.80, 0.81, 0.79], [0.85, 0.86, 0.84], 'maximize').verdict // 'better'
 */
export function judgeDifference(baseline: Sample, candidate: Sample, goal: Goal, minEffect?: number): MetricVerdict {
  const a = stats(baseline), b = stats(candidate)
  const floor = minEffect === undefined ? {} : { minEffect }
  if (!a || !b) return { verdict: 'no-data', ...(a ? { baseline: a } : {}), ...(b ? { candidate: b } : {}), ...floor, reason: a ? 'no eligible run on the new side' : 'no eligible baseline run' }
  const d = welch(a, b)
  const out: MetricVerdict = { verdict: 'inconclusive', baseline: a, candidate: b, diff: d.diff, ...floor, reason: '' }
  if (d.ci) out.ci = d.ci
  if (a.mean !== 0) out.relative = (d.diff / Math.abs(a.mean)) * 100
  const direction: Verdict = d.diff === 0 ? 'inconclusive' : (goal === 'maximize') === d.diff > 0 ? 'better' : 'worse'
  const bigEnough = minEffect === undefined || Math.abs(d.diff) >= minEffect
  if (d.ci) {
    const excludesZero = d.ci[0] > 0 || d.ci[1] < 0
    if (!excludesZero) out.reason = 'the 95% interval of the difference includes 0 (within noise)'
    else if (!bigEnough) out.reason = `the difference is real but smaller than min_effect ${minEffect}`
    else { out.verdict = direction; out.reason = 'the 95% interval of the difference excludes 0' + (minEffect === undefined ? '' : ` and the change is at least min_effect ${minEffect}`) }
    return out
  }
  if (minEffect === undefined) out.reason = `${a.n < 2 ? 'the baseline has' : 'the new side has'} one run: run repeats (seeds) or set min_effect to get a verdict`
  else if (!bigEnough || direction === 'inconclusive') out.reason = `single runs differ by less than min_effect ${minEffect}`
  else { out.verdict = direction; out.reason = `single runs differ by at least min_effect ${minEffect}` }
  return out
}
