/** MLflow's request validation (mlflow/utils/validation.py), on top of the model's key rules. */
import { MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH, validateKey } from '../model/validate.js'
import type { ServerContext } from './context.js'
import { invalid } from './errors.js'
import { parseDouble, parseInt64 } from './protocol.js'

export const MAX_METRICS_PER_BATCH = 1000
export const MAX_PARAMS_TAGS_PER_BATCH = 100
export const MAX_ENTITIES_PER_BATCH = 1000
export const MAX_BATCH_REQUEST_BYTES = 1_000_000

export interface MetricIn { key: string; value: number; timestamp: number; step: number }
export interface KV { key: string; value: string }

function key(v: unknown, what: 'metric' | 'param' | 'tag'): string {
  if (v === undefined || v === null || v === '') throw invalid(`Missing value for required parameter 'key'. A ${what} key must be provided.`)
  validateKey(v, what)
  return v as string
}

function stringValue(v: unknown, what: string, k: string): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (v === undefined || v === null) return ''
  throw invalid(`Invalid value ${JSON.stringify(v)} for ${what} '${k}': expected a string.`)
}

/** Over-long values are cut to the limit with a warning in the server log, as MLflow does by default. */
function truncate(ctx: ServerContext, what: string, value: string, limit: number): string {
  if (value.length <= limit) return value
  ctx.log('warn', `${what} '${value.slice(0, 100)}...' (${value.length} characters) is truncated to ${limit} characters to meet the length limit.`)
  return value.slice(0, limit)
}

export function metricIn(m: unknown, now: number): MetricIn {
  if (!m || typeof m !== 'object') throw invalid(`Invalid metric ${JSON.stringify(m)}: expected an object.`)
  const o = m as Record<string, unknown>
  const k = key(o.key, 'metric')
  if (o.value === undefined || o.value === null) throw invalid(`Missing value for required parameter 'value' of metric '${k}'.`)
  const value = parseDouble(o.value, `value of metric '${k}'`)
  const timestamp = o.timestamp === undefined || o.timestamp === null ? now : parseInt64(o.timestamp, `timestamp of metric '${k}'`)
  if (timestamp < 0) throw invalid(`Got invalid timestamp ${timestamp} for metric '${k}'. Timestamp must be a nonnegative long (64-bit integer).`)
  const step = o.step === undefined || o.step === null ? 0 : parseInt64(o.step, `step of metric '${k}'`)
  return { key: k, value, timestamp, step }
}

export function paramIn(ctx: ServerContext, p: unknown): KV {
  if (!p || typeof p !== 'object') throw invalid(`Invalid param ${JSON.stringify(p)}: expected an object.`)
  const o = p as Record<string, unknown>
  const k = key(o.key, 'param')
  return { key: k, value: truncate(ctx, 'Param value', stringValue(o.value, 'param', k), MAX_PARAM_VALUE_LENGTH) }
}

export function tagIn(ctx: ServerContext, t: unknown): KV {
  if (!t || typeof t !== 'object') throw invalid(`Invalid tag ${JSON.stringify(t)}: expected an object.`)
  const o = t as Record<string, unknown>
  const k = key(o.key, 'tag')
  return { key: k, value: truncate(ctx, 'Tag value', stringValue(o.value, 'tag', k), MAX_TAG_VALUE_LENGTH) }
}

export function batchLimits(metrics: number, params: number, tags: number): void {
  const check = (name: string, limit: number, n: number) => {
    if (n > limit) {
      throw invalid(`A batch logging request can contain at most ${limit} ${name}. Got ${n} ${name}. Please split up ${name} across multiple requests and try again.`)
    }
  }
  check('metrics', MAX_METRICS_PER_BATCH, metrics)
  check('params', MAX_PARAMS_TAGS_PER_BATCH, params)
  check('tags', MAX_PARAMS_TAGS_PER_BATCH, tags)
  check('metrics, params, and tags', MAX_ENTITIES_PER_BATCH, metrics + params + tags)
}

export function uniqueParamKeys(params: KV[]): void {
  const seen = new Set<string>()
  const dupes: string[] = []
  for (const p of params) {
    if (seen.has(p.key)) dupes.push(p.key)
    seen.add(p.key)
  }
  if (dupes.length) {
    throw invalid(`Duplicate parameter keys have been submitted: ${JSON.stringify(dupes)}. Please ensure the request contains only one param value per param key.`)
  }
}

export function experimentName(v: unknown): string {
  if (typeof v !== 'string' || v === '') throw invalid(`Invalid experiment name: '${String(v ?? '')}'`)
  if (v.length > 500) throw invalid('Experiment name exceeds the maximum length of 500 characters')
  return v
}
