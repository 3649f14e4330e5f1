/** Whether a metric is better high or low: from the project's config when it says so, else inferred from the name. Browser-safe. */
import { validateConfig, type Goal, type LabbookConfig } from '../format/config.js'

export type { Goal }

/**
 * The `goals` part of `labbook.config.yaml`:
 * ```yaml
 * metrics:
 *   val_loss: { goal: minimize }
 *   "bleu*": { goal: maximize }   # * matches any run of characters
 * primary: [val_loss, bleu]
 * ```
 */
export type GoalConfig = Pick<LabbookConfig, 'metrics' | 'primary'>

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

/**
 * Validates the goals part of a parsed config file (YAML already parsed; the rules live in format/config.ts).
 * Accepts `key: minimize` shorthand and max/min.
 * @example parseGoalConfig({ metrics: { val_loss: 'min' } }) // { metrics: { val_loss: { goal: 'minimize' } } }
 */
export function parseGoalConfig(value: unknown, file = 'labbook.config.yaml'): GoalConfig {
  const { metrics, primary } = validateConfig(value, file)
  return { ...(metrics && { metrics }), ...(primary && { primary }) }
}
