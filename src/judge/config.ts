/**
 * The judgement keys of `labbook.config.yaml` (parsed and validated by src/format/config.ts, the file's one decoder):
 * `metrics: {KEY: {goal, min_effect}}`, `primary`, `seed_params`. Browser-safe.
 */
import type { Goal, LabbookConfig, MetricConfig } from '../format/config.js'

export type { Goal }

/** What the project says about one metric (goal, or `none` for informational; min_effect). */
export type MetricRule = MetricConfig

/** The parts of the config judgement reads. */
export type JudgeConfig = Pick<LabbookConfig, 'metrics' | 'primary' | 'seed_params'>

export const DEFAULT_SEED_PARAMS: readonly string[] = ['seed', 'random_state', 'rng']

const GOAL_WORDS: Record<string, Goal | 'none'> = {
  maximize: 'maximize', max: 'maximize', higher: 'maximize', minimize: 'minimize', min: 'minimize', lower: 'minimize', none: 'none',
}

/** A goal as an experiment tag spells it: `maximize`/`max`/`higher`, `minimize`/`min`/`lower`, `none`; undefined otherwise. */
export function parseGoalWord(word: unknown): Goal | 'none' | undefined {
  return typeof word === 'string' ? GOAL_WORDS[word.trim().toLowerCase()] : undefined
}
