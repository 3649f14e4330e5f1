/**
 * One run changed in two clones, merged field by field (docs/format.md, "Merging on pull"):
 * - points: the union by (key, step, timestamp); ours are kept as they are, theirs that ours lack go to a new chunk;
 *   the summary adds theirs' extra points to ours';
 * - tags: per key, three-way against the merge base; when both sides changed one key, the later side wins;
 * - lifecycle, name, description: the side that changed it since the base; both: the later side;
 * - status and end time: an ended run beats RUNNING; both ended: the later side;
 * - params: the union; a key both sides logged with different values is a real conflict (params never change): ours
 *   is kept, the conflict is reported in pull's output and as the run tag `labbook.param_conflicts`;
 * - artifacts (and any other file): the union by path, three-way; a file changed on both sides keeps the later side
 *   and is reported.
 * "Later side" is the side whose tip commit is newer (theirs on a tie), decided once per merge.
 */
import { decodeRun, encodeRun } from '../format/yaml.js'
import { decodeChunk, encodePoint } from '../format/jsonl.js'
import { mergeSummaries, summarize } from '../model/metric.js'
import { chunkName, METRICS_DIR, RUN_FILE } from '../model/layout.js'
import { keyed, type MetricPoint, type RunSummary } from '../model/run.js'
import { isTreeMode, MODES, type ObjectStore, type TreeEntry } from '../store/objects.js'
import { layoutChunks } from '../track/chunks.js'

export const PARAM_CONFLICTS_TAG = 'labbook.param_conflicts'

export interface RunMergeContext {
  conflicts: Array<{ path: string; kept: 'ours' | 'theirs'; reason: string }>
  /** Which side wrote last (by tip commit time). */
  later: 'ours' | 'theirs'
}

export async function mergeRun(objects: ObjectStore, ours: TreeEntry, theirs: TreeEntry, base: TreeEntry | undefined, path: string, ctx: RunMergeContext): Promise<TreeEntry | undefined> {
  const O = await entries(objects, ours.oid), T = await entries(objects, theirs.oid)
  const B = base && isTreeMode(base.mode) ? await entries(objects, base.oid) : new Map<string, TreeEntry>()
  const a = await readRun(objects, O.get(RUN_FILE)), b = await readRun(objects, T.get(RUN_FILE))
  if (!a || !b) return undefined // a side without a readable run.yaml: the caller keeps one side whole
  const baseRun = await readRun(objects, B.get(RUN_FILE))

  // points
  const { tree: metricsTree, extra } = await mergeMetrics(objects, O.get(METRICS_DIR), T.get(METRICS_DIR))
  const run = mergeFields(a, b, baseRun, ctx.later)
  const extraSummary = summarize(extra)
  for (const [k, s] of Object.entries(extraSummary)) run.metrics[k] = mergeSummaries(run.metrics[k], s)!
  // params: a real conflict is kept as ours and reported
  const conflicts: string[] = []
  for (const [k, v] of Object.entries(b.params)) {
    if (!Object.hasOwn(a.params, k)) run.params[k] = v
    else if (a.params[k] !== v) conflicts.push(`${k}: ${String(a.params[k])} -> ${String(v)}`)
  }
  if (conflicts.length > 0) {
    const previous = run.tags[PARAM_CONFLICTS_TAG]
    run.tags[PARAM_CONFLICTS_TAG] = [previous, ...conflicts].filter(Boolean).join('; ').slice(0, 8000)
    for (const c of conflicts) ctx.conflicts.push({ path: `${path}/${RUN_FILE}`, kept: 'ours', reason: `param changed on both sides (${c}); params never change, ours kept, tag ${PARAM_CONFLICTS_TAG}` })
  }

  // everything else (artifacts, other files): the union by path, three-way
  const out = new Map(O)
  out.set(RUN_FILE, { mode: MODES.file, name: RUN_FILE, oid: objects.writeBlob(encodeRun(run)) })
  if (metricsTree) out.set(METRICS_DIR, { mode: MODES.tree, name: METRICS_DIR, oid: metricsTree })
  for (const [name, t] of T) {
    if (name === RUN_FILE || name === METRICS_DIR) continue
    const merged = await mergeFiles(objects, O.get(name), t, B.get(name), `${path}/${name}`, ctx)
    if (merged) out.set(name, merged)
  }
  dropDeletedByTheirs(out, O, T, B)
  return { ...ours, oid: objects.writeTree([...out.values()]) }
}

