/**
 * The model registry on the branch: every change is one commit (subject + `Labbook-Model` trailers), so `git log --
 * models/` is the audit trail of who registered, promoted or moved an alias, and when. Writes go through the branch
 * store's lock and are computed against the tip they land on, so concurrent writers in one clone never reuse a number.
 */
import { LabbookError } from '../errors.js'
import { encodeAlias, encodeModel, encodeVersion } from '../format/registry.js'
import { newRunId } from '../model/ids.js'
import { keyed } from '../model/run.js'
import {
  aliasFile, liveVersions, modelDir, parseStage, STAGES, validateAlias, validateModelName, versionFile,
  type ModelRecord, type ModelVersion, type RegisteredModel, type Stage,
} from '../model/registry.js'
import { validateKey, validateTagValue } from '../model/validate.js'
import type { BranchStore, Edit, EditBuilder } from '../store/branch-store.js'
import type { TreeChange } from '../store/tree-edit.js'
import type { TreeView } from '../store/tree-view.js'
import { readModel, readRegistry } from './read.js'

export interface CreateModelOptions { description?: string; tags?: Record<string, string> }

export interface CreateVersionOptions {
  /** Where the files are: `runs:/<run>/<path>`, `mlflow-artifacts:/…`, `models:/<logged model id>`. */
  source: string
  runId?: string
  runLink?: string
  modelId?: string
  description?: string
  tags?: Record<string, string>
  user?: string
  /** Create the registered model if it does not exist (the CLI's `register`). @default false, as in MLflow */
  createModel?: boolean
}

/** A reference to one version: its number, an alias (`@champion`), a stage (`Production`) or `latest`. */
export type VersionRef = number | string

export function modelNotFound(name: string): LabbookError {
  return new LabbookError('MODEL_NOT_FOUND', `Registered Model with name=${name} not found.`, undefined, { name })
}

function versionNotFound(name: string, version: number | string): LabbookError {
  return new LabbookError('MODEL_NOT_FOUND', `Model Version (name=${name}, version=${version}) not found.`, undefined, { name, version })
}

/**
 * The registry of one book.
 * @example
 * const reg = new Registry(book.store, () => book.store.head())
 * const v = await reg.createVersion('iris', { source: `runs:/${run.id}/model`, runId: run.id, createModel: true })
 * await reg.setAlias('iris', 'champion', v.version)
 */
export class Registry {
  /**
   * @param settle awaited before every write: the book commits its pending run starts and ends first, so each
   *   registry action is a commit of its own (`git log labbook -- models` reads who registered or promoted what).
   */
  constructor(
    private readonly store: BranchStore,
    private readonly view: () => Promise<TreeView | null>,
    private readonly settle: () => Promise<void> = async () => {},
  ) {}

  /** One registry action, one commit. */
  private async write<T>(build: EditBuilder<T>): Promise<T> {
    await this.settle()
    return this.store.update(build)
  }

  async list(): Promise<ModelRecord[]> {
    const view = await this.view()
    return view ? readRegistry(view) : []
  }

  async get(name: string): Promise<ModelRecord> {
    const view = await this.view()
    const rec = view ? await readModel(view, name) : undefined
    if (!rec) throw modelNotFound(name)
    return rec
  }

  /** A version by number, alias (`champion` or `@champion`), stage name or `latest`; never a deleted one. */
  async version(name: string, ref: VersionRef): Promise<ModelVersion> {
    return findVersion(await this.get(name), ref)
  }

  /** MLflow's `get_latest_versions`: for each stage asked (all when none), the highest live version in it. */
  async latestVersions(name: string, stages: string[] = []): Promise<ModelVersion[]> {
    return latestVersions(await this.get(name), stages)
  }

  async createModel(name: string, o: CreateModelOptions = {}): Promise<ModelRecord> {
    validateModelName(name)
    const tags = checkTags(o.tags)
    return this.write(async (view) => {
      if (await readModel(view, name)) throw new LabbookError('MODEL_EXISTS', `Registered Model (name=${name}) already exists.`, undefined, { name })
      const now = Date.now()
      const model: RegisteredModel = { name, createdAt: now, updatedAt: now, tags }
      if (o.description) model.description = o.description
      return {
        changes: [{ path: `${modelDir(name)}/model.yaml`, blob: this.store.objects.writeBlob(encodeModel(model)) }],
        subject: `register model ${name}`, trailers: trailers(name), result: { model, versions: [], aliases: [] },
      }
    })
  }

