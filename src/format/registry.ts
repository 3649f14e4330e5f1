/** The model registry's files (docs/format.md): model.yaml, versions/<id>.yaml, aliases/<alias>.yaml. Encoder beside decoder. */
import type { ModelAlias, ModelVersion, RegisteredModel } from '../model/registry.js'
import { STAGES } from '../model/registry.js'
import { keyed } from '../model/run.js'
import { corrupt, encodeSafely, mappingOf, parseDoc, pick, sortedObject } from './yaml.js'

const MODEL_KEYS = ['name', 'createdAt', 'updatedAt', 'description', 'tags'] as const
const VERSION_KEYS = ['id', 'version', 'createdAt', 'updatedAt', 'user', 'source', 'runId', 'runLink', 'modelId', 'status', 'stage', 'description', 'tags', 'renumberedFrom', 'deleted'] as const
const ALIAS_KEYS = ['alias', 'versionId', 'setAt', 'user'] as const

export function encodeModel(m: RegisteredModel): string {
  const o = pick(m, MODEL_KEYS)
  o.tags = sortedObject(m.tags)
  return encodeSafely(o, () => {})
}

export function decodeModel(text: string, where = 'model.yaml'): RegisteredModel {
  const d = mappingOf(parseDoc(text, where))
  if (!d || typeof d.name !== 'string') throw corrupt(where, 'expected a name')
  const m: RegisteredModel = { name: d.name, createdAt: Number(d.createdAt ?? 0), updatedAt: Number(d.updatedAt ?? d.createdAt ?? 0), tags: stringMap(d.tags) }
  if (typeof d.description === 'string') m.description = d.description
  return m
}

/** The version file; `model` comes from the folder and is not written. */
export function encodeVersion(v: ModelVersion): string {
  const o = pick(v, VERSION_KEYS)
  o.tags = sortedObject(v.tags)
  if (!v.deleted) delete o.deleted
  return encodeSafely(o, () => {})
}

export function decodeVersion(text: string, model: string, where = 'version'): ModelVersion {
  const d = mappingOf(parseDoc(text, where))
  if (!d || typeof d.id !== 'string' || typeof d.version !== 'number' || !Number.isSafeInteger(d.version) || d.version < 1) throw corrupt(where, 'expected id and version')
  const v: ModelVersion = {
    id: d.id, model, version: d.version, createdAt: Number(d.createdAt ?? 0), updatedAt: Number(d.updatedAt ?? d.createdAt ?? 0),
    source: String(d.source ?? ''), stage: STAGES.find((s) => s === d.stage) ?? 'None', status: 'READY', tags: stringMap(d.tags),
  }
  for (const k of ['runId', 'runLink', 'modelId', 'user', 'description'] as const) if (d[k] != null) v[k] = String(d[k])
  if (typeof d.renumberedFrom === 'number' && Number.isSafeInteger(d.renumberedFrom)) v.renumberedFrom = d.renumberedFrom
  if (d.deleted === true) v.deleted = true
  return v
}

export function encodeAlias(a: ModelAlias): string {
  return encodeSafely(pick(a, ALIAS_KEYS), () => {})
}

export function decodeAlias(text: string, where = 'alias'): ModelAlias {
  const d = mappingOf(parseDoc(text, where))
  if (!d || typeof d.alias !== 'string' || typeof d.versionId !== 'string') throw corrupt(where, 'expected alias and versionId')
  const a: ModelAlias = { alias: d.alias, versionId: d.versionId, setAt: Number(d.setAt ?? 0) }
  if (d.user != null) a.user = String(d.user)
  return a
}

function stringMap(v: unknown): Record<string, string> {
  const out = keyed<string>()
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out[k] = typeof x === 'string' ? x : String(x)
  return out
}
