import type { Document, ToStringOptions } from 'yaml'
import { yamlLib } from './yaml-lib.js'
import { LabbookError } from '../errors.js'
import { fastParseYaml, fastStringifyYaml } from './fast-yaml.js'
import type { Experiment } from '../model/experiment.js'
import { FORMAT_VERSION } from '../model/layout.js'
import { keyed, LIFECYCLES, RUN_STATUSES, type DatasetInput, type MetricSummary, type RunSummary } from '../model/run.js'

const OPTS: ToStringOptions = { lineWidth: 0, minContentWidth: 0 }
const RUN_KEYS = ['id', 'name', 'experiment', 'status', 'lifecycle', 'startTime', 'endTime', 'user', 'host', 'parent', 'description', 'source', 'params', 'tags', 'metrics', 'datasets'] as const
const DATASET_KEYS = ['sourceType', 'source', 'context', 'schema', 'profile'] as const
const SOURCE_KEYS = ['commit', 'branch', 'dirty', 'patchId', 'remote', 'command', 'platform', 'runtime'] as const
const SUMMARY_KEYS = ['value', 'step', 'timestamp', 'min', 'max', 'count'] as const

/** Stable key order and flow-style metric summaries, so the same run always gives the same bytes and diffs stay small. */
export function encodeRun(run: RunSummary): string {
  const ordered = orderedRun(run)
  return fastStringifyYaml(ordered, FLOW_KEYS) ?? yamlOfRun(ordered)
}

/** The fast writer's run.yaml, or undefined where encodeRun leaves it to the yaml package (for the differential test). */
export function encodeRunFast(run: RunSummary): string | undefined {
  return fastStringifyYaml(orderedRun(run), FLOW_KEYS)
}

/** run.yaml's keys whose entries are written as flow mappings, one line each. */
const FLOW_KEYS: ReadonlySet<string> = new Set(['metrics', 'datasets'])

/**
 * run.yaml through the yaml package: what encodeRun writes for what the fast writer (fast-yaml.ts) leaves out
 * (quoted or multi-line strings, non-ASCII, non-finite numbers), and the reference the differential test holds it to.
 */
export function encodeRunYaml(run: RunSummary): string {
  return yamlOfRun(orderedRun(run))
}

function yamlOfRun(ordered: Record<string, unknown>): string {
  const { isMap } = yamlLib()
  return encodeSafely(ordered, (doc) => {
    for (const key of FLOW_KEYS) {
      const m = doc.get(key, true)
      if (isMap(m)) for (const item of m.items) if (isMap(item.value)) item.value.flow = true
    }
  })
}

/** run.yaml's fields in their stable order, as written (datasets as `name@digest` keys). */
function orderedRun(run: RunSummary): Record<string, unknown> {
  const ordered: Record<string, unknown> = {}
  for (const k of RUN_KEYS) {
    const v = run[k]
    if (v === undefined) continue
    if (k === 'source') ordered[k] = pick(run.source, SOURCE_KEYS)
    else if (k === 'metrics') {
      const m = keyed<unknown>()
      for (const key of Object.keys(run.metrics).sort()) m[key] = pick(run.metrics[key]!, SUMMARY_KEYS)
      ordered[k] = m
    } else if (k === 'datasets') {
      // `name@digest: {sourceType, source, context, schema, profile}`: one line per dataset, two levels deep like metrics
      if (!run.datasets?.length) continue
      const d = keyed<unknown>()
      for (const x of run.datasets) d[datasetKey(x)] = pick(x, DATASET_KEYS) // in the order logged, as MLflow lists them
      ordered[k] = d
    } else if (k === 'params' || k === 'tags') ordered[k] = sortedObject(v as Record<string, unknown>)
    else ordered[k] = v
  }
  return ordered
}

/**
 * The run as one JSON line, which is also YAML (a flow mapping) that decodeRun reads: for private copies of a run that
 * no one reads as text (the journal's start op), ~100× cheaper than the YAML emitter. Undefined when a value is one
 * JSON cannot carry (NaN, ±Infinity, -0): use encodeRun then.
 */