  async renameModel(name: string, newName: string): Promise<RegisteredModel> {
    validateModelName(newName)
    return this.write(async (view) => {
      const rec = await mustRead(view, name)
      if (newName !== name && (await readModel(view, newName))) throw new LabbookError('MODEL_EXISTS', `Registered Model (name=${newName}) already exists.`, undefined, { name: newName })
      const dir = await view.entry(modelDir(name))
      const model = { ...rec.model, name: newName, updatedAt: Date.now() }
      const blob = this.store.objects.writeBlob(encodeModel(model))
      const entries = (await this.store.objects.readTree(dir!.oid)).map((e) => (e.name === 'model.yaml' ? { ...e, oid: blob } : e))
      const changes: TreeChange[] = [{ path: modelDir(name), remove: true }, { path: modelDir(newName), tree: this.store.objects.writeTree(entries) }]
      return { changes, subject: `rename model ${name} to ${newName}`, trailers: [...trailers(name), ['Labbook-Model', newName]], result: model }
    })
  }

  async updateModel(name: string, o: { description?: string }): Promise<RegisteredModel> {
    return this.editModel(name, `describe model ${name}`, (m) => {
      if (o.description !== undefined) m.description = o.description || undefined
    })
  }

  async setModelTag(name: string, key: string, value: string): Promise<RegisteredModel> {
    validateKey(key, 'tag')
    const v = validateTagValue(key, value)
    return this.editModel(name, `tag model ${name}`, (m) => { m.tags[key] = v })
  }

  async deleteModelTag(name: string, key: string): Promise<RegisteredModel> {
    return this.editModel(name, `untag model ${name}`, (m) => {
      if (!Object.hasOwn(m.tags, key)) throw new LabbookError('MODEL_NOT_FOUND', `No tag with key ${JSON.stringify(key)} on registered model ${name}.`, undefined, { name, key })
      delete m.tags[key]
    })
  }

  /** Deletes the model with its versions and aliases; its history stays in `git log`. */
  async deleteModel(name: string): Promise<void> {
    return this.write(async (view) => {
      await mustRead(view, name)
      return { changes: [{ path: modelDir(name), remove: true }], subject: `delete model ${name}`, trailers: trailers(name), result: undefined }
    })
  }

  /** Registers a new version: the next number after every version this model ever had (deleted ones included). */
  async createVersion(name: string, o: CreateVersionOptions): Promise<ModelVersion> {
    validateModelName(name)
    if (typeof o.source !== 'string' || o.source === '') throw new LabbookError('INVALID_VALUE', `A model version needs a source (where its files are), got ${JSON.stringify(o.source)}.`, 'e.g. runs:/<run id>/model.')
    const tags = checkTags(o.tags)
    return this.write(async (view) => {
      let rec = await readModel(view, name)
      const changes: TreeChange[] = []
      const now = Date.now()
      if (!rec) {
        if (!o.createModel) throw modelNotFound(name)
        rec = { model: { name, createdAt: now, updatedAt: now, tags: keyed() }, versions: [], aliases: [] }
      }
      const number = rec.versions.reduce((m, v) => Math.max(m, v.version), 0) + 1
      const v: ModelVersion = { id: newRunId(now), model: name, version: number, createdAt: now, updatedAt: now, source: o.source, stage: 'None', status: 'READY', tags }
      for (const k of ['runId', 'runLink', 'modelId', 'user', 'description'] as const) if (o[k]) v[k] = o[k]
      changes.push({ path: `${modelDir(name)}/model.yaml`, blob: this.store.objects.writeBlob(encodeModel({ ...rec.model, updatedAt: now })) })
      changes.push({ path: versionFile(name, v.id), blob: this.store.objects.writeBlob(encodeVersion(v)) })
      const tr = trailers(name, number)
      if (o.runId) tr.push(['Labbook-Run', o.runId])
      return { changes, subject: `register ${name} version ${number}${o.runId ? ` from run ${o.runId}` : ''}`, trailers: tr, result: v }
    })
  }

