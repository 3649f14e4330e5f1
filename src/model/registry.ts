/**
 * The model registry's shapes and rules (MLflow's registered models, versions, aliases and stages), and where they
 * live on the branch. Browser-safe: no I/O.
 *
 *   models/<encoded name>/model.yaml           the registered model (name, description, tags, times)
 *   models/<encoded name>/versions/<id>.yaml    one file per version, keyed by a unique time-sortable id; the version
 *                                               number is a field, so two clones registering at once never write the
 *                                               same path, and a merge renumbers a clash deterministically
 *   models/<encoded name>/aliases/<alias>.yaml  an alias points at a version id (so it follows a renumbered version)
 */
import { LabbookError } from '../errors.js'

export const MODELS_DIR = 'models'
export const MODEL_FILE = 'model.yaml'
export const VERSIONS_DIR = 'versions'
export const ALIASES_DIR = 'aliases'

/** MLflow 2.x stages; `None` is a version's stage until it is promoted. */
export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const
export type Stage = (typeof STAGES)[number]

export interface RegisteredModel {
  name: string
  createdAt: number
  updatedAt: number
  description?: string
  tags: Record<string, string>
}

export interface ModelVersion {
  /** Unique and never reused: the file name under versions/. */
  id: string
  /** The model's name (from the folder; not stored in the file). */
  model: string
  /** The number MLflow clients see (`models:/name/3`). */
  version: number
  createdAt: number
  updatedAt: number
  /** Where the model's files are: `runs:/<run>/<path>`, `mlflow-artifacts:/…`, `models:/<logged model id>`. */
  source: string
  runId?: string
  runLink?: string
  /** MLflow 3: the logged model this version registers. */
  modelId?: string
  user?: string
  description?: string
  stage: Stage
  status: 'READY'
  tags: Record<string, string>
  /** Set when a merge gave this version a new number because another clone had registered the same one. */
  renumberedFrom?: number
  /** Deleted versions keep their file (and their number, never reused, as MLflow does). */
  deleted?: boolean
}

export interface ModelAlias {
  alias: string
  /** The version's id (not its number). */
  versionId: string
  setAt: number
  user?: string
}

/** A registered model with everything under its folder. */
export interface ModelRecord {
  model: RegisteredModel
  /** Every version, deleted ones included, by number. */
  versions: ModelVersion[]
  aliases: ModelAlias[]
}

/** The stage by any spelling MLflow accepts (case-insensitive). */
export function parseStage(s: unknown): Stage {
  const found = typeof s === 'string' ? STAGES.find((x) => x.toLowerCase() === s.toLowerCase()) : undefined
  if (!found) throw new LabbookError('INVALID_VALUE', `Invalid model version stage ${JSON.stringify(s)}.`, `Use one of ${STAGES.join(', ')}.`, { stage: s })
  return found
}

export function validateModelName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new LabbookError('INVALID_VALUE', `A registered model name must be a non-empty string, got ${JSON.stringify(name)}.`, 'Name it, e.g. "iris-classifier".')
  }
  if (name.length > 256) throw new LabbookError('VALUE_TOO_LONG', `Registered model name is ${name.length} characters long; the limit is 256.`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new LabbookError('INVALID_VALUE', `Registered model name ${JSON.stringify(name)} contains a control character.`, 'Use printable characters.')
}

/** MLflow's alias rule: letters, digits, `_` and `-`; not `latest`, not `v<digits>` (those are version references). */
export function validateAlias(alias: unknown): asserts alias is string {
  if (typeof alias !== 'string' || !/^[\w-]{1,255}$/.test(alias)) {
    throw new LabbookError('INVALID_VALUE', `Invalid alias ${JSON.stringify(alias)}: aliases use letters, digits, "_" and "-" (at most 255).`, 'e.g. "champion".')
  }
  if (alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias)) {
    throw new LabbookError('INVALID_VALUE', `Invalid alias ${JSON.stringify(alias)}: "latest" and "v<number>" are reserved for version references.`, 'Pick another alias, e.g. "champion".')
  }
}

/** A version number as MLflow sends it (a string of digits), checked. */
export function parseVersionNumber(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : NaN
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new LabbookError('INVALID_VALUE', `Invalid model version ${JSON.stringify(v)}: versions are whole numbers from 1.`, 'e.g. "3".', { version: v })
  }
  return n
}

/**
 * A model name as one path segment: letters, digits, `_`, `-` and inner `.` stay; anything else is `%XX` of its UTF-8
 * bytes, so every name is a valid, fsck-clean tree entry and the mapping is reversible.
 */
export function modelDirName(name: string): string {
  let out = ''
  const bytes = new TextEncoder().encode(name)
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    const c = String.fromCharCode(b)
    if (/[A-Za-z0-9_-]/.test(c) || (c === '.' && i > 0 && i < bytes.length - 1 && bytes[i - 1] !== 0x2e)) out += c
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

export function modelNameOfDir(dir: string): string {
  return new TextDecoder().decode(Uint8Array.from(dir.match(/%[0-9A-F]{2}|[^%]/g) ?? [], (t) => (t.length === 3 ? parseInt(t.slice(1), 16) : t.charCodeAt(0))))
}

export function modelDir(name: string): string {
  return `${MODELS_DIR}/${modelDirName(name)}`
}

export function versionFile(name: string, id: string): string {
  return `${modelDir(name)}/${VERSIONS_DIR}/${id}.yaml`
}

export function aliasFile(name: string, alias: string): string {
  return `${modelDir(name)}/${ALIASES_DIR}/${alias}.yaml`
}

/** The live (not deleted) versions of a record, by number. */
export function liveVersions(r: ModelRecord): ModelVersion[] {
  return r.versions.filter((v) => !v.deleted)
}

/** The aliases pointing at a version. */
export function aliasesOf(r: ModelRecord, v: ModelVersion): string[] {
  return r.aliases.filter((a) => a.versionId === v.id).map((a) => a.alias).sort()
}
