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
 * a merge (only shards whose tree differs from `before` are rebuilt; lines of runs whose tree is unchanged are reused).
 */
export async function rebuildSummaries(objects: ObjectStore, root: string, before?: string | null): Promise<TreeChange[]> {
  const changes: TreeChange[] = []
  const runsNow = await lookup(objects, root, RUNS_DIR)
  if (!runsNow || !isTreeMode(runsNow.mode)) return changes
  const runsBefore = before ? await lookup(objects, before, RUNS_DIR) : undefined
  const beforeShards = new Map(runsBefore && isTreeMode(runsBefore.mode) ? (await objects.readTree(runsBefore.oid)).map((e) => [e.name, e.oid]) : [])
  for (const shard of await objects.readTree(runsNow.oid)) {
    if (!isTreeMode(shard.mode) || beforeShards.get(shard.name) === shard.oid) continue
    const old = beforeShards.get(shard.name)
    const oldDirs = new Map(old ? (await objects.readTree(old)).map((e) => [e.name, e.oid]) : [])
    const oldLines = old ? await shardLines(objects, old) : new Map<string, string>()
    const lines = new Map<string, string>()
    for (const e of await objects.readTree(shard.oid)) {
      if (!isTreeMode(e.mode)) continue
      const kept = oldDirs.get(e.name) === e.oid ? oldLines.get(e.name) : undefined
      if (kept && summaryLineId(kept) === e.name && !kept.endsWith('"removed":true}\n')) {
        lines.set(e.name, kept)
        continue
      }
      const yaml = (await objects.readTree(e.oid)).find((x) => x.name === RUN_FILE)
      if (!yaml) continue
      try {
        lines.set(e.name, encodeSummaryLine(decodeRun((await objects.readBlob(yaml.oid)).toString('utf8'), `${RUNS_DIR}/${shard.name}/${e.name}/${RUN_FILE}`)))
      } catch { /* a damaged run.yaml is listed by readers through their fallback, with its error */ }
    }
    changes.push({ path: `${RUNS_DIR}/${shard.name}/${SUMMARIES_FILE}`, blob: objects.writeBlob(joinSorted(lines)) })
    changes.push({ path: `${RUNS_DIR}/${shard.name}/${RECENT_FILE}`, remove: true })
  }
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