/** The run.yaml fields other than params and metrics summaries' additions. */
function mergeFields(a: RunSummary, b: RunSummary, base: RunSummary | undefined, later: 'ours' | 'theirs'): RunSummary {
  const pick = <T>(o: T, t: T, was: T | undefined): T => {
    if (same(o, t)) return o
    // without a common version, a field set on one side only was simply never set on the other
    if (base === undefined && o === undefined) return t
    if (base === undefined && t === undefined) return o
    if (base !== undefined && same(t, was)) return o
    if (base !== undefined && same(o, was)) return t
    return later === 'ours' ? o : t
  }
  const run: RunSummary = { ...a, params: keyed(a.params), tags: keyed(), metrics: keyed(a.metrics) }
  const keys = new Set([...Object.keys(a.tags), ...Object.keys(b.tags), ...Object.keys(base?.tags ?? {})])
  for (const k of keys) {
    const v = pick(a.tags[k], b.tags[k], base?.tags[k])
    if (v !== undefined) run.tags[k] = v
  }
  run.lifecycle = pick(a.lifecycle, b.lifecycle, base?.lifecycle)
  run.name = pick(a.name, b.name, base?.name)
  const description = pick(a.description, b.description, base?.description)
  if (description === undefined) delete run.description
  else run.description = description
  // status: an ended run beats RUNNING; two ends: the later side's
  if (a.status === 'RUNNING' && b.status !== 'RUNNING') { run.status = b.status; run.endTime = b.endTime }
  else if (a.status !== 'RUNNING' && b.status !== 'RUNNING' && (a.status !== b.status || a.endTime !== b.endTime)) {
    const s = pick({ status: a.status, endTime: a.endTime }, { status: b.status, endTime: b.endTime }, base && { status: base.status, endTime: base.endTime })
    run.status = s.status
    if (s.endTime === undefined) delete run.endTime
    else run.endTime = s.endTime
  }
  run.startTime = Math.min(a.startTime, b.startTime)
  return run
}

function same(x: unknown, y: unknown): boolean {
  return JSON.stringify(x) === JSON.stringify(y)
}

/** Ours' chunks unchanged, plus one or more new chunks with theirs' points that ours lacks. */
async function mergeMetrics(objects: ObjectStore, ours: TreeEntry | undefined, theirs: TreeEntry | undefined): Promise<{ tree?: string; extra: MetricPoint[] }> {
  if (!theirs || !isTreeMode(theirs.mode)) return { tree: ours?.oid, extra: [] }
  if (ours && ours.oid === theirs.oid) return { tree: ours.oid, extra: [] }
  const O = ours && isTreeMode(ours.mode) ? await entries(objects, ours.oid) : new Map<string, TreeEntry>()
  const T = await entries(objects, theirs.oid)
  const id = (p: MetricPoint) => `${p.key}\u0000${p.step}\u0000${p.timestamp}`
  const seen = new Set<string>()
  let maxSeq = -1
  for (const [name, e] of O) {
    maxSeq = Math.max(maxSeq, parseInt(name, 10) || 0)
    for (const p of decodeChunk((await objects.readBlob(e.oid)).toString('utf8'), name)) seen.add(id(p))
  }
  const extra: MetricPoint[] = []
  for (const [name, e] of T) {
    maxSeq = Math.max(maxSeq, parseInt(name, 10) || 0)
    if (O.get(name)?.oid === e.oid) continue
    for (const p of decodeChunk((await objects.readBlob(e.oid)).toString('utf8'), name)) {
      const k = id(p)
      if (seen.has(k)) continue
      seen.add(k)
      extra.push(p)
    }
  }
  if (extra.length === 0) return { tree: ours?.oid, extra }
  const text = extra.map((p) => encodePoint(p.key, p.value, p.step, p.timestamp)).join('')
  const out = new Map(O)
  for (const c of layoutChunks(undefined, maxSeq + 1, text).chunks) {
    const name = chunkName(c.seq)
    out.set(name, { mode: MODES.file, name, oid: objects.writeBlob(c.text) })
  }
  return { tree: objects.writeTree([...out.values()]), extra }
}

/** A file or folder present on their side, against ours and the base: the union by path, three-way per file. */
async function mergeFiles(objects: ObjectStore, o: TreeEntry | undefined, t: TreeEntry, b: TreeEntry | undefined, path: string, ctx: RunMergeContext): Promise<TreeEntry | undefined> {
  if (!o) return b && b.oid === t.oid ? undefined : t // ours deleted what theirs kept unchanged: stays deleted
  if (o.oid === t.oid) return o
  if (b && b.oid === t.oid) return o
  if (b && b.oid === o.oid) return t
  if (isTreeMode(o.mode) && isTreeMode(t.mode)) {
    const O = await entries(objects, o.oid), T = await entries(objects, t.oid)
    const B = b && isTreeMode(b.mode) ? await entries(objects, b.oid) : new Map<string, TreeEntry>()
    const out = new Map(O)
    for (const [name, te] of T) {
      const m = await mergeFiles(objects, O.get(name), te, B.get(name), `${path}/${name}`, ctx)
      if (m) out.set(name, m)
      else out.delete(name)
    }
    dropDeletedByTheirs(out, O, T, B)
    return { ...o, oid: objects.writeTree([...out.values()]) }
  }
  ctx.conflicts.push({ path, kept: ctx.later, reason: 'file changed on both sides; kept the later side' })
  return ctx.later === 'ours' ? o : t
}

/** What theirs deleted and ours left as the base had it goes. */
function dropDeletedByTheirs(out: Map<string, TreeEntry>, O: Map<string, TreeEntry>, T: Map<string, TreeEntry>, B: Map<string, TreeEntry>): void {
  for (const [name, e] of O) if (!T.has(name) && B.get(name)?.oid === e.oid && name !== RUN_FILE) out.delete(name)
}

async function entries(objects: ObjectStore, tree: string): Promise<Map<string, TreeEntry>> {
  return new Map((await objects.readTree(tree)).map((e) => [e.name, e]))
}

async function readRun(objects: ObjectStore, e: TreeEntry | undefined): Promise<RunSummary | undefined> {
  if (!e || isTreeMode(e.mode)) return undefined
  try {
    return decodeRun((await objects.readBlob(e.oid)).toString('utf8'))
  } catch {
    return undefined
  }
}
