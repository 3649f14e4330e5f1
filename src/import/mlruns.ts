/**
 * `labbook import mlruns`: an MLflow FileStore onto the branch through the core API. MLflow run ids are
 * kept, so importing again skips what is already there; experiments are matched by name.
 */
import { join } from 'node:path'
import { isLabbookError } from '../errors.js'
import type { Experiment } from '../model/experiment.js'
import type { SourceInfo } from '../model/run.js'
import type { Book, StartRunOptions } from '../model/book.js'
import { readMlruns, type MlrunsExperiment, type MlrunsProblem, type MlrunsRun } from './mlruns-reader.js'
import { keyed } from '../model/run.js'

export interface ImportMlrunsOptions {
  /** Import only the experiment with this name (or MLflow id). @default every experiment */
  experiment?: string
  /** Called after each run, for a progress bar. */
  onProgress?: (done: number, total: number, run: MlrunsRun) => void
}

export interface ImportMlrunsResult {
  experiments: number
  imported: number
  /** Runs already on the branch (same id): left as they are. */
  skipped: number
  failed: number
  metricPoints: number
  artifacts: number
  problems: MlrunsProblem[]
}

const SYSTEM = { name: 'mlflow.runName', user: 'mlflow.user', parent: 'mlflow.parentRunId', note: 'mlflow.note.content', commit: 'mlflow.source.git.commit' }

/** Parents before children, so a child's parent id always names a run that exists. */
function parentsFirst(runs: MlrunsRun[]): MlrunsRun[] {
  const ids = new Set(runs.map((r) => r.id))
  const done = new Set<string>()
  const out: MlrunsRun[] = []
  let pending = runs.slice().sort((a, b) => (a.startTime ?? 0) - (b.startTime ?? 0))
  while (pending.length) {
    const next: MlrunsRun[] = []
    for (const r of pending) {
      const p = r.tags[SYSTEM.parent]
      if (!p || !ids.has(p) || done.has(p)) {
        out.push(r)
        done.add(r.id)
      } else next.push(r)
    }
    if (next.length === pending.length) return out.concat(next) // a cycle: give up ordering
    pending = next
  }
  return out
}

async function importRun(book: Book, exp: MlrunsExperiment, r: MlrunsRun, res: ImportMlrunsResult): Promise<void> {
  const tags = keyed(r.tags)
  const source: SourceInfo = {}
  if (tags[SYSTEM.commit]) source.commit = tags[SYSTEM.commit]
  const o: StartRunOptions & { experiment: string } = { id: r.id, experiment: exp.name, tags, source }
  const name = r.name ?? tags[SYSTEM.name]
  if (name) o.name = name
  const user = r.user ?? tags[SYSTEM.user]
  if (user) o.user = user
  if (r.startTime !== undefined) o.startTime = r.startTime
  if (tags[SYSTEM.parent]) o.parent = tags[SYSTEM.parent]
  if (tags[SYSTEM.note] !== undefined) o.description = tags[SYSTEM.note]
  for (const k of [SYSTEM.name, SYSTEM.user, SYSTEM.parent, SYSTEM.note]) delete tags[k]
  const run = await book.startRun(o)
  for (const [k, v] of Object.entries(r.params)) run.logParam(k, v)
  for (const p of r.metrics) run.logMetric(p.key, p.value, { step: p.step, timestamp: p.timestamp })
  // one commit per top-level entry of the artifacts folder, not one per file
  const top = new Set(r.artifacts.map((a) => a.path.split('/')[0]!))
  for (const name of top) await run.logArtifact(join(r.artifactsDir ?? join(r.dir, 'artifacts'), name))
  if (r.status === 'RUNNING') await run.commit()
  else await run.end(r.status, r.endTime !== undefined ? { endTime: r.endTime } : {})
  if (r.lifecycle === 'deleted') await book.deleteRun(r.id)
  res.metricPoints += r.metrics.length
  res.artifacts += r.artifacts.length
}

async function exists(book: Book, id: string): Promise<boolean> {
  try {
    await book.getRun(id)
    return true
  } catch (e) {
    if (isLabbookError(e, 'RUN_NOT_FOUND')) return false
    throw e
  }
}

/**
 * Imports an mlruns folder; problems (unreadable files, runs the core refuses) are collected, not thrown.
 * @example const res = await importMlruns(await Labbook.open(), './mlruns'); console.log(res.imported, res.problems)
 */
export async function importMlruns(book: Book, root: string, o: ImportMlrunsOptions = {}): Promise<ImportMlrunsResult> {
  const store = await readMlruns(root)
  const res: ImportMlrunsResult = { experiments: 0, imported: 0, skipped: 0, failed: 0, metricPoints: 0, artifacts: 0, problems: [...store.problems] }
  const chosen = o.experiment === undefined ? store.experiments : store.experiments.filter((e) => e.name === o.experiment || e.id === o.experiment)
  const total = chosen.reduce((n, e) => n + e.runs.length, 0)
  let done = 0
  for (const exp of chosen) {
    let expId: string
    let existing: Experiment | undefined
    try {
      existing = (await book.listExperiments({ includeDeleted: true })).find((e) => e.name === exp.name)
      expId = existing ? existing.id : (await book.experiment(exp.name)).id
      for (const [k, v] of Object.entries(exp.tags)) if (existing?.tags[k] !== v) await book.setExperimentTag(expId, k, v)
      res.experiments++
    } catch (e) {
      res.problems.push({ path: exp.dir, experiment: exp.id, message: `experiment "${exp.name}" not imported: ${(e as Error).message}` })
      res.failed += exp.runs.length
      continue
    }
    for (const r of parentsFirst(exp.runs)) {
      try {
        if (await exists(book, r.id)) res.skipped++
        else {
          await importRun(book, exp, r, res)
          res.imported++
        }
      } catch (e) {
        res.failed++
        res.problems.push({ path: r.dir, run: r.id, experiment: exp.id, message: `run not imported: ${(e as Error).message}` })
      }
      o.onProgress?.(++done, total, r)
    }
    if (exp.lifecycle === 'deleted' && existing?.lifecycle !== 'deleted') {
      try {
        await book.deleteExperiment(expId)
      } catch (e) {
        res.problems.push({ path: exp.dir, experiment: exp.id, message: `could not mark experiment deleted: ${(e as Error).message}` })
      }
    }
  }
  return res
}
