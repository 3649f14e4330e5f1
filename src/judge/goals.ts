/**
 * Which way a metric improves, and which metrics an experiment is judged by. The one place that decides it:
 * `labbook.config.yaml`, then the experiment's tags, then the name rule. Browser-safe.
 */
import type { RunSummary } from '../model/run.js'
import { type Goal, type JudgeConfig, parseGoalWord } from './config.js'

/** Where a goal came from: the config file, an experiment tag, the metric's name, or telemetry (no goal). */
export type GoalSource = 'config' | 'tag' | 'name' | 'telemetry'

export interface MetricGoal {
  /** undefined: informational (system/* telemetry or `goal: none`): shown, never primary, never judged. */
  goal?: Goal
  source: GoalSource
  /** The configured noise floor (labbook.config.yaml `min_effect`). */
  minEffect?: number
}

/** What decides for one experiment: the parsed config and the experiment's tags. */
export interface JudgeContext {
  config?: JudgeConfig
  /** The experiment's tags (`labbook.primary_metric`, `labbook.goal`, `labbook.goal.<metric>`). */
  tags?: Record<string, string>
}

/** Tags naming an experiment's primary metric(s), comma-separated. */
export const PRIMARY_TAGS = ['labbook.primary_metric', 'primary_metric'] as const
/** Tags giving the goal of the primary metric; `labbook.goal.<metric>` gives one metric's. */
export const GOAL_TAGS = ['labbook.goal', 'goal'] as const

/** First path segments that mark telemetry: no goal, never primary. */
export const TELEMETRY_PREFIXES = ['system', 'sys', 'telemetry'] as const

/** Name words (tokens of the key) that mean lower is better. A token ending in "loss" counts too (`valloss`). */
export const MINIMIZE_WORDS: ReadonlySet<string> = new Set([
  'loss', 'losses', 'err', 'error', 'errors', 'mse', 'mae', 'rmse', 'mape', 'smape', 'msle', 'perplexity', 'ppl', 'wer', 'cer', 'ter',
  'latency', 'time', 'duration', 'runtime', 'seconds', 'secs', 'regret', 'distance', 'dist', 'nll', 'bpd', 'bpc', 'fid', 'kid', 'kl', 'kld',
  'cost', 'ece', 'brier', 'lpips', 'eer', 'far', 'frr', 'fpr', 'fnr', 'miss',
])

/** The words of a metric key: lower case, split on non-alphanumerics and camelCase. */
export function keyWords(key: string): string[] {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean)
}

/** True for telemetry keys (`system/…`, `sys/…`, `telemetry/…`). */
export function isTelemetry(key: string): boolean {
  const i = key.indexOf('/')
  return i > 0 && (TELEMETRY_PREFIXES as readonly string[]).includes(key.slice(0, i).toLowerCase())
}

/**
 * The name rule alone: minimize when a word of the key means a loss, an error, a distance or a time; maximize otherwise.
 * @example nameGoal('val_wer') // 'minimize'
 */
export function nameGoal(key: string): Goal {
  let g = nameGoals.get(key)
  if (g === undefined) {
    g = keyWords(key).some((w) => MINIMIZE_WORDS.has(w) || w.endsWith('loss')) ? 'minimize' : 'maximize'
    if (nameGoals.size > 50_000) nameGoals.clear()
    nameGoals.set(key, g)
  }
  return g
}
const nameGoals = new Map<string, Goal>()

function configRule(key: string, config?: JudgeConfig) {
  const entries = config?.metrics
  if (!entries) return undefined
  if (Object.hasOwn(entries, key)) return entries[key]
  for (const [pattern, rule] of Object.entries(entries)) if (pattern.includes('*') && globMatch(pattern, key)) return rule
  return undefined
}

function tagOf(tags: Record<string, string> | undefined, names: readonly string[]): string | undefined {
  for (const n of names) if (tags?.[n]) return tags[n]
  return undefined
}

/**
 * The goal of a metric: labbook.config.yaml, then the experiment's tags, then telemetry (no goal), then the name rule.
 * @example metricGoal('val_loss').goal // 'minimize'; metricGoal('system/memory_mb').goal // undefined
 */
export function metricGoal(key: string, ctx: JudgeContext = {}): MetricGoal {
  const rule = configRule(key, ctx.config)
  const minEffect = rule?.min_effect === undefined ? {} : { minEffect: rule.min_effect }
  if (rule?.goal === 'none') return { source: 'config', ...minEffect }
  if (rule?.goal) return { goal: rule.goal, source: 'config', ...minEffect }
  const perKey = parseGoalWord(ctx.tags?.[`labbook.goal.${key}`])
  if (perKey === 'none') return { source: 'tag', ...minEffect }
  if (perKey) return { goal: perKey, source: 'tag', ...minEffect }
  if (isTelemetry(key)) return { source: 'telemetry', ...minEffect }
  const expGoal = parseGoalWord(tagOf(ctx.tags, GOAL_TAGS))
  if (expGoal && expGoal !== 'none' && taggedPrimary(ctx.tags)[0] === key) return { goal: expGoal, source: 'tag', ...minEffect }
  return { goal: nameGoal(key), source: 'name', ...minEffect }
}

function taggedPrimary(tags?: Record<string, string>): string[] {
  const t = tagOf(tags, PRIMARY_TAGS)
  return t ? t.split(',').map((s) => s.trim()).filter(Boolean) : []
}

/**
 * The primary metric(s) of an experiment, given its runs: the config's `primary` (those the runs logged), else the
 * experiment's `labbook.primary_metric` tag, else the judged metric most runs logged (ties: val/test/eval names, then by name).
 * Informational metrics are never primary. Empty when no run logged a judged metric.
 * @example primaryMetrics(runs, { config, tags: experiment.tags }) // ['val_loss']
 */
export function primaryMetrics(runs: readonly { metrics: Record<string, unknown>; lifecycle: RunSummary['lifecycle'] }[], ctx: JudgeContext = {}): string[] {
  const count = new Map<string, number>()
  for (const r of runs) {
    if (r.lifecycle === 'deleted') continue
    for (const k in r.metrics) count.set(k, (count.get(k) ?? 0) + 1)
  }
  const judged = (k: string) => metricGoal(k, ctx).goal !== undefined
  const configured = (ctx.config?.primary ?? []).filter((k) => count.has(k) && judged(k))
  if (configured.length) return configured
  const tagged = taggedPrimary(ctx.tags).filter(judged)
  if (tagged.length) return tagged
  const score = (k: string) => (/(^|[^a-z])(val|valid|validation|test|eval)/i.test(k) ? 1 : 0)
  const best = [...count.keys()].filter(judged).sort((a, b) => count.get(b)! - count.get(a)! || score(b) - score(a) || (a < b ? -1 : a > b ? 1 : 0))[0]
  return best === undefined ? [] : [best]
}

/** `*` matches any run of characters. */
export function globMatch(pattern: string, key: string): boolean {
  const parts = pattern.split('*')
  if (!key.startsWith(parts[0]!) || !key.endsWith(parts[parts.length - 1]!)) return false
  let pos = parts[0]!.length
  const stop = key.length - parts[parts.length - 1]!.length
  if (stop < pos) return false
  for (const p of parts.slice(1, -1)) {
    const at = key.indexOf(p, pos)
    if (at < 0 || at + p.length > stop) return false
    pos = at + p.length
  }
  return true
}
