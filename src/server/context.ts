import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { Experiment } from '../model/experiment.js'
import { journalRoot, ownerAlive, type JournalOwner } from '../track/journal.js'
import type { RunSummary, SourceInfo } from '../model/run.js'
import { fail, isLabbookError } from '../errors.js'
import type { Book, RunWriter } from './book.js'
import { notFound } from './errors.js'

/** A run the server logs to but does not own: `labbook run`'s run, which ends when the wrapped command exits. */
export interface HeldRun {
  /** The client asked to end the run (`mlflow.end_run()`); its owner decides when and how it ends. */
  onEnd(status: 'FINISHED' | 'FAILED' | 'KILLED', endTime: number): void
}

export interface ContextOptions {
  linkHead?: boolean
  /** Runs this server logs to without owning them (see HeldRun). */
  held?: ReadonlyMap<string, HeldRun>
  /** The code link of runs whose client sends no commit (labbook run: the wrapped command's). */
  defaultSource?: SourceInfo
  /** Runs created or opened here stay RUNNING when recovered after a crash. @default true (false under labbook run) */
  resumableRuns?: boolean
}

export type LogLevel = 'info' | 'warn' | 'error'
export type Logger = (level: LogLevel, message: string) => void

/**
 * What every handler works with: the served book and the writers of the runs this process logs to.
 * Runs created through the server keep their writer until they end; a run created elsewhere gets one
 * (`openRun`) the first time a client logs to it.
 */
export class ServerContext {
  private readonly writers = new Map<string, Promise<RunWriter>>()
  /** Runs deleted through this server: MLflow refuses writes to them, and so do we (checked per write, so O(1)). */
  private readonly deleted = new Set<string>()

  /** The experiment the client selected last (experiments/get-by-name or create): a held run follows it (see HeldRun). */
  lastExperiment?: string

  constructor(
    readonly book: Book,
    readonly log: Logger = () => {},
    readonly options: ContextOptions = {},
  ) {}

  /** Link runs whose client sent no `mlflow.source.git.commit` to the served repository's HEAD (`serve --link-head`). */
  get linkHead(): boolean {
    return this.options.linkHead ?? false
  }

  held(runId: string): HeldRun | undefined {
    return this.options.held?.get(runId)
  }

  /** Whether runs created through this server stay RUNNING when recovered after a crash (see ContextOptions). */
  get resumesRuns(): boolean {
    return this.options.resumableRuns ?? true
  }

  private markResumable(w: RunWriter): void {
    if (this.resumesRuns && !this.held(w.id)) w.keepRunningOnRecovery()
  }

  adopt(writer: RunWriter): void {
    this.markResumable(writer)
    this.writers.set(writer.id, Promise.resolve(writer))
  }

  /**
   * The writer for a run, opening it if needed (concurrent callers share one open); deleted runs take no writes,
   * except artifacts (`anyLifecycle`): MLflow's artifact store never looks at the run's state.
   */
  writer(runId: string, o: { anyLifecycle?: boolean } = {}): Promise<RunWriter> {
    if (this.deleted.has(runId) && !o.anyLifecycle) return Promise.reject(notActive(runId))
    let w = this.writers.get(runId)
    if (!w) {
      const other = this.otherWriter(runId)
      if (other) {
        return Promise.reject(fail('RUN_LOCKED', `Run ${runId} is being written by another process (pid ${other.pid} on ${other.host}); ` +
          'labbook takes one writer per run at a time, so this write was refused rather than risk losing points.', { hint: 'Log to it once that process has ended.', data: { id: runId, pid: other.pid, host: other.host } }))
      }
      w = this.book.openRun(runId).then((run) => {
        if (run.summary().lifecycle === 'deleted') this.deleted.add(runId)
        this.markResumable(run)
        return run
      }).catch((e: unknown) => {
        this.writers.delete(runId)
        throw isLabbookError(e, 'RUN_NOT_FOUND') || isLabbookError(e, 'INVALID_ID') ? notFound(`Run '${runId}' not found`) : e
      })
      this.writers.set(runId, w)
    }
    if (o.anyLifecycle) return w
    return w.then((run) => {
      if (this.deleted.has(runId)) throw notActive(runId)
      return run
    })
  }

  /** The live process (other than this one) holding the run's journal, if any: two writers of one run would clobber each other's chunks. */
  private otherWriter(runId: string): JournalOwner | undefined {
    let owner: JournalOwner
    try {
      owner = JSON.parse(readFileSync(join(journalRoot(this.book.gitdir), runId, 'owner.json'), 'utf8')) as JournalOwner
    } catch {
      return undefined
    }
    if (owner.pid === process.pid && owner.host === hostname()) return undefined
    return ownerAlive(owner) ? owner : undefined
  }

  markDeleted(runId: string, deleted: boolean): void {
    if (deleted) this.deleted.add(runId)
    else this.deleted.delete(runId)
  }

  /** The writer only if this process already holds one. */
  async openWriter(runId: string): Promise<RunWriter | undefined> {
    const w = this.writers.get(runId)
    if (!w) return undefined
    try {
      return await w
    } catch {
      return undefined
    }
  }

  forget(runId: string): void {
    this.writers.delete(runId)
  }

  openRunIds(): string[] {
    return [...this.writers.keys()]
  }

  /** A run's current state: the live summary for runs open here (uncommitted points included), else the branch. */
  async run(runId: string): Promise<RunSummary> {
    const w = await this.openWriter(runId)
    if (w) return w.summary()
    try {
      return await this.book.getRun(runId)
    } catch (e) {
      if (isLabbookError(e, 'RUN_NOT_FOUND') || isLabbookError(e, 'INVALID_ID')) throw notFound(`Run '${runId}' not found`)
      throw e
    }
  }

  async experiment(id: string): Promise<Experiment> {
    const all = await this.book.listExperiments({ includeDeleted: true })
    const e = all.find((x) => x.id === id)
    if (!e) throw notFound(`No Experiment with id=${id} exists`)
    return e
  }

  async experimentByName(name: string): Promise<Experiment | undefined> {
    const all = await this.book.listExperiments({ includeDeleted: true })
    return all.find((x) => x.name === name && x.lifecycle === 'active') ?? all.find((x) => x.name === name)
  }

  /** Commits every open writer (nothing is ended: a client may come back, and journals cover a crash). */
  async commitAll(): Promise<void> {
    // all at once, gathered into a few commits of the branch: one after another, the 39,302 runs a 30 s k6 load left
    // open took one commit each (each rewriting the runs' tree) and the server's close ran for over ten minutes
    await Promise.all([...this.writers.values()].map(async (w) => {
      let writer: RunWriter
      try {
        writer = await w
      } catch {
        return // a run that failed to open has nothing to commit
      }
      try {
        // a run the client may come back to (MLflow's file store keeps it RUNNING): on the branch in full, its journal
        // removed; a run held for `labbook run` is committed and left to its owner
        if (this.resumesRuns && !this.held(writer.id)) await writer.release()
        else await writer.commit({ gather: true })
      } catch (e) {
        this.log('error', `Could not commit run ${writer.id}: ${(e as Error).message}; its journal keeps the data for recovery.`)
      }
    }))
  }
}

function notActive(runId: string) {
  return fail('RUN_NOT_ACTIVE', `The run ${runId} must be in the 'active' state. Current state is deleted.`, { data: { id: runId } })
}