export function encodeRunLine(run: RunSummary): string | undefined {
  let exact = true
  const text = JSON.stringify(orderedRun(run), (_k, v) => {
    if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) exact = false
    return v
  })
  return exact ? text : undefined
}

/**
 * Stringifies and proves the text parses back to the same value. The yaml package round-trips nearly everything (the
 * property tests in test/format cover the corners; a `:` alone as a flow mapping's value it writes plain and cannot
 * read back), and where it would not, every string is written double-quoted instead: less pretty, always exact.
 */
export function encodeSafely(value: Record<string, unknown>, style: (doc: Document) => void): string {
  const { Document } = yamlLib()
  const doc = new Document(value)
  style(doc)
  const text = doc.toString(OPTS)
  if (readsBack(text, value)) return text
  const quoted = new Document(value)
  style(quoted)
  return quoted.toString({ ...OPTS, defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' })
}

/** Whether `text` parses to `value` (the yaml package writes a `:` alone in a flow mapping plain, which it cannot read). */
function readsBack(text: string, value: unknown): boolean {
  try {
    return sameValue(readYaml(text), value)
  } catch {
    return false
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b) || a === b
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a), kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  for (const k of ka) if (!sameValue((a as Fields)[k], (b as Fields)[k])) return false
  return true
}

export function pick<T extends object>(o: T, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const from = o as Fields
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k]
  return out
}

export function sortedObject(o: Record<string, unknown>): Record<string, unknown> {
  const out = keyed<unknown>()
  for (const k of Object.keys(o).sort()) out[k] = o[k]
  return out
}

/** A parsed document's mapping: every field is checked where a decoder reads it. */
export type Fields = Record<string, unknown>

/** The value as a mapping, or undefined when it is something else (a scalar, a list, nothing). */
export function mappingOf(v: unknown): Fields | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Fields) : undefined
}

/** Our fast reader for what labbook writes, the full YAML parser for anything else. */
export function readYaml(text: string): unknown {
  return fastParseYaml(text) ?? yamlLib().parse(text, { uniqueKeys: false })
}

/** A flow mapping that is JSON (encodeRunLine's) parses as JSON; anything else through the YAML reader. */
function jsonOrYaml(text: string, where: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return parseDoc(text, where)
  }
}

export function parseDoc(text: string, where: string): unknown {
  try {
    return readYaml(text)
  } catch (e) {
    throw new LabbookError('CORRUPT_DATA', `${where} is not valid YAML: ${(e as Error).message}`, 'Fix or revert the file on the branch (`git log -p` on it shows who changed it).', { where }, { cause: e })
  }
}

export function corrupt(where: string, what: string): LabbookError {
  return new LabbookError('CORRUPT_DATA', `${where}: ${what}.`, 'docs/format.md describes every field of run.yaml.', { where })
}

