/**
 * Runs in progress as their journals show them: what a live writer (any process on this machine, this one
 * included) has journaled but not committed yet. `Labbook`'s reads lay this over the branch, so `ls`, `show`,
 * the server and the live pages see a RUNNING run's points as soon as they are journaled (about once a second).
 */
import fs from 'node:fs'
import { join } from 'node:path'
import { mergeSummaries, summarize } from '../model/metric.js'
import { thisProcess } from '../store/process.js'
import { keyed, type MetricSummary, type RunSummary } from '../model/run.js'
import { journalOwner, journalPoints, journalRoot, ownerAlive, readJournal, readJournalAhead, type JournalContents, type JournalOwner } from './journal.js'

/** One run in progress: its journal, read at `generation`. */
export interface LiveJournal { runId: string; owner: JournalOwner; contents: JournalContents }

/** Tag set on summaries of runs in progress whose journal holds points or edits not yet on the branch, until their end is journaled (the pages label them live). */
export const LIVE_TAG = 'labbook.live'

/**
 * A string that changes whenever any journal of the branch changes (segment sizes and mtimes): the cache key of
 * the live view, beside the branch tip. Cheap: a readdir and a few stats.
 */
export function journalGeneration(gitdir: string, branch: string): string {
  let parts = ''
  for (const [id, g] of journalGenerations(gitdir, branch)) parts += `${id}/${g}`
  return parts
}

/** `journalGeneration` per run (run id → its journal's segment sizes and mtimes), in run id order: which runs moved. */
export function journalGenerations(gitdir: string, branch: string): Map<string, string> {
  const root = journalRoot(gitdir)
  const out = new Map<string, string>()
  for (const name of safeReaddir(root).sort()) {
    const dir = join(root, name)
    const owner = journalOwner(gitdir, name)
    if (!owner || owner.branch !== branch) continue
    let parts = ''
    for (const seg of safeReaddir(dir)) {
      try {
        const st = fs.statSync(join(dir, seg))
        parts += `${seg}:${st.size}:${st.mtimeMs};`
      } catch { /* rotated away */ }
    }
    out.set(name, parts)
  }
  return out
}

/** Bytes of a journal parsed per slice by readJournalsAhead: about 3,500 points, a few ms. */
const AHEAD_SLICE = 256 * 1024

/**
 * Parses what was appended to these runs' journals (`journalGenerations` keys) in slices, yielding to the event loop
 * between them, so the next read of them (a snapshot for a page) finds little left to parse: the live channel calls
 * this on its tick for the journals that moved, and log calls wait behind a slice, not behind a second of points.
 */
export async function readJournalsAhead(gitdir: string, names: Iterable<string>): Promise<void> {
  const root = journalRoot(gitdir)
  for (const name of names) {
    for (;;) {
      let done = true
      try { done = readJournalAhead(join(root, name), AHEAD_SLICE) } catch { /* committed and removed meanwhile */ }
      await new Promise((r) => setImmediate(r))
      if (done) break
    }
  }
}

/**
 * Whether a journal's writer lives, as seen at most ALIVE_MS ago: the live view lists journals on every read, and each
 * look costs two /proc reads (this process, the writer of every run `serve` logs for MLflow clients, needs none).
 */
const ALIVE_MS = 1000
const alive = new Map<string, { at: number; alive: boolean }>()
function writerAlive(owner: JournalOwner): boolean {
  const me = thisProcess()
  if (owner.pid === me.pid && owner.host === me.host && owner.started === me.started) return true
  const key = `${owner.host}:${owner.pid}:${owner.started}`
  const now = performance.now()
  const hit = alive.get(key)
  if (hit && now - hit.at < ALIVE_MS) return hit.alive
  if (alive.size > 1024) alive.clear()
  const v = ownerAlive(owner)
  alive.set(key, { at: now, alive: v })
  return v
}

