/**
 * Is a rerun the same as the run it reproduces? One new value against the original's sample (the original alone, or
 * the repeats of its configuration), judged with the goal and `min_effect` of src/judge. Browser-safe.
 */
import type { Goal } from './config.js'
import { describe, type SampleStats, tQuantile } from './stats.js'

/** `same`: identical, or within min_effect / the spread of the repeats; `better`/`worse`: outside it; `inconclusive`: nothing says how large noise is. */
export type ReproductionVerdict = 'same' | 'better' | 'worse' | 'inconclusive'

export interface MetricReproduction {
  verdict: ReproductionVerdict
  /** The original's eligible values (the original, then its repeats). */
  original: SampleStats
  value: number
  /** value − mean(original). */
  diff: number
  /** Where a new run of the original configuration falls 95% of the time (n ≥ 2, no min_effect): mean ± t(0.975, n−1)·s·√(1 + 1/n). */
  range?: [number, number]
  minEffect?: number
  reason: string
}

/** Relative tolerance under which two values are the same number (printing and float noise). */
const IDENTICAL = 1e-9

/**
 * Judges one reproduced value against the original's sample under `goal`:
 * - identical (within 1e-9 relative): `same`;
 * - `min_effect` set: `same` when |diff| < min_effect, else better/worse;
 * - the original has ≥ 2 repeats: `same` inside the 95% prediction interval of a new run, else better/worse;
 * - one original run and no min_effect: `inconclusive` (nothing says how large the noise is).
 * @example judgeReproduction([0.80, 0.82, 0.81], 0.812, 'maximize').verdict // 'same'
 */
export function judgeReproduction(original: readonly number[], value: number, goal: Goal, minEffect?: number): MetricReproduction | undefined {
  const o = describe(original)
  if (!o || !Number.isFinite(value)) return undefined
  const diff = value - o.mean
  const floor = minEffect === undefined ? {} : { minEffect }
  const base = { original: o, value, diff, ...floor }
  const direction: ReproductionVerdict = (goal === 'maximize') === diff > 0 ? 'better' : 'worse'
  if (Math.abs(diff) <= IDENTICAL * Math.max(1, Math.abs(o.mean)) && (o.n === 1 || o.std === 0)) return { verdict: 'same', ...base, reason: 'the same value' }
  if (minEffect !== undefined) {
    return Math.abs(diff) < minEffect
      ? { verdict: 'same', ...base, reason: `differs by less than min_effect ${minEffect}` }
      : { verdict: direction, ...base, reason: `differs by at least min_effect ${minEffect}` }
  }
  if (o.n >= 2) {
    const half = tQuantile(0.975, o.n - 1) * o.std * Math.sqrt(1 + 1 / o.n)
    const range: [number, number] = [o.mean - half, o.mean + half]
    return value >= range[0] && value <= range[1]
      ? { verdict: 'same', ...base, range, reason: `inside the 95% range of a new run of the ${o.n} repeats` }
      : { verdict: direction, ...base, range, reason: `outside the 95% range of a new run of the ${o.n} repeats` }
  }
  return { verdict: 'inconclusive', ...base, reason: 'one original run and no min_effect: run repeats (labbook run --repeat) or set min_effect to judge' }
}