export function decodeRun(text: string, where = 'run.yaml'): RunSummary {
  const d = mappingOf(text.startsWith('{') ? jsonOrYaml(text, where) : parseDoc(text, where))
  if (!d) throw corrupt(where, 'expected a mapping')
  if (typeof d.id !== 'string' || d.id === '') throw corrupt(where, 'missing id')
  const status = RUN_STATUSES.find((s) => s === d.status)
  if (!status) throw corrupt(where, `status ${JSON.stringify(d.status)} is not one of ${RUN_STATUSES.join(', ')}`)
  const lifecycle = LIFECYCLES.find((l) => l === d.lifecycle)
  if (!lifecycle) throw corrupt(where, `lifecycle ${JSON.stringify(d.lifecycle)} is not active or deleted`)
  if (typeof d.startTime !== 'number') throw corrupt(where, 'missing startTime')
  const params = mappingOf(d.params) as RunSummary['params'] | undefined
  const run: RunSummary = {
    id: d.id,
    name: d.name == null ? '' : String(d.name),
    experiment: String(d.experiment ?? '0'),
    status,
    lifecycle,
    startTime: d.startTime,
    source: (mappingOf(d.source) ?? {}) as RunSummary['source'],
    params: keyed(params),
    tags: keyed(),
    metrics: keyed(),
  }
  if (typeof d.endTime === 'number') run.endTime = d.endTime
  for (const k of ['user', 'host', 'parent', 'description'] as const) if (d[k] != null) run[k] = String(d[k])
  if (d.tags && typeof d.tags === 'object') for (const [k, v] of Object.entries(d.tags)) run.tags[k] = typeof v === 'string' ? v : String(v)
  if (d.metrics && typeof d.metrics === 'object') {
    for (const [k, x] of Object.entries(d.metrics)) {
      const v = mappingOf(x)
      if (!v || typeof v.value !== 'number' || typeof v.count !== 'number') throw corrupt(where, `metric summary ${k} is incomplete`)
      // step, timestamp, min and max as written (numbers: run.yaml is ours; a hand edit that breaks them shows as such)
      run.metrics[k] = { value: v.value, step: v.step ?? 0, timestamp: v.timestamp ?? 0, min: v.min ?? v.value, max: v.max ?? v.value, count: v.count } as MetricSummary
    }
  }
  if (d.datasets && typeof d.datasets === 'object') {
    const list: DatasetInput[] = []
    for (const [k, raw] of Object.entries(d.datasets)) {
      const at = k.lastIndexOf('@')
      const v = mappingOf(raw)
      if (at < 0 || !v) throw corrupt(where, `dataset ${k} is not name@digest with a mapping`)
      const x: DatasetInput = { name: k.slice(0, at), digest: k.slice(at + 1), sourceType: String(v.sourceType ?? ''), source: String(v.source ?? '') }
      for (const f of ['context', 'schema', 'profile'] as const) if (v[f] != null) x[f] = String(v[f])
      list.push(x)
    }
    if (list.length) run.datasets = list
  }
  return run
}

/** A dataset's key in run.yaml: `name@digest`. */
export function datasetKey(d: Pick<DatasetInput, 'name' | 'digest'>): string {
  return `${d.name}@${d.digest}`
}

const EXPERIMENT_KEYS = ['id', 'name', 'lifecycle', 'createdAt', 'updatedAt', 'description', 'tags'] as const

export function encodeExperiment(e: Experiment): string {
  const o = pick(e, EXPERIMENT_KEYS)
  o.tags = sortedObject(e.tags ?? {})
  return encodeSafely(o, () => {})
}

export function decodeExperiment(text: string, where = 'experiment'): Experiment {
  const d = mappingOf(parseDoc(text, where))
  if (!d || d.id == null || typeof d.name !== 'string') throw corrupt(where, 'expected id and name')
  const e: Experiment = { id: String(d.id), name: d.name, lifecycle: d.lifecycle === 'deleted' ? 'deleted' : 'active', createdAt: Number(d.createdAt ?? 0), tags: keyed() }
  if (typeof d.updatedAt === 'number') e.updatedAt = d.updatedAt
  if (typeof d.description === 'string') e.description = d.description
  if (d.tags && typeof d.tags === 'object') for (const [k, v] of Object.entries(d.tags)) e.tags[k] = String(v)
  return e
}

export function encodeRoot(): string {
  return `# labbook data branch: see docs/format.md of labbook\nformat: ${FORMAT_VERSION}\n`
}

/** Refuses a branch written by a newer major format rather than guessing at it. */
export function checkRoot(text: string, where = 'labbook.yaml'): number {
  const v = mappingOf(parseDoc(text, where))?.format
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw corrupt(where, `format ${JSON.stringify(v)} is not a version number`)
  if (v > FORMAT_VERSION) {
    throw new LabbookError('FORMAT_TOO_NEW', `The branch uses labbook format ${v}; this labbook reads format ${FORMAT_VERSION} and older.`, 'Upgrade labbook (npm install labbook@latest).', { version: v })
  }
  return v
}
