import { decodeRun } from '../format/yaml.js'
import { decodeSummaries, encodeSummaryLine, encodeTombstone, summaryLineId } from '../format/summaries.js'
import { RECENT_FILE, RUN_FILE, RUNS_DIR, SUMMARIES_FILE } from '../model/layout.js'
import type { RunSummary } from '../model/run.js'
import { isTreeMode, type ObjectStore, type TreeEntry } from './objects.js'
import { lookup, type TreeChange } from './tree-edit.js'

/**
 * Run summaries on the branch (format 2). Each shard keeps `summaries.jsonl` (sealed, sorted by id) and
 * `recent.jsonl` (the last few writes, overriding sealed lines). A commit that writes a run rewrites its shard's
 * recent file (at most RECENT_MAX lines); when that fills up it is folded into the sealed file. So a run's write
 * costs a bounded rewrite (plus 1/RECENT_MAX of the shard's sealed file, amortised), and a reader lists every run of a
 * shard from two blobs.
 */
export const RECENT_MAX = 24

const RUN_YAML = new RegExp(`^${RUNS_DIR}/([0-9a-f]{2})/([^/]+)/${RUN_FILE.replace('.', '\\.')}$`)
const RUN_DIR = new RegExp(`^${RUNS_DIR}/([0-9a-f]{2})/([^/.]+)$`)

/** Summary files are the shard entries that are not run directories. */
export function isSummaryFile(name: string): boolean {
  return name === SUMMARIES_FILE || name === RECENT_FILE
}

/**
 * What a set of tree changes does to run summaries: run id → its new summary (from `hints` when the writer gave one,
 * else read back from the blob), or null when the run's directory was removed.
 */
export async function touchedRuns(objects: ObjectStore, changes: TreeChange[], hints?: Map<string, RunSummary>): Promise<Map<string, { shard: string; run: RunSummary | null }>> {
  const out = new Map<string, { shard: string; run: RunSummary | null }>()
  for (const c of changes) {
    let m = RUN_YAML.exec(c.path)
    if (m && 'blob' in c) {
      const hint = hints?.get(m[2]!)
      // A damaged run.yaml (written by hand or by another tool) gets no new line: readers and `labbook doctor`
      // report it with its path; it must not stop the commit that carries it.
      let run = hint
      if (!run) {
        try { run = decodeRun((await objects.readBlob(c.blob)).toString('utf8'), c.path) } catch { continue }
      }
      out.set(m[2]!, { shard: m[1]!, run })
      continue
    }
    if ((m = RUN_DIR.exec(c.path)) && 'remove' in c) out.set(m[2]!, { shard: m[1]!, run: null })
    else if (m && 'tree' in c) {
      const e = (await objects.readTree(c.tree)).find((x) => x.name === RUN_FILE)
      if (e) {
        try { out.set(m[2]!, { shard: m[1]!, run: decodeRun((await objects.readBlob(e.oid)).toString('utf8'), `${c.path}/${RUN_FILE}`) }) } catch { /* damaged: see above */ }
      }
    }
  }
  return out
}

/** The changes that bring the shards' summary files in step with `touched`, applied to `root`. */
export async function summaryChanges(objects: ObjectStore, root: string, touched: Map<string, { shard: string; run: RunSummary | null }>): Promise<TreeChange[]> {
  const byShard = new Map<string, Array<[string, RunSummary | null]>>()
  for (const [id, t] of touched) {
    let list = byShard.get(t.shard)
    if (!list) byShard.set(t.shard, (list = []))
    list.push([id, t.run])
  }
  const changes: TreeChange[] = []
  for (const [shard, runs] of byShard) {
    const dir = `${RUNS_DIR}/${shard}`
    const entries = await shardEntries(objects, root, dir)
    const recent = linesById(await readText(objects, entries.get(RECENT_FILE)))
    for (const [id, run] of runs) recent.set(id, run ? encodeSummaryLine(run) : encodeTombstone(id))
    if (recent.size <= RECENT_MAX) {
      changes.push({ path: `${dir}/${RECENT_FILE}`, blob: objects.writeBlob(joinSorted(recent)) })
      continue
    }
    // fold: recent lines override sealed ones, tombstones drop them
    const sealed = linesById(await readText(objects, entries.get(SUMMARIES_FILE)))
    for (const [id, line] of recent) {
      if (line.includes('"removed":true}') && line === encodeTombstone(id)) sealed.delete(id)
      else sealed.set(id, line)
    }
    changes.push({ path: `${dir}/${SUMMARIES_FILE}`, blob: objects.writeBlob(joinSorted(sealed)) })
    changes.push({ path: `${dir}/${RECENT_FILE}`, remove: true })
  }
  return changes
}

/**
 * Summary files for whole shards, regenerated from their run.yaml files: used to migrate a format-1 branch and after
 * a merge (only shards whose tree differs from `before` are rebuilt). A run folder identical to its folder in `before`
 * or in one of `sides` (the merged trees) keeps that tree's line, which the commit that wrote the folder wrote; the
 * others are decoded from their run.yaml.
 */
