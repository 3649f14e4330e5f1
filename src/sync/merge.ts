import { checkRoot, decodeExperiment, decodeRun } from '../format/yaml.js'
import { EXPERIMENTS_DIR, ROOT_FILE, RUN_FILE, RUNS_DIR } from '../model/layout.js'
import { isSummaryFile, rebuildSummaries } from '../store/summaries.js'
import { editTree, lookup } from '../store/tree-edit.js'
import type { RunSummary } from '../model/run.js'
import { isTreeMode, MODES, type ObjectStore, type TreeEntry } from '../store/objects.js'
import { encodeNote, mergeNotes } from '../track/notes.js'
import { mergeRun } from './merge-run.js'
import { MODELS_DIR } from '../model/registry.js'
import { mergeRegistryTrees } from '../registry/merge.js'

/** A place where both sides changed the same thing, and which side was kept. */
export interface MergeConflict {
  path: string
  kept: 'ours' | 'theirs'
  reason: string
}

export interface TreeMerge {
  tree: string
  conflicts: MergeConflict[]
  /** Runs only the other side had. */
  runsAdded: number
}

/**
 * The union of two labbook trees, with no checkout and no conflict markers. Each run lives in its own directory, so
 * nearly everything merges by taking both sides; a run changed on both sides is merged field by field
 * (src/sync/merge-run.ts), an experiment keeps the one updated last, and the merge says so.
 */
export async function mergeLabbookTrees(objects: ObjectStore, ours: string, theirs: string, options: MergeOptions = {}): Promise<TreeMerge> {
  return unionLabbookTrees(objects, ours, [{ tree: theirs, ...options }])
}

/** One side of a union: its tree, and its merge base with everything merged before it. */
export interface MergeSide extends MergeOptions {
  tree: string
}

/**
 * The union of `ours` and any number of sides, in one pass: each side is merged into the result so far by the rules
 * of `mergeLabbookTrees` (three-way against its own base), and the summary files of the shards that changed are
 * rebuilt once at the end. What `labbook pull` writes as one merge commit with every side as a parent.
 * @example await unionLabbookTrees(objects, tip.tree, hosts.map((h) => ({ tree: h.tree, base: h.base })))
 */
export async function unionLabbookTrees(objects: ObjectStore, ours: string, sides: MergeSide[]): Promise<TreeMerge & { added: number[] }> {
  const m: TreeMerge = { tree: ours, conflicts: [], runsAdded: 0 }
  const added: number[] = []
  for (const side of sides) {
    const before = m.runsAdded
    m.tree = await mergeDir(objects, m.tree, side.tree, side.base ?? undefined, '', { m, later: side.later ?? 'theirs' })
    added.push(m.runsAdded - before)
  }
  // Summary lines (format 2) of every shard the merge changed are rebuilt from the merged runs: exact by construction.
  const formatOf = async (tree: string) => {
    const root = await lookup(objects, tree, ROOT_FILE)
    return root ? checkRoot((await objects.readBlob(root.oid)).toString('utf8')) : 1
  }
  // A format-1 side merged into format 2 (the higher format wins, below) has no summaries yet: rebuild every shard.
  // A run folder identical to one on a side keeps that side's line (written by the commit that wrote the folder).
  if (m.tree !== ours && (await formatOf(m.tree)) >= 2) {
    const before = (await formatOf(ours)) >= 2 ? ours : null
    m.tree = await editTree(objects, m.tree, await rebuildSummaries(objects, m.tree, before, sides.map((s) => s.tree)))
  }
  return { ...m, added }
}

export interface MergeOptions {
  /** The merge base's tree: makes run fields merge three-way (a side that did not change a field does not win). */
  base?: string | null
  /** The side that wrote last (tip commit time), which wins where both changed one field. @default 'theirs' */
  later?: 'ours' | 'theirs'
}

interface MergeContext { m: TreeMerge; later: 'ours' | 'theirs' }

async function mergeDir(objects: ObjectStore, ours: string, theirs: string, base: string | undefined, path: string, ctx: MergeContext): Promise<string> {
  const m = ctx.m
  if (ours === theirs) return ours
  const a = new Map((await objects.readTree(ours)).map((e) => [e.name, e]))
  const b = await objects.readTree(theirs)
  const baseEntries = base ? new Map((await objects.readTree(base)).map((e) => [e.name, e])) : new Map<string, TreeEntry>()
  const depth = path === '' ? 0 : path.split('/').length
  const inRuns = path.startsWith(`${RUNS_DIR}/`) || path === RUNS_DIR
  for (const t of b) {
    const o = a.get(t.name)
    const p = path ? `${path}/${t.name}` : t.name
    if (inRuns && depth === 2 && isSummaryFile(t.name)) continue // derived: rebuilt after the merge (rebuildSummaries)
    if (!o) {
      a.set(t.name, t)
      if (inRuns && depth === 2) m.runsAdded++
      else if (path === RUNS_DIR) m.runsAdded += (await objects.readTree(t.oid)).filter((e) => isTreeMode(e.mode)).length
      continue
    }
    if (o.oid === t.oid) continue
    if (inRuns && depth === 2 && isTreeMode(o.mode) && isTreeMode(t.mode)) {
      const merged = await mergeRun(objects, o, t, baseEntries.get(t.name), p, { conflicts: m.conflicts, later: ctx.later })
      a.set(t.name, merged ?? await pickRun(objects, o, t, p, m))
    } else if (p === MODELS_DIR && isTreeMode(o.mode) && isTreeMode(t.mode)) {
      a.set(t.name, { ...o, oid: await mergeRegistryTrees(objects, o.oid, t.oid, m.conflicts) })
    } else if (isTreeMode(o.mode) && isTreeMode(t.mode)) {
      const b0 = baseEntries.get(t.name)
      a.set(t.name, { ...o, oid: await mergeDir(objects, o.oid, t.oid, b0 && isTreeMode(b0.mode) ? b0.oid : undefined, p, ctx) })
    } else if (path === '' && t.name === ROOT_FILE && !isTreeMode(o.mode) && !isTreeMode(t.mode)) {
      // The higher format wins: the union keeps the newer side's files (Git LFS pointers, summaries), which a format-1
      // reader would misread.
      const version = async (oid: string) => checkRoot((await objects.readBlob(oid)).toString('utf8'), ROOT_FILE)
      if ((await version(t.oid)) > (await version(o.oid))) a.set(t.name, t)
    } else if (path === EXPERIMENTS_DIR && !isTreeMode(o.mode) && !isTreeMode(t.mode)) {
      a.set(t.name, await pickExperiment(objects, o, t, p, m))
    } else {
      m.conflicts.push({ path: p, kept: 'ours', reason: 'changed on both sides' })
    }
  }
  return objects.writeTree([...a.values()])
}