  async updateVersion(name: string, version: number, o: { description?: string }): Promise<ModelVersion> {
    return this.editVersion(name, version, `describe ${name} version ${version}`, (v) => {
      if (o.description !== undefined) v.description = o.description || undefined
    })
  }

  async setVersionTag(name: string, version: number, key: string, value: string): Promise<ModelVersion> {
    validateKey(key, 'tag')
    const val = validateTagValue(key, value)
    return this.editVersion(name, version, `tag ${name} version ${version}`, (v) => { v.tags[key] = val })
  }

  async deleteVersionTag(name: string, version: number, key: string): Promise<ModelVersion> {
    return this.editVersion(name, version, `untag ${name} version ${version}`, (v) => {
      if (!Object.hasOwn(v.tags, key)) throw new LabbookError('MODEL_NOT_FOUND', `No tag with key ${JSON.stringify(key)} on ${name} version ${version}.`, undefined, { name, version, key })
      delete v.tags[key]
    })
  }

  /** Marks the version deleted (its number is never reused) and drops the aliases pointing at it. */
  async deleteVersion(name: string, version: number): Promise<void> {
    return this.write(async (view) => {
      const rec = await mustRead(view, name)
      const v = findVersion(rec, version)
      const changes: TreeChange[] = [{ path: versionFile(name, v.id), blob: this.store.objects.writeBlob(encodeVersion({ ...v, tags: keyed(v.tags), deleted: true, updatedAt: Date.now() })) }]
      for (const a of rec.aliases) if (a.versionId === v.id) changes.push({ path: aliasFile(name, a.alias), remove: true })
      return { changes, subject: `delete ${name} version ${version}`, trailers: trailers(name, version), result: undefined }
    })
  }

  /** MLflow 2.x stage transition; `archiveExisting` moves the other versions in that stage to Archived, in the same commit. */
  async transitionStage(name: string, version: number, stage: string, archiveExisting = false): Promise<ModelVersion> {
    const to: Stage = parseStage(stage)
    return this.write(async (view) => {
      const rec = await mustRead(view, name)
      const v = findVersion(rec, version)
      const now = Date.now()
      const next = { ...v, tags: keyed(v.tags), stage: to, updatedAt: now }
      const changes: TreeChange[] = [{ path: versionFile(name, v.id), blob: this.store.objects.writeBlob(encodeVersion(next)) }]
      if (archiveExisting && (to === 'Staging' || to === 'Production')) {
        for (const o of liveVersions(rec)) {
          if (o.id !== v.id && o.stage === to) changes.push({ path: versionFile(name, o.id), blob: this.store.objects.writeBlob(encodeVersion({ ...o, stage: 'Archived', updatedAt: now })) })
        }
      }
      return { changes, subject: `promote ${name} version ${version} to ${to}`, trailers: trailers(name, version), result: next }
    })
  }

  /** Points an alias at a version (moving it if it pointed elsewhere). */
  async setAlias(name: string, alias: string, version: number, user?: string): Promise<ModelVersion> {
    validateAlias(alias)
    return this.write(async (view) => {
      const rec = await mustRead(view, name)
      const v = findVersion(rec, version)
      const prev = rec.aliases.find((a) => a.alias === alias)
      const prevNumber = prev && rec.versions.find((x) => x.id === prev.versionId)?.version
      const blob = this.store.objects.writeBlob(encodeAlias({ alias, versionId: v.id, setAt: Date.now(), ...(user ? { user } : {}) }))
      const subject = prevNumber !== undefined && prevNumber !== version ? `move ${name}@${alias} from version ${prevNumber} to ${version}` : `alias ${name}@${alias} to version ${version}`
      return { changes: [{ path: aliasFile(name, alias), blob }], subject, trailers: trailers(name, version), result: v }
    })
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    return this.write(async (view) => {
      const rec = await mustRead(view, name)
      if (!rec.aliases.some((a) => a.alias === alias)) throw new LabbookError('MODEL_NOT_FOUND', `Registered model alias ${alias} not found.`, undefined, { name, alias })
      return { changes: [{ path: aliasFile(name, alias), remove: true }], subject: `remove alias ${name}@${alias}`, trailers: trailers(name), result: undefined }
    })
  }

