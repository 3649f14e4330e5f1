/**
 * Merging two clones' registries (`labbook pull`). Version files are keyed by unique ids, so both sides' versions are
 * kept; when both registered the same number, the version registered first (createdAt, then id) keeps it and the
 * others get the next free numbers, recording `renumberedFrom`. The rule depends only on the set of versions, so
 * every clone that merges the same histories computes the same numbers. Aliases point at version ids and follow a
 * renumbered version; a file changed on both sides keeps the later edit.
 */
import { decodeAlias, decodeModel, decodeVersion, encodeVersion } from '../format/registry.js'
import { ALIASES_DIR, MODEL_FILE, VERSIONS_DIR, modelNameOfDir, type ModelVersion } from '../model/registry.js'
import { isTreeMode, type ObjectStore, type TreeEntry } from '../store/objects.js'

export interface RegistryMergeNote {
  path: string
  kept: 'ours' | 'theirs'
  reason: string
}

/** Merges the `models/` trees of two sides; returns the merged tree id. */
export async function mergeRegistryTrees(objects: ObjectStore, ours: string, theirs: string, notes: RegistryMergeNote[]): Promise<string> {
  if (ours === theirs) return ours
  const a = new Map((await objects.readTree(ours)).map((e) => [e.name, e]))
  for (const t of await objects.readTree(theirs)) {
    const o = a.get(t.name)
    if (!o) a.set(t.name, t)
    else if (o.oid !== t.oid && isTreeMode(o.mode) && isTreeMode(t.mode)) a.set(t.name, { ...o, oid: await mergeModel(objects, o.oid, t.oid, `models/${t.name}`, notes) })
  }
  return objects.writeTree([...a.values()])
}

async function mergeModel(objects: ObjectStore, ours: string, theirs: string, path: string, notes: RegistryMergeNote[]): Promise<string> {
  const a = new Map((await objects.readTree(ours)).map((e) => [e.name, e]))
  for (const t of await objects.readTree(theirs)) {
    const o = a.get(t.name)
    if (!o || o.oid === t.oid) {
      if (!o) a.set(t.name, t)
      continue
    }
    const p = `${path}/${t.name}`
    if (t.name === MODEL_FILE) a.set(t.name, await later(objects, o, t, p, notes, (s) => decodeModel(s).updatedAt))
    else if ((t.name === VERSIONS_DIR || t.name === ALIASES_DIR) && isTreeMode(o.mode) && isTreeMode(t.mode)) {
      const stamp = t.name === VERSIONS_DIR ? (s: string) => decodeVersion(s, '').updatedAt : (s: string) => decodeAlias(s).setAt
      const files = new Map((await objects.readTree(o.oid)).map((e) => [e.name, e]))
      for (const f of await objects.readTree(t.oid)) {
        const mine = files.get(f.name)
        if (!mine) files.set(f.name, f)
        else if (mine.oid !== f.oid) files.set(f.name, await later(objects, mine, f, `${p}/${f.name}`, notes, stamp))
      }
      a.set(t.name, { ...o, oid: objects.writeTree([...files.values()]) })
    } else notes.push({ path: p, kept: 'ours', reason: 'changed on both sides' })
  }
  const versions = a.get(VERSIONS_DIR)
  if (versions && isTreeMode(versions.mode)) {
    a.set(VERSIONS_DIR, { ...versions, oid: await renumber(objects, versions.oid, modelNameOfDir(path.slice(path.lastIndexOf('/') + 1)), `${path}/${VERSIONS_DIR}`, notes) })
  }
  return objects.writeTree([...a.values()])
}

/** The side edited later (ties: the larger blob id, so both clones pick the same). */
async function later(objects: ObjectStore, o: TreeEntry, t: TreeEntry, path: string, notes: RegistryMergeNote[], stamp: (text: string) => number): Promise<TreeEntry> {
  let keep: 'ours' | 'theirs'
  try {
    const so = stamp((await objects.readBlob(o.oid)).toString('utf8'))
    const st = stamp((await objects.readBlob(t.oid)).toString('utf8'))
    keep = st > so || (st === so && t.oid > o.oid) ? 'theirs' : 'ours'
  } catch {
    keep = t.oid > o.oid ? 'theirs' : 'ours'
  }
  notes.push({ path, kept: keep, reason: 'changed on both sides; kept the later edit' })
  return keep === 'ours' ? o : t
}

/** Gives every version a distinct number: the first registered keeps a contested number, the others get the next free ones. */
async function renumber(objects: ObjectStore, tree: string, model: string, path: string, notes: RegistryMergeNote[]): Promise<string> {
  const entries = await objects.readTree(tree)
  const parsed: Array<{ e: TreeEntry; v: ModelVersion }> = []
  for (const e of entries) {
    try {
      parsed.push({ e, v: decodeVersion((await objects.readBlob(e.oid)).toString('utf8'), model) })
    } catch { /* unreadable: left as it is */ }
  }
  const order = (x: ModelVersion, y: ModelVersion) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)
  parsed.sort((x, y) => x.v.version - y.v.version || order(x.v, y.v))
  const used = new Set<number>()
  const losers: Array<{ e: TreeEntry; v: ModelVersion }> = []
  for (const p of parsed) {
    if (used.has(p.v.version)) losers.push(p)
    else used.add(p.v.version)
  }
  if (!losers.length) return tree
  let next = Math.max(...used)
  const byName = new Map(entries.map((e) => [e.name, e]))
  for (const p of losers.sort((x, y) => order(x.v, y.v))) {
    const renumbered: ModelVersion = { ...p.v, version: ++next, renumberedFrom: p.v.renumberedFrom ?? p.v.version }
    byName.set(p.e.name, { ...p.e, oid: objects.writeBlob(encodeVersion(renumbered)) })
    notes.push({ path: `${path}/${p.e.name}`, kept: 'theirs', reason: `version ${p.v.version} of ${model} was registered in both clones; the later one is now version ${next}` })
  }
  return objects.writeTree([...byName.values()])
}