export async function rebuildSummaries(objects: ObjectStore, root: string, before?: string | null, sides: string[] = []): Promise<TreeChange[]> {
  const changes: TreeChange[] = []
  const runsNow = await lookup(objects, root, RUNS_DIR)
  if (!runsNow || !isTreeMode(runsNow.mode)) return changes
  const shardsOf = async (tree: string | null | undefined) => {
    const runs = tree ? await lookup(objects, tree, RUNS_DIR) : undefined
    return new Map(runs && isTreeMode(runs.mode) ? (await objects.readTree(runs.oid)).map((e) => [e.name, e.oid]) : [])
  }
  const beforeShards = await shardsOf(before)
  const sideShards = await Promise.all(sides.map(shardsOf))
  // A shard tree's folders, and its lines, each read once however many sides share it.
  const dirsCache = new Map<string, Promise<Map<string, string>>>(), linesCache = new Map<string, Promise<Map<string, string>>>()
  const once = <T>(cache: Map<string, Promise<T>>, oid: string, read: () => Promise<T>) => {
    let p = cache.get(oid)
    if (!p) cache.set(oid, (p = read()))
    return p
  }
  const dirsOf = (oid: string) => once(dirsCache, oid, async () => new Map((await objects.readTree(oid)).map((e) => [e.name, e.oid])))
  const linesOf = (oid: string) => once(linesCache, oid, () => shardLines(objects, oid))
  const rebuild = async (shard: TreeEntry): Promise<TreeChange[]> => {
    const old = beforeShards.get(shard.name)
    const sources = [...new Set([old, ...sideShards.map((m) => m.get(shard.name))].filter((x): x is string => !!x))]
    // All reads of a shard are issued together (cat-file requests of one tick share one pipe write): the folders of
    // every source, then the lines of the sources that hold one of the merged folders, then the run.yaml of the rest.
    const [entries, ...srcDirs] = await Promise.all([objects.readTree(shard.oid), ...sources.map(dirsOf)])
    const lines = new Map<string, string>()
    await Promise.all(entries.filter((e) => isTreeMode(e.mode)).map(async (e) => {
      for (const [i, src] of sources.entries()) {
        if (srcDirs[i]!.get(e.name) !== e.oid) continue
        const line = (await linesOf(src)).get(e.name)
        if (line && summaryLineId(line) === e.name && !line.endsWith('"removed":true}\n')) { lines.set(e.name, line); return }
      }
      const yaml = (await objects.readTree(e.oid)).find((x) => x.name === RUN_FILE)
      if (!yaml) return
      try {
        lines.set(e.name, encodeSummaryLine(decodeRun((await objects.readBlob(yaml.oid)).toString('utf8'), `${RUNS_DIR}/${shard.name}/${e.name}/${RUN_FILE}`)))
      } catch { /* a damaged run.yaml is listed by readers through their fallback, with its error */ }
    }))
    return [
      { path: `${RUNS_DIR}/${shard.name}/${SUMMARIES_FILE}`, blob: objects.writeBlob(joinSorted(lines)) },
      { path: `${RUNS_DIR}/${shard.name}/${RECENT_FILE}`, remove: true },
    ]
  }
  const todo = (await objects.readTree(runsNow.oid)).filter((shard) => isTreeMode(shard.mode) && beforeShards.get(shard.name) !== shard.oid)
  for (let i = 0; i < todo.length; i += 32) for (const c of await Promise.all(todo.slice(i, i + 32).map(rebuild))) changes.push(...c)
  return changes
}

/** Every line of a shard tree (sealed, then recent over it), by run id. */
async function shardLines(objects: ObjectStore, shardTree: string): Promise<Map<string, string>> {
  const entries = new Map((await objects.readTree(shardTree)).map((e) => [e.name, e]))
  const lines = linesById(await readText(objects, entries.get(SUMMARIES_FILE)))
  for (const [id, l] of linesById(await readText(objects, entries.get(RECENT_FILE)))) lines.set(id, l)
  return lines
}

/** The runs of one shard as its summary files tell them, plus the ids of run directories no line covers. */
export async function readShard(objects: ObjectStore, shardTree: string, cache: Map<string, Map<string, RunSummary | null>>): Promise<{ runs: RunSummary[]; uncovered: TreeEntry[] }> {
  const entries = await objects.readTree(shardTree)
  const byId = new Map<string, RunSummary | null>()
  for (const name of [SUMMARIES_FILE, RECENT_FILE]) {
    const e = entries.find((x) => x.name === name)
    if (!e) continue
    let parsed = cache.get(e.oid)
    if (!parsed) {
      parsed = decodeSummaries(await objects.readBlob(e.oid)).runs
      if (cache.size > 4096) cache.clear()
      cache.set(e.oid, parsed)
    }
    for (const [id, r] of parsed) byId.set(id, r)
  }
  const runs: RunSummary[] = []
  const uncovered: TreeEntry[] = []
  for (const e of entries) {
    if (!isTreeMode(e.mode)) continue
    const r = byId.get(e.name)
    if (r) runs.push(r)
    else uncovered.push(e)
  }
  return { runs, uncovered }
}

async function shardEntries(objects: ObjectStore, root: string, dir: string): Promise<Map<string, TreeEntry>> {
  const e = await lookup(objects, root, dir)
  return new Map(e && isTreeMode(e.mode) ? (await objects.readTree(e.oid)).map((x) => [x.name, x]) : [])
}

async function readText(objects: ObjectStore, e: TreeEntry | undefined): Promise<string> {
  return e && !isTreeMode(e.mode) ? (await objects.readBlob(e.oid)).toString('utf8') : ''
}

function linesById(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split('\n')) {
    const id = summaryLineId(line)
    if (id) out.set(id, line + '\n')
  }
  return out
}

function joinSorted(lines: Map<string, string>): string {
  return [...lines.keys()].sort().map((id) => lines.get(id)!).join('')
}