async function runOf(objects: ObjectStore, dir: TreeEntry): Promise<RunSummary | undefined> {
  const e = (await objects.readTree(dir.oid)).find((x) => x.name === RUN_FILE)
  if (!e) return undefined
  try {
    return decodeRun((await objects.readBlob(e.oid)).toString('utf8'))
  } catch {
    return undefined
  }
}

function points(r: RunSummary): number {
  let n = 0
  for (const s of Object.values(r.metrics)) n += s.count
  return n
}

async function pickRun(objects: ObjectStore, ours: TreeEntry, theirs: TreeEntry, path: string, m: TreeMerge): Promise<TreeEntry> {
  const a = await runOf(objects, ours), b = await runOf(objects, theirs)
  let keep: 'ours' | 'theirs' = 'ours'
  let reason = 'same run changed on both sides; kept ours'
  if (!a && b) [keep, reason] = ['theirs', 'ours has no readable run.yaml']
  else if (a && b) {
    const ended = (r: RunSummary) => (r.status === 'RUNNING' ? -1 : r.endTime ?? 0)
    if (ended(b) !== ended(a)) {
      keep = ended(b) > ended(a) ? 'theirs' : 'ours'
      reason = 'same run changed on both sides; kept the version that ended later'
    } else if (points(b) !== points(a)) {
      keep = points(b) > points(a) ? 'theirs' : 'ours'
      reason = 'same run changed on both sides; kept the version with more points'
    }
  }
  m.conflicts.push({ path, kept: keep, reason })
  return keep === 'ours' ? ours : theirs
}

async function pickExperiment(objects: ObjectStore, ours: TreeEntry, theirs: TreeEntry, path: string, m: TreeMerge): Promise<TreeEntry> {
  try {
    const a = decodeExperiment((await objects.readBlob(ours.oid)).toString('utf8'))
    const b = decodeExperiment((await objects.readBlob(theirs.oid)).toString('utf8'))
    const t = (e: typeof a) => e.updatedAt ?? e.createdAt
    const keep = t(b) > t(a) ? 'theirs' : 'ours'
    m.conflicts.push({ path, kept: keep, reason: 'experiment changed on both sides; kept the later edit' })
    return keep === 'ours' ? ours : theirs
  } catch {
    m.conflicts.push({ path, kept: 'ours', reason: 'experiment changed on both sides' })
    return ours
  }
}

/** Notes trees merge per commit by the notes' own rule (counts add up three-way against `base`, see src/track/notes.ts). */
export async function mergeNotesTrees(objects: ObjectStore, ours: string, theirs: string, base?: string | null): Promise<string> {
  if (ours === theirs) return ours
  const collect = async (tree: string) => {
    const out = new Map<string, { path: string; oid: string }>()
    const walk = async (oid: string, prefix: string) => {
      for (const e of await objects.readTree(oid)) {
        const p = prefix ? `${prefix}/${e.name}` : e.name
        if (isTreeMode(e.mode)) await walk(e.oid, p)
        else out.set(p.replace('/', ''), { path: p, oid: e.oid })
      }
    }
    await walk(tree, '')
    return out
  }
  const a = await collect(ours), b = await collect(theirs), o = base ? await collect(base) : new Map<string, { path: string; oid: string }>()
  const text = async (oid: string | undefined) => (oid ? (await objects.readBlob(oid)).toString('utf8') : undefined)
  for (const [commit, note] of b) {
    const mine = a.get(commit)
    const was = o.get(commit)?.oid
    if (!mine) a.set(commit, note)
    else if (mine.oid !== note.oid && note.oid !== was) {
      const merged = mergeNotes(await text(was), (await text(mine.oid))!, (await text(note.oid))!)
      a.set(commit, { path: mine.path, oid: objects.writeBlob(encodeNote(merged, commit)) })
    }
  }
  // Rebuild the tree from paths (fan-out directories included).
  const root = new Map<string, TreeEntry[]>()
  const top: TreeEntry[] = []
  for (const { path, oid } of a.values()) {
    const slash = path.indexOf('/')
    if (slash < 0) top.push({ mode: MODES.file, name: path, oid })
    else {
      const dir = path.slice(0, slash)
      if (!root.has(dir)) root.set(dir, [])
      root.get(dir)!.push({ mode: MODES.file, name: path.slice(slash + 1), oid })
    }
  }
  for (const [dir, entries] of root) top.push({ mode: MODES.tree, name: dir, oid: objects.writeTree(entries) })
  return objects.writeTree(top)
}