  private editModel(name: string, subject: string, edit: (m: RegisteredModel) => void): Promise<RegisteredModel> {
    return this.write(async (view): Promise<Edit<RegisteredModel>> => {
      const rec = await mustRead(view, name)
      const m = { ...rec.model, tags: keyed(rec.model.tags) }
      edit(m)
      m.updatedAt = Date.now()
      return { changes: [{ path: `${modelDir(name)}/model.yaml`, blob: this.store.objects.writeBlob(encodeModel(m)) }], subject, trailers: trailers(name), result: m }
    })
  }

  private editVersion(name: string, version: number, subject: string, edit: (v: ModelVersion) => void): Promise<ModelVersion> {
    return this.write(async (view): Promise<Edit<ModelVersion>> => {
      const v = { ...findVersion(await mustRead(view, name), version) }
      v.tags = keyed(v.tags)
      edit(v)
      v.updatedAt = Date.now()
      return { changes: [{ path: versionFile(name, v.id), blob: this.store.objects.writeBlob(encodeVersion(v)) }], subject, trailers: trailers(name, version), result: v }
    })
  }
}

async function mustRead(view: TreeView, name: string): Promise<ModelRecord> {
  const rec = await readModel(view, name)
  if (!rec) throw modelNotFound(name)
  return rec
}

function trailers(name: string, version?: number): Array<[string, string]> {
  const t: Array<[string, string]> = [['Labbook-Model', name]]
  if (version !== undefined) t.push(['Labbook-Model-Version', String(version)])
  return t
}

function checkTags(tags: Record<string, string> = {}): Record<string, string> {
  const out = keyed<string>()
  for (const [k, v] of Object.entries(tags)) {
    validateKey(k, 'tag')
    out[k] = validateTagValue(k, v)
  }
  return out
}

/** A live version by number, alias, stage or `latest` (see VersionRef). */
export function findVersion(rec: ModelRecord, ref: VersionRef): ModelVersion {
  const name = rec.model.name
  const live = liveVersions(rec)
  if (typeof ref === 'number' || /^\d+$/.test(ref)) {
    const n = Number(ref)
    const v = live.find((x) => x.version === n)
    if (!v) throw versionNotFound(name, n)
    return v
  }
  const r = ref.startsWith('@') ? ref.slice(1) : ref
  if (r.toLowerCase() === 'latest') {
    const v = live.at(-1)
    if (!v) throw versionNotFound(name, 'latest')
    return v
  }
  const stage = STAGES.find((s) => s.toLowerCase() === r.toLowerCase())
  if (stage && !ref.startsWith('@')) {
    const v = live.filter((x) => x.stage === stage).at(-1)
    if (!v) throw versionNotFound(name, stage)
    return v
  }
  const a = rec.aliases.find((x) => x.alias === r)
  const v = a && live.find((x) => x.id === a.versionId)
  if (!v) throw new LabbookError('MODEL_NOT_FOUND', `Registered model alias ${r} not found.`, undefined, { name, alias: r })
  return v
}

export function latestVersions(rec: ModelRecord, stages: string[] = []): ModelVersion[] {
  const wanted = stages.length ? stages.map(parseStage) : [...STAGES]
  const out: ModelVersion[] = []
  for (const s of wanted) {
    const v = liveVersions(rec).filter((x) => x.stage === s).at(-1)
    if (v) out.push(v)
  }
  return out.sort((a, b) => a.version - b.version)
}

/** `models:/name/3`, `models:/name@champion`, `models:/name/Production`, `models:/name/latest` split into name and ref. */
export function parseModelsUri(uri: string): { name: string; ref: VersionRef } {
  const m = /^models:\/(.+)$/.exec(uri)
  const rest = m?.[1]
  const at = rest?.lastIndexOf('@') ?? -1
  const slash = rest?.lastIndexOf('/') ?? -1
  if (rest && at > 0 && at > slash) return { name: rest.slice(0, at), ref: '@' + rest.slice(at + 1) }
  if (rest && slash > 0) return { name: rest.slice(0, slash), ref: rest.slice(slash + 1) }
  throw new LabbookError('INVALID_VALUE', `Not a models:/ URI: ${JSON.stringify(uri)}.`, 'Use models:/<name>/<version>, models:/<name>@<alias> or models:/<name>/<stage>.', { uri })
}
