import { LabbookError } from '../errors.js'
import { controlCharacter, hasLoneSurrogate } from './path.js'
import type { DatasetInput, ParamValue } from './run.js'

/** MLflow's rules (mlflow/utils/validation.py), so anything valid there is valid here. */
export const MAX_KEY_LENGTH = 250
export const MAX_PARAM_VALUE_LENGTH = 6000
export const MAX_TAG_VALUE_LENGTH = 8000
export const MAX_RUN_NAME_LENGTH = 250
const KEY_CHARS = /^[/\w.\- :]+$/
export const RUN_ID_RULE = /^[a-zA-Z0-9][\w-]{0,255}$/

const validKeys = new Set<string>()

/** Throws INVALID_KEY unless `key` follows MLflow's key rules. Cached: hot loops pay once per key. */
export function validateKey(key: unknown, what: 'metric' | 'param' | 'tag' = 'metric'): asserts key is string {
  if (typeof key === 'string' && validKeys.has(key)) return
  const problem = keyProblem(key)
  if (problem) {
    throw new LabbookError('INVALID_KEY', `Invalid ${what} key ${JSON.stringify(key)}: ${problem}.`,
      'Keys may hold letters, digits, _ - . / space and :, be a normalised relative path (no "..", no leading "/", no "//") and be at most 250 characters.',
      { key, what })
  }
  if (validKeys.size < 100_000) validKeys.add(key as string)
}

function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return `a key must be a string, got ${typeof key}`
  if (key.length === 0) return 'a key cannot be empty'
  if (key.length > MAX_KEY_LENGTH) return `it is ${key.length} characters long, the limit is ${MAX_KEY_LENGTH}`
  if (!KEY_CHARS.test(key)) return 'it contains a character outside [/\\w.\\- :]'
  if (key.startsWith('/')) return 'it starts with "/"'
  if (key.endsWith('/') && key.length > 1) return 'it ends with "/"'
  const parts = key.split('/')
  if (parts.some((p) => p === '')) return 'it contains "//"'
  if (parts.some((p) => p === '..' || p === '.')) return 'it contains a "." or ".." path segment'
  return undefined
}

export function validateParamValue(key: string, value: unknown): asserts value is ParamValue {
  if (typeof value === 'number' || typeof value === 'boolean') {
    if (typeof value === 'number' && !Number.isFinite(value) && !Number.isNaN(value) && Math.abs(value) !== Infinity) {
      throw new LabbookError('INVALID_VALUE', `Param ${key} has an invalid number.`)
    }
    return
  }
  if (typeof value !== 'string') {
    throw new LabbookError('INVALID_VALUE', `Param ${key} must be a string, number or boolean, got ${describe(value)}.`,
      'Convert it with String() or JSON.stringify() first.', { key })
  }
  checkText(`Param ${key}`, value, true)
  if (value.length > MAX_PARAM_VALUE_LENGTH) {
    throw new LabbookError('VALUE_TOO_LONG', `Param ${key} is ${value.length} characters long; params hold at most ${MAX_PARAM_VALUE_LENGTH}.`,
      'Log long text as an artifact (run.logText) instead.', { key, length: value.length })
  }
}

export function validateTagValue(key: string, value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (typeof value !== 'string') {
    throw new LabbookError('INVALID_VALUE', `Tag ${key} must be a string, got ${describe(value)}.`, undefined, { key })
  }
  checkText(`Tag ${key}`, value, true)
  if (value.length > MAX_TAG_VALUE_LENGTH) {
    throw new LabbookError('VALUE_TOO_LONG', `Tag ${key} is ${value.length} characters long; tags hold at most ${MAX_TAG_VALUE_LENGTH}.`,
      'Log long text as an artifact (run.logText) instead.', { key, length: value.length })
  }
  return value
}

export function validateMetricValue(key: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') {
    throw new LabbookError('INVALID_VALUE', `Metric ${key} must be a number, got ${describe(value)}.`,
      'NaN and ±Infinity are allowed; strings are not.', { key })
  }
}

