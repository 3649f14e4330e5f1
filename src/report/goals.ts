/** Whether a metric is better high or low: from the project's config when it says so, else inferred from the name. Browser-safe. */
import { LabbookError } from '../errors.js'

export type Goal = 'maximize' | 'minimize'

/**
 * The `goals` part of `labbook.config.yaml`:
 * ```yaml
 * metrics:
 *   val_loss: { goal: minimize }
 *   "bleu*": { goal: maximize }   # * matches any run of characters
 * primary: [val_loss, bleu]
 * ```
 */
export interface GoalConfig {
  /** Goal per metric key; a key containing `*` is a pattern. Exact keys win over patterns. */
  metrics?: Record<string, { goal?: Goal }>
  /** Metrics to show first in comparisons, in this order. */
  primary?: string[]
}

export interface GoalInfo {
  goal: Goal
  /** 'config' when labbook.config.yaml decided, 'inferred' when the name did. */
  source: 'config' | 'inferred'
}

/** Name fragments that mean lower is better (case-insensitive substrings). */
export const MINIMIZE_HINTS = ['loss', 'error', 'rmse', 'mae', 'mse', 'perplexity', 'latency', 'time'] as const

/**
 * The goal of a metric: the config's, else minimize when the name contains loss, error, rmse, mae, mse, perplexity, latency or time, else maximize.
 * @example metricGoal('val_loss') // 'minimize'
 */
export function metricGoal(key: string, config?: GoalConfig): Goal {
  return metricGoalInfo(key, config).goal
}

/** The goal and where it came from (for outputs that say why). */
export function metricGoalInfo(key: string, config?: GoalConfig): GoalInfo {
  const entries = config?.metrics
  if (entries) {
    if (Object.hasOwn(entries, key) && entries[key]?.goal) return { goal: entries[key].goal!, source: 'config' }
    for (const [pattern, v] of Object.entries(entries)) {
      if (v?.goal && pattern.includes('*') && globMatch(pattern, key)) return { goal: v.goal, source: 'config' }
    }
  }
  const k = key.toLowerCase()
  return { goal: MINIMIZE_HINTS.some((h) => k.includes(h)) ? 'minimize' : 'maximize', source: 'inferred' }
}

function globMatch(pattern: string, key: string): boolean {
  const parts = pattern.split('*')
  if (!key.startsWith(parts[0]) || !key.endsWith(parts[parts.length - 1])) return false
  let pos = parts[0].length
  const stop = key.length - parts[parts.length - 1].length
  if (stop < pos) return false
  for (const p of parts.slice(1, -1)) {
    const at = key.indexOf(p, pos)
    if (at < 0 || at + p.length > stop) return false
    pos = at + p.length
  }
  return true
}

const GOAL_WORDS: Record<string, Goal> = { maximize: 'maximize', max: 'maximize', minimize: 'minimize', min: 'minimize' }

/**
 * Validates the goals part of a parsed config file (YAML already parsed). Accepts `key: minimize` shorthand and max/min.
 * @example parseGoalConfig({ metrics: { val_loss: 'min' } }) // { metrics: { val_loss: { goal: 'minimize' } } }
 */
export function parseGoalConfig(value: unknown, file = 'labbook.config.yaml'): GoalConfig {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw bad(file, 'the top level must be a mapping')
  const v = value as Record<string, unknown>
  const out: GoalConfig = {}
  if (v.metrics !== undefined && v.metrics !== null) {
    if (typeof v.metrics !== 'object' || Array.isArray(v.metrics)) throw bad(file, '"metrics" must map metric keys to { goal: maximize | minimize }')
    out.metrics = {}
    for (const [key, spec] of Object.entries(v.metrics as Record<string, unknown>)) {
      const word = typeof spec === 'string' ? spec : spec && typeof spec === 'object' ? (spec as { goal?: unknown }).goal : undefined
      const goal = typeof word === 'string' ? GOAL_WORDS[word.toLowerCase()] : undefined
      if (!goal) throw bad(file, `metrics.${key}: goal must be maximize or minimize, got ${JSON.stringify(word ?? spec)}`)
      out.metrics[key] = { goal }
    }
  }
  if (v.primary !== undefined && v.primary !== null) {
    const p = typeof v.primary === 'string' ? [v.primary] : v.primary
    if (!Array.isArray(p) || !p.every((x) => typeof x === 'string')) throw bad(file, '"primary" must be a list of metric keys')
    out.primary = p
  }
  return out
}

function bad(file: string, why: string): LabbookError {
  return new LabbookError('INVALID_VALUE', `Invalid goals in ${file}: ${why}.`,
    'Example:\nmetrics:\n  val_loss: { goal: minimize }\nprimary: [val_loss]', { file })
}
