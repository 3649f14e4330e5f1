/**
 * Reading the model registry from one revision of the branch. Parsed folders are cached by their git tree id, so a
 * warm read of 1,000 models is a handful of map lookups, and after one registration only that model is read again.
 */
import { decodeAlias, decodeModel, decodeVersion } from '../format/registry.js'
import {
  ALIASES_DIR, MODEL_FILE, MODELS_DIR, VERSIONS_DIR, modelDirName, modelNameOfDir, type ModelRecord,
} from '../model/registry.js'
import { isTreeMode, type ObjectStore } from '../store/objects.js'
import type { TreeView } from '../store/tree-view.js'

const byDir = new Map<string, ModelRecord>()
const byRoot = new Map<string, ModelRecord[]>()
const MAX_CACHED = 50_000

/** Every registered model on a revision, by name. */
export async function readRegistry(view: TreeView): Promise<ModelRecord[]> {
  const root = await view.entry(MODELS_DIR)
  if (!root || !isTreeMode(root.mode)) return []
  const hit = byRoot.get(root.oid)
  if (hit) return hit
  const out: ModelRecord[] = []
  for (const e of await view.store.readTree(root.oid)) {
    if (!isTreeMode(e.mode)) continue
    const r = await readModelDir(view.store, e.oid, e.name)
    if (r) out.push(r)
  }
  out.sort((a, b) => (a.model.name < b.model.name ? -1 : a.model.name > b.model.name ? 1 : 0))
  if (byRoot.size > 64) byRoot.clear()
  byRoot.set(root.oid, out)
  return out
}

/** One model by name, or undefined. */
export async function readModel(view: TreeView, name: string): Promise<ModelRecord | undefined> {
  const dir = modelDirName(name)
  const e = await view.entry(`${MODELS_DIR}/${dir}`)
  if (!e || !isTreeMode(e.mode)) return undefined
  return readModelDir(view.store, e.oid, dir)
}

/** A model folder (by tree id): its model.yaml, versions and aliases. Undefined without a readable model.yaml. */
export async function readModelDir(objects: ObjectStore, oid: string, dirName: string): Promise<ModelRecord | undefined> {
  const hit = byDir.get(oid)
  if (hit) return hit
  const entries = await objects.readTree(oid)
  const file = entries.find((x) => x.name === MODEL_FILE && !isTreeMode(x.mode))
  if (!file) return undefined
  const where = `${MODELS_DIR}/${dirName}`
  let rec: ModelRecord
  try {
    const model = decodeModel((await objects.readBlob(file.oid)).toString('utf8'), `${where}/${MODEL_FILE}`)
    // the folder is the name's home: a hand-edited name field does not move the model
    model.name = modelNameOfDir(dirName)
    rec = { model, versions: [], aliases: [] }
    for (const sub of entries) {
      if (!isTreeMode(sub.mode)) continue
      if (sub.name === VERSIONS_DIR) {
        for (const v of await objects.readTree(sub.oid)) {
          if (isTreeMode(v.mode) || !v.name.endsWith('.yaml')) continue
          try {
            rec.versions.push(decodeVersion((await objects.readBlob(v.oid)).toString('utf8'), model.name, `${where}/${VERSIONS_DIR}/${v.name}`))
          } catch { /* one unreadable version file must not hide the others (labbook doctor reports it) */ }
        }
      } else if (sub.name === ALIASES_DIR) {
        for (const a of await objects.readTree(sub.oid)) {
          if (isTreeMode(a.mode) || !a.name.endsWith('.yaml')) continue
          try {
            rec.aliases.push(decodeAlias((await objects.readBlob(a.oid)).toString('utf8'), `${where}/${ALIASES_DIR}/${a.name}`))
          } catch { /* as above */ }
        }
      }
    }
  } catch {
    return undefined
  }
  rec.versions.sort((a, b) => a.version - b.version || (a.id < b.id ? -1 : 1))
  rec.aliases.sort((a, b) => (a.alias < b.alias ? -1 : 1))
  if (byDir.size > MAX_CACHED) byDir.clear()
  byDir.set(oid, rec)
  return rec
}