/** Journals of runs on `branch` whose writer is alive. */
export function liveJournals(gitdir: string, branch: string): LiveJournal[] {
  const root = journalRoot(gitdir)
  const out: LiveJournal[] = []
  for (const name of safeReaddir(root)) {
    const dir = join(root, name)
    const owner = journalOwner(gitdir, name)
    if (!owner || owner.branch !== branch || !writerAlive(owner)) continue
    try {
      out.push({ runId: owner.runId, owner, contents: readJournal(dir) })
    } catch { /* removed while we read: the run is committed in full */ }
  }
  return out
}

/**
 * Where the points the branch does not have yet start in the journal's columns (the branch summary says how many it
 * has): 0 in the usual case, where the journal rotated after the last commit; past a few while a commit is in flight.
 */
export function uncommittedFrom(j: LiveJournal, onBranch: RunSummary | undefined): number {
  const committed = committedCount(onBranch)
  const p = j.contents.points
  let from = 0
  while (from < p.count && p.index[from]! < committed) from++
  return from
}

function committedCount(onBranch: RunSummary | undefined): number {
  let committed = 0
  for (const s of Object.values(onBranch?.metrics ?? {})) committed += s.count
  return committed
}

/** `summarize` of the uncommitted points, without a pass over them in the usual case (see readJournal). */
function uncommittedSummaries(j: LiveJournal, onBranch: RunSummary | undefined): Record<string, MetricSummary> {
  const from = uncommittedFrom(j, onBranch)
  return from === 0 ? j.contents.pointSummaries : summarize(journalPoints(j.contents.points, from))
}

/**
 * A run summary with its journal laid over: edits applied, new points summarised into `metrics`, status RUNNING
 * until an end is journaled, and the `labbook.live` tag until then. `onBranch` is undefined for a run not committed yet.
 */
export function overlaySummary(j: LiveJournal, onBranch: RunSummary | undefined): RunSummary | undefined {
  const base = onBranch ?? (j.contents.start && { ...j.contents.start, metrics: keyed<MetricSummary>() })
  if (!base) return undefined
  // prototype-free copies: a live param, tag or metric named "constructor" or "__proto__" is an ordinary key
  const run: RunSummary = { ...base, params: keyed(base.params), tags: keyed(base.tags), metrics: keyed(base.metrics) }
  for (const op of j.contents.ops) {
    if (op.op === 'param' && !Object.hasOwn(run.params, op.key)) run.params[op.key] = op.value
    else if (op.op === 'tag') run.tags[op.key] = op.value
    else if (op.op === 'untag') delete run.tags[op.key]
    else if (op.op === 'name') run.name = op.value
    else if (op.op === 'description') run.description = op.value === '' ? undefined : op.value
    else if (op.op === 'dataset') {
      // as Run.logInputs: the same name and digest is replaced (a run ended and not yet committed shows its datasets)
      const list = (run.datasets = [...(run.datasets ?? [])])
      const i = list.findIndex((d) => d.name === op.value.name && d.digest === op.value.digest)
      if (i >= 0) list[i] = op.value
      else list.push(op.value)
    }
  }
  const fresh = uncommittedSummaries(j, onBranch)
  for (const [k, s] of Object.entries(fresh)) run.metrics[k] = mergeSummaries(run.metrics[k], s)!
  // a finished run reopened to take late points keeps its status unless the writer resumed it
  const resumed = j.contents.ops.some((op) => op.op === 'resume')
  if (j.contents.ended) {
    run.status = j.contents.ended.status
    run.endTime = j.contents.ended.endTime
  } else if (resumed || (j.contents.start?.status ?? base.status) === 'RUNNING') {
    run.status = 'RUNNING'
    run.endTime = undefined
  }
  // the label says "points still coming": a run whose end is journaled drops it at once (its final commit follows)
  if (!j.contents.ended) run.tags[LIVE_TAG] = 'true'
  return run
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir)
  } catch {
    return []
  }
}