export function validateStep(key: string, step: unknown): asserts step is number {
  if (typeof step !== 'number' || !Number.isSafeInteger(step)) {
    throw new LabbookError('INVALID_VALUE', `Step of metric ${key} must be an integer, got ${describe(step)}.`, undefined, { key })
  }
}

export function validateTimestamp(key: string, ts: unknown): asserts ts is number {
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0) {
    throw new LabbookError('INVALID_VALUE', `Timestamp of metric ${key} must be a non-negative integer of ms since the epoch, got ${describe(ts)}.`, undefined, { key })
  }
}

export function validateRunId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !RUN_ID_RULE.test(id)) {
    throw new LabbookError('INVALID_ID', `Invalid run id ${JSON.stringify(id)}: ids match ^[a-zA-Z0-9][\\w-]{0,255}$.`, undefined, { id })
  }
}

export function validateRunName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new LabbookError('INVALID_VALUE', `A run name must be a string, got ${describe(name)}.`)
  checkText('A run name', name, false)
  if (name.length > MAX_RUN_NAME_LENGTH) {
    throw new LabbookError('VALUE_TOO_LONG', `Run name is ${name.length} characters long; the limit is ${MAX_RUN_NAME_LENGTH}.`)
  }
}

export function validateExperimentName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new LabbookError('INVALID_VALUE', `An experiment name must be a non-empty string, got ${describe(name)}.`)
  }
  checkText('An experiment name', name, false)
  if (name.length > 500) throw new LabbookError('VALUE_TOO_LONG', `Experiment name is ${name.length} characters long; the limit is 500.`)
}

export function validateDescription(text: unknown): asserts text is string {
  if (typeof text !== 'string') throw new LabbookError('INVALID_VALUE', `A description must be a string, got ${describe(text)}.`)
  checkText('A description', text, true)
}

/**
 * Text labbook stores: no control characters (NUL would make the commit or YAML `git fsck --strict` rejects; the rest
 * would be interpreted by a terminal), no lone surrogates (not representable in UTF-8). Multi-line text (values,
 * descriptions) may hold tab, newline and carriage return; names are one line.
 */
export function textProblem(text: string, multiline: boolean): string | undefined {
  const bad = controlCharacter(text, multiline ? '\t\n\r' : '')
  if (bad !== undefined) return `it holds the control character U+${bad.toString(16).toUpperCase().padStart(4, '0')}`
  if (hasLoneSurrogate(text)) return 'it is not valid Unicode (a lone surrogate)'
  return undefined
}

function checkText(what: string, text: string, multiline: boolean): void {
  const problem = textProblem(text, multiline)
  if (problem) {
    throw new LabbookError('INVALID_VALUE', `${what} cannot be stored: ${problem}.`,
      multiline ? 'Remove control characters other than tab and newline; log binary data as an artifact.' : 'Names are one line of printable text: remove control characters and newlines.',
      { value: text.length > 80 ? text.slice(0, 80) : text })
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`
  if (typeof v === 'object') return Array.isArray(v) ? 'an array' : 'an object'
  return `${typeof v} ${String(v)}`
}

/**
 * Checks dataset inputs (MLflow's `log_input`) and returns them in their stored shape: every one needs a name and a
 * digest; the source fields become strings, empty optional fields are dropped. Throws before anything is kept.
 */
export function normalizeDatasetInputs(datasets: readonly DatasetInput[]): DatasetInput[] {
  for (const d of datasets) {
    if (!d || typeof d.name !== 'string' || d.name === '' || typeof d.digest !== 'string' || d.digest === '') {
      throw new LabbookError('INVALID_VALUE', `A dataset input needs a name and a digest, got ${JSON.stringify(d)?.slice(0, 200)}.`, 'Pass { name, digest, sourceType, source }.')
    }
  }
  return datasets.map((d) => {
    const x: DatasetInput = { name: d.name, digest: d.digest, sourceType: String(d.sourceType ?? ''), source: String(d.source ?? '') }
    for (const f of ['context', 'schema', 'profile'] as const) if (d[f] !== undefined && d[f] !== '') x[f] = String(d[f])
    return x
  })
}
