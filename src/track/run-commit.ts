/**
 * The write back-and-forth of one run's commit: what the writer has, laid over what the branch tip has (others may
 * have renamed it, tagged it or logged to it since), and the tree changes, subject and trailers of the commit.
 * Pure: the Run calls these inside `BranchStore.update`.
 */
import { LabbookError } from '../errors.js'
import { ARTIFACTS_DIR, chunkName, METRICS_DIR, RUN_FILE, runDir } from '../model/layout.js'
import { keyed, type RunSummary } from '../model/run.js'
import type { EditBuilder } from '../store/branch-store.js'
import type { ObjectStore } from '../store/objects.js'
import type { TreeChange } from '../store/tree-edit.js'
import { decodeRun, encodeRun } from '../format/yaml.js'
import type { StagedFile } from './artifacts.js'

/** The fields others may edit (rm, rename, describe), as this writer last committed them. */
export type WrittenFields = Pick<RunSummary, 'lifecycle' | 'name' | 'description'>

/** Our state over the tip's: fields edited elsewhere since we last wrote them keep the other edit. */
export function mergeWithTip(tip: RunSummary | undefined, mine: RunSummary, ownTags: ReadonlySet<string>, lastWritten: WrittenFields): RunSummary {
  if (!tip) return mine
  const out = { ...mine, params: keyed({ ...tip.params, ...mine.params }), tags: keyed(tip.tags) }
  for (const k of ownTags) {
    if (Object.hasOwn(mine.tags, k)) out.tags[k] = mine.tags[k]!
    else delete out.tags[k]
  }
  if (tip.lifecycle !== lastWritten.lifecycle) out.lifecycle = tip.lifecycle
  if (tip.name !== lastWritten.name && mine.name === lastWritten.name) out.name = tip.name
  if (tip.description !== lastWritten.description && mine.description === lastWritten.description) out.description = tip.description
  // Points committed to this run by another writer (a log to a finished run) are kept in the summary.
  for (const [k, s] of Object.entries(tip.metrics)) if (!Object.hasOwn(out.metrics, k)) out.metrics[k] = s
  const theirs = (tip.datasets ?? []).filter((d) => !mine.datasets?.some((m) => m.name === d.name && m.digest === d.digest))
  if (theirs.length) out.datasets = [...(mine.datasets ?? []), ...theirs]
  return out
}

/** What one commit of a run writes. */
export interface RunCommitInput {
  objects: ObjectStore
  run: RunSummary
  chunks: Array<{ seq: number; text: string }>
  staged: StagedFile[]
  removed: string[]
  /** Points this commit adds, and whether it is the run's first commit (for the subject). */
  points: number
  first: boolean
}

/** The tree changes, subject and trailers of one run commit (`start run x`, `update run x (+N points)`, `finished run x`). */
export function runCommit(i: RunCommitInput): { changes: TreeChange[]; subject: string; trailers: Array<[string, string]> } {
  const dir = runDir(i.run.id)
  const changes: TreeChange[] = []
  for (const c of i.chunks) changes.push({ path: `${dir}/${METRICS_DIR}/${chunkName(c.seq)}`, blob: i.objects.writeBlob(c.text) })
  for (const f of i.staged) changes.push({ path: `${dir}/${ARTIFACTS_DIR}/${f.path}`, blob: f.blob, mode: f.mode })
  for (const p of i.removed) changes.push({ path: `${dir}/${ARTIFACTS_DIR}/${p}`, remove: true })
  changes.push({ path: `${dir}/${RUN_FILE}`, blob: i.objects.writeBlob(encodeRun(i.run)) })
  const what = i.run.status === 'RUNNING' ? (i.first ? 'start' : 'update') : i.run.status.toLowerCase()
  return {
    changes,
    subject: `${what} run ${i.run.name || i.run.id}${i.points ? ` (+${i.points} points)` : ''}`,
    trailers: [['Labbook-Run', i.run.id], ...(i.run.source.commit ? [['Code-Commit', i.run.source.commit] as [string, string]] : [])],
  }
}

/**
 * Everything one commit of a run needs from its writer, as plain data: what the writer has (`mine`, its new chunks,
 * staged artifacts) and what it last committed. Plain so that it can be posted to the commit thread
 * (commit-thread.ts), which runs the same `runEdit` on its own store.
 */
export interface RunEditInput {
  id: string
  mine: RunSummary
  chunks: Array<{ seq: number; text: string }>
  staged: StagedFile[]
  removed: string[]
  points: number
  /** Tags this writer set (they win over the tip's). */
  ownTags: string[]
  lastWritten: WrittenFields
  /** The run's first commit: a run id already on the branch is refused (RUN_EXISTS). */
  creating: boolean
  /** Points this writer committed before (0: a start may be the `start run` commit). */
  committedPoints: number
}

/** The branch edit of one run commit: the tip's run.yaml read, merged with the writer's, and the run's tree changes. */
export function runEdit(objects: ObjectStore, i: RunEditInput): EditBuilder<RunSummary> {
  const dir = runDir(i.id)
  return async (view) => {
    const tipText = await view.readText(`${dir}/${RUN_FILE}`)
    if (tipText && i.creating) {
      throw new LabbookError('RUN_EXISTS', `A run with id ${i.id} already exists on the branch.`, 'Leave the id out to get a new one, or open the run with book.openRun(id).', { id: i.id })
    }
    const merged = mergeWithTip(tipText ? decodeRun(tipText, `${dir}/${RUN_FILE}`) : undefined, i.mine, new Set(i.ownTags), i.lastWritten)
    const first = i.committedPoints === 0 && i.points === 0 && !tipText
    const commit = runCommit({ objects, run: merged, chunks: i.chunks, staged: i.staged, removed: i.removed, points: i.points, first })
    return { ...commit, runs: [merged], result: merged }
  }
}

/**
 * After a commit: the writer's state takes the branch's value (`written`) only where nothing was set here while the
 * commit was in flight (its snapshot is `mine`): a name or description set meanwhile is newer and goes out with the
 * next commit. Tags and params edited elsewhere are taken unless this writer set them.
 */
export function adoptWritten(state: RunSummary, mine: RunSummary, written: RunSummary, ownTags: ReadonlySet<string>): void {
  if (state.lifecycle === mine.lifecycle) state.lifecycle = written.lifecycle
  if (state.name === mine.name) state.name = written.name
  if (state.description === mine.description) state.description = written.description
  for (const [k, v] of Object.entries(written.tags)) if (!ownTags.has(k)) state.tags[k] = v
  for (const [k, v] of Object.entries(written.params)) if (!(k in state.params)) state.params[k] = v
}
