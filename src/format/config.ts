/**
 * `labbook.config.yaml`, the project's settings at the root of the code repository: decoder (`parseConfig`, YAML
 * text → a typed, validated `LabbookConfig`) beside encoder (`encodeConfig`). Pure and browser-safe; reading the
 * file (once per process, cached by mtime) is `loadConfig` in config-file.ts.
 *
 * Adding a key: add it to `LabbookConfig` and give it a reader in `KEYS` below (the reader validates the value and
 * names the key in its error). Unknown keys are an error with a did-you-mean, so a typo never silently does nothing.
 */
import { yamlLib } from './yaml-lib.js'
import { fail } from '../errors.js'
import { closest } from '../model/suggest.js'
import { keyed } from '../model/run.js'

export const CONFIG_FILE = 'labbook.config.yaml'

export type Goal = 'maximize' | 'minimize'

/** What the project says about one metric key (a key containing `*` is a pattern). Read by src/judge. */
export interface MetricConfig {
  /** `none`: informational (shown, never primary, never a regression). */
  goal?: Goal | 'none'
  /** The smallest difference that matters, in the metric's unit: the team's noise floor for verdicts. */
  min_effect?: number
}

export interface LabbookConfig {
  /** The branch holding the runs. @default "labbook" */
  branch?: string
  /** Push the branch after every `labbook run`: `true` for origin, or a remote name. */
  push?: boolean | string
  /** Goal per metric key; `key: minimize` is short for `key: { goal: minimize }`. */
  metrics?: Record<string, MetricConfig>
  /** The primary metrics (those an experiment logged), in order: what verdicts are made of. */
  primary?: string[]
  /** Params that only pick a random seed: runs differing only in these are repeats of one configuration. @default [seed, random_state, rng] */
  seed_params?: string[]
}

/** Where a value sits, for messages: `metrics.val_loss.goal`. */
type Reader<T> = (value: unknown, at: string, file: string) => T

/** A config error: names the file and the key, shows the expected shape. */
export function configError(file: string, at: string, why: string, example = EXAMPLE): Error {
  return fail('INVALID_VALUE', `${file}: ${at} ${why}.`, { hint: `Example ${CONFIG_FILE}:\n${example}`, data: { file, key: at } })
}

const EXAMPLE = 'branch: labbook\nmetrics:\n  val_loss: { goal: minimize, min_effect: 0.002 }\nprimary: [val_loss]\nseed_params: [seed]'

const GOAL_WORDS: Record<string, Goal | 'none'> = { maximize: 'maximize', max: 'maximize', minimize: 'minimize', min: 'minimize', none: 'none' }

const string: Reader<string> = (v, at, file) => {
  if (typeof v !== 'string' || v === '') throw configError(file, at, `must be a non-empty string, got ${JSON.stringify(v)}`)
  return v
}

const readGoal: Reader<Goal | 'none'> = (v, at, file) => {
  const goal = typeof v === 'string' ? GOAL_WORDS[v.toLowerCase()] : undefined
  if (!goal) throw configError(file, at, `must be maximize, minimize or none, got ${JSON.stringify(v)}`)
  return goal
}

const stringList = (what: string): Reader<string[]> => (v, at, file) => {
  const list = typeof v === 'string' ? [v] : v
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw configError(file, at, `must be a list of ${what}`)
  return list as string[]
}

/** Readers of the keys of one metric's mapping. */
const METRIC_KEYS: { [K in keyof MetricConfig]-?: Reader<NonNullable<MetricConfig[K]>> } = {
  goal: readGoal,
  min_effect: (v, at, file) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw configError(file, at, `must be a number ≥ 0 in the metric's unit, got ${JSON.stringify(v)}`)
    return v
  },
}

const readMetric: Reader<MetricConfig> = (v, at, file) => {
  if (typeof v === 'string') return { goal: readGoal(v, `${at}.goal`, file) }
  return readMapping(v, at, file, METRIC_KEYS as Record<string, Reader<unknown>>) as MetricConfig
}

/** The readers of the top-level keys: the one list of what labbook.config.yaml may hold. */
const KEYS: { [K in keyof LabbookConfig]-?: Reader<NonNullable<LabbookConfig[K]>> } = {
  branch: string,
  push: (v, at, file) => {
    if (typeof v === 'boolean') return v
    return string(v, at, file)
  },
  metrics: (v, at, file) => {
    if (!isMapping(v)) throw configError(file, at, 'must map metric keys to { goal: maximize | minimize | none, min_effect: NUMBER }')
    const out = keyed<MetricConfig>()
    for (const [key, spec] of Object.entries(v)) out[key] = readMetric(spec, `${at}.${key}`, file)
    return out
  },
  primary: stringList('metric keys'),
  seed_params: stringList('param keys'),
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function readMapping(v: unknown, at: string, file: string, readers: Record<string, Reader<unknown>>): Record<string, unknown> {
  if (!isMapping(v)) throw configError(file, at || 'the top level', 'must be a mapping')
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(v)) {
    const path = at ? `${at}.${key}` : key
    const read = Object.hasOwn(readers, key) ? readers[key] : undefined
    if (!read) {
      const near = closest(key, Object.keys(readers))
      throw configError(file, path, `is not a setting labbook knows${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}; it knows ${Object.keys(readers).join(', ')}`)
    }
    if (value === null || value === undefined) continue
    out[key] = read(value, path, file)
  }
  return out
}

/**
 * Validates an already-parsed config value (a mapping, or null/undefined for an empty file).
 * @example validateConfig({ metrics: { val_loss: 'min' } }) // { metrics: { val_loss: { goal: 'minimize' } } }
 */
export function validateConfig(value: unknown, file = CONFIG_FILE): LabbookConfig {
  if (value === null || value === undefined) return {}
  return readMapping(value, '', file, KEYS as Record<string, Reader<unknown>>) as LabbookConfig
}

/** Decodes the text of labbook.config.yaml; INVALID_VALUE naming the file and key when it is not valid. */
export function parseConfig(text: string, file = CONFIG_FILE): LabbookConfig {
  let value: unknown
  try {
    value = yamlLib().parse(text)
  } catch (e) {
    throw fail('INVALID_VALUE', `${file} is not valid YAML: ${(e as Error).message}`, { hint: `Fix or remove ${CONFIG_FILE}.`, data: { file }, cause: e })
  }
  return validateConfig(value, file)
}

/** Encodes a config as YAML that `parseConfig` reads back to the same value. */
export function encodeConfig(config: LabbookConfig): string {
  const clean = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined))
  return Object.keys(clean).length === 0 ? '' : yamlLib().stringify(clean)
}
