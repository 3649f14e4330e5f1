/** The fields a filter or an order-by can name, and how each reads a RunSummary. Browser-safe. */
import type { RunSummary } from '../model/run.js'
import type { FieldKind, FieldRef } from './ast.js'

export type FieldType = 'number' | 'string' | 'boolean'
/** The value a field has on a run; `undefined` when the run lacks it (a missing key, a run without an end time). */
export type FieldValue = string | number | boolean | undefined

interface AttributeDef {
  type: FieldType
  get: (run: RunSummary) => FieldValue
  /** One line for docs and error hints. */
  doc: string
}

/** Where a run's artifacts are addressed in `artifact_uri` filters and in the MLflow-compatible API. */
export function artifactUri(runId: string): string {
  return `labbook:/runs/${runId}/artifacts`
}

/** Run attributes by canonical key: MLflow's first, then labbook's own. */
export const ATTRIBUTES: Readonly<Record<string, AttributeDef>> = {
  run_id: { type: 'string', get: (r) => r.id, doc: 'the run id' },
  run_name: { type: 'string', get: (r) => r.name, doc: 'the run name' },
  status: { type: 'string', get: (r) => r.status, doc: 'RUNNING, FINISHED, FAILED or KILLED' },
  user_id: { type: 'string', get: (r) => r.user, doc: 'who started the run' },
  start_time: { type: 'number', get: (r) => r.startTime, doc: 'start, ms since the epoch (alias created)' },
  end_time: { type: 'number', get: (r) => r.endTime, doc: 'end, ms since the epoch; missing while running' },
  artifact_uri: { type: 'string', get: (r) => artifactUri(r.id), doc: 'labbook:/runs/<id>/artifacts' },
  lifecycle_stage: { type: 'string', get: (r) => r.lifecycle, doc: 'active or deleted' },
  experiment: { type: 'string', get: (r) => r.experiment, doc: 'experiment id (or name, when names are known)' },
  'source.commit': { type: 'string', get: (r) => r.source?.commit, doc: 'git commit of the code' },
  'source.branch': { type: 'string', get: (r) => r.source?.branch, doc: 'git branch of the code' },
  'source.dirty': { type: 'boolean', get: (r) => r.source?.dirty, doc: 'uncommitted changes when the run started' },
  parent: { type: 'string', get: (r) => r.parent, doc: 'parent run id' },
  duration: {
    type: 'number',
    get: (r) => (r.endTime === undefined ? undefined : r.endTime - r.startTime),
    doc: 'end_time - start_time in ms; missing while running',
  },
}

/** Other spellings, matched case-insensitively like the canonical keys. */
const ALIASES: Readonly<Record<string, string>> = {
  created: 'start_time',
  'run name': 'run_name',
  run_uuid: 'run_id',
  experiment_id: 'experiment',
  parent_run_id: 'parent',
}

/** Canonical attribute key for a spelling, or undefined. */
export function attributeKey(name: string): string | undefined {
  const k = name.toLowerCase()
  if (Object.hasOwn(ATTRIBUTES, k)) return k
  return Object.hasOwn(ALIASES, k) ? ALIASES[k] : undefined
}

const PREFIXES: Readonly<Record<string, FieldKind>> = {
  metric: 'metric', metrics: 'metric',
  param: 'param', params: 'param', parameter: 'param', parameters: 'param',
  tag: 'tag', tags: 'tag',
  attribute: 'attribute', attributes: 'attribute', attr: 'attribute', run: 'attribute',
  dataset: 'dataset', datasets: 'dataset',
}

/** The entity kind a prefix (`metrics`, `param`, `attr`, `datasets`…) names. */
export function prefixKind(prefix: string): FieldKind | undefined {
  const p = prefix.toLowerCase()
  return Object.hasOwn(PREFIXES, p) ? PREFIXES[p] : undefined
}

export function fieldType(f: FieldRef): FieldType | 'text' {
  if (f.kind === 'metric') return 'number'
  if (f.kind === 'attribute') return ATTRIBUTES[f.key]?.type ?? 'string'
  // Params and tags are text; a number literal compares them numerically.
  return 'text'
}

/** A getter for one field, made once so the hot loop does no lookups by kind. */
export function fieldGetter(f: FieldRef): (run: RunSummary) => FieldValue {
  const key = f.key
  // Keys such as "constructor" would otherwise read Object.prototype on runs that lack them.
  const inherited = key in Object.prototype
  switch (f.kind) {
    case 'metric':
      return inherited ? (r) => (Object.hasOwn(r.metrics, key) ? r.metrics[key].value : undefined) : (r) => r.metrics[key]?.value
    case 'param':
      return inherited ? (r) => (Object.hasOwn(r.params, key) ? r.params[key] : undefined) : (r) => r.params[key]
    case 'tag':
      return inherited ? (r) => (Object.hasOwn(r.tags, key) ? r.tags[key] : undefined) : (r) => r.tags[key]
    case 'attribute': {
      const def = ATTRIBUTES[key]
      if (!def) return () => undefined
      return def.get
    }
    case 'dataset':
      // a run has many datasets: filters test each (see evaluate.ts); as one value, the first one's
      return (r) => r.datasets?.[0]?.[key as DatasetField]
  }
}

/** What `datasets.<field>` can name (MLflow's dataset search fields). */
export const DATASET_FIELDS = ['name', 'digest', 'context'] as const
export type DatasetField = (typeof DATASET_FIELDS)[number]

/**
 * The value of one field of a run (metrics: the latest value), or undefined when the run lacks it.
 * @example runValue(run, { kind: 'metric', key: 'acc' }) // 0.93
 */
export function runValue(run: RunSummary, ref: FieldRef): FieldValue {
  return fieldGetter(ref)(run)
}

const NUMERIC = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/
const SPECIAL: Readonly<Record<string, number>> = {
  nan: NaN, inf: Infinity, '+inf': Infinity, '-inf': -Infinity, infinity: Infinity, '+infinity': Infinity, '-infinity': -Infinity,
}

/** A param/tag value as a number, if it is one (`'0.01'`, `'1e-3'`, `'nan'`, `'inf'` like Python's float()); booleans are not numbers. */
export function asNumber(v: FieldValue): number | undefined {
  if (typeof v === 'number') return v
  if (typeof v !== 'string') return undefined
  if (NUMERIC.test(v)) return Number(v)
  const k = v.trim().toLowerCase()
  return Object.hasOwn(SPECIAL, k) ? SPECIAL[k] : undefined
}

/** A value as text, the way MLflow stores params (`String(0.01)` is `'0.01'`). */
export function asText(v: FieldValue): string | undefined {
  return v === undefined ? undefined : typeof v === 'string' ? v : String(v)
}
