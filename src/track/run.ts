import { LabbookError } from '../errors.js'
import { encodeRun, encodeRunLine } from '../format/yaml.js'
import { sameParam } from '../model/param.js'
import { RUN_STATUSES, type DatasetInput, type ParamValue, type RunStatus, type RunSummary, keyed } from '../model/run.js'
import {
  normalizeDatasetInputs, validateDescription, validateKey, validateMetricValue, validateParamValue, validateRunName, validateStep, validateTagValue,
  validateTimestamp,
} from '../model/validate.js'
import { stageBytes, stageLocal } from './artifacts.js'
import { artifactPath } from '../model/path.js'
import type { RunHost } from './run-host.js'
import { encodeOp, type JournalOp } from '../format/journal.js'
import { PointBuffer } from './point-buffer.js'
import { adoptWritten } from './run-commit.js'
import { RunCommitter } from './run-committer.js'
import { RunJournal } from './run-journal.js'

export interface RunWriterOptions {
  /** Attaching to a run already on the branch. */
  existing?: { committedPoints: number; nextChunk: number }
  /** Keep a journal (off only for recovery, whose data is still in the dead writer's journal). @default true */
  journal?: boolean
  /** Recovery leaves the run RUNNING (as keepRunningOnRecovery(), recorded when the journal is made). */
  resumable?: boolean
}

export interface EndRunOptions {
  /** ms since the epoch. @default Date.now() */
  endTime?: number
  /** @internal recovery: remove the dead writer's journal once the branch has everything. */
  removeJournal?: boolean
}

export interface MetricOptions {
  step?: number
  /** ms since the epoch. @default Date.now() */
  timestamp?: number
}

/**
 * A run being written. Logging calls are synchronous and cheap: they update the in-memory summary and append to a
 * text buffer (point-buffer.ts). About once a second the buffer goes to the fsynced journal (run-journal.ts); every
 * commitInterval and at the end the run's new points become one bounded chunk and its run.yaml is rewritten on the
 * branch (run-committer.ts). This module holds the logging API and the run's lifecycle (start, end, resume).
 */
export class Run {
  readonly id: string
  private experimentIdValue: string
  private state: RunSummary
  /** Points and operations logged and not yet journaled or committed (point-buffer.ts). */
  private readonly buffer: PointBuffer
  /** The run's journal writes and their clock (run-journal.ts). */
  private readonly journal: RunJournal
  private readonly resumable: boolean
  /** The run's commits, chunk positions and staged artifacts (run-committer.ts). */
  private readonly branch: RunCommitter
  private ended = false
  /** A commit whose snapshot was taken after end() reached the branch: the end is there, the journal may go. */
  private endOnBranch = false
  /** The run as its last commit wrote it (JSON of the snapshot): a commit with nothing new is skipped. */
  private committedShape: string | undefined
  /** committed() ran for the end (drops the journal and counts the note once). */
  private endCommitted = false
  /** Tags this writer set or deleted (others' tag edits on the branch are kept). */
  private readonly ownTags = new Set<string>()
  /** The status a run already on the branch had when this writer attached (its git note counts it once). */
  private previousStatus: RunStatus | undefined

  /** Not called directly: runs come from `Labbook.startRun`, `ExperimentHandle.startRun` and `Labbook.openRun`. */
  constructor(private readonly host: RunHost, initial: RunSummary, options: RunWriterOptions = {}) {
    const existing = options.existing
    this.previousStatus = existing ? initial.status : undefined
    this.id = initial.id
    this.experimentIdValue = initial.experiment
    this.state = initial
    this.journal = new RunJournal(host.gitdir, this.id, options.journal ?? true)
    // the points kept as numbers too only while this process's live view reads the run's journal (labbook serve)
    this.buffer = new PointBuffer(initial.metrics, () => this.journal.readHere())
    this.branch = new RunCommitter(host, this.id, initial, existing)
    this.resumable = options.resumable ?? false
  }

  /** @internal */
  openJournal(): void {
    if (!this.journal.enabled) return
    const start = encodeOp({ op: 'start', run: encodeRunLine(this.state) ?? encodeRun(this.state) })
    this.journal.begin({ runId: this.id, experiment: this.experimentId, branch: this.host.branch, ...(this.resumable ? { resumable: true } : {}) }, this.branch.committedPoints, start)
  }

  get name(): string {
    return this.state.name
  }

  get status(): RunStatus {
    return this.state.status
  }

  logParam(key: string, value: ParamValue): void {
    this.assertOpen()
    validateKey(key, 'param')
    validateParamValue(key, value)
    const old = this.state.params[key]
    if (old !== undefined) {
      if (sameParam(old, value)) return
      throw new LabbookError('PARAM_CHANGED', `Param ${key} is already ${JSON.stringify(old)}; it cannot change to ${JSON.stringify(value)}.`,
        'Params are immutable, as in MLflow: start a new run, or log the new value as a tag or metric.', { key, old, value })
    }
    this.state.params[key] = value
    this.buffer.pendingOps += encodeOp({ op: 'param', key, value })
  }

  logParams(params: Record<string, ParamValue>): void {
    // Validate all first so a bad entry leaves nothing half-logged.
    for (const [k, v] of Object.entries(params)) {
      validateKey(k, 'param')
      validateParamValue(k, v)
      const old = this.state.params[k]
      if (old !== undefined && !sameParam(old, v)) this.logParam(k, v)
    }
    for (const [k, v] of Object.entries(params)) this.logParam(k, v)
  }

  /** Appends a point; the step defaults to the key's last step + 1 (0 for the first point). */
  logMetric(key: string, value: number, options?: MetricOptions | number): void {
    let st = this.buffer.keys.get(key)
    if (st === undefined) {
      this.assertOpen()
      validateKey(key, 'metric')
      st = this.buffer.addKey(key)
    }
    if (typeof value !== 'number') validateMetricValue(key, value)
    if (this.ended) this.assertOpen()
    let step: number, timestamp: number
    if (options === undefined) {
      step = st.nextStep
      timestamp = Date.now()
    } else if (typeof options === 'number') {
      validateStep(key, options)
      step = options
      timestamp = Date.now()
    } else {
      if (options.step === undefined) step = st.nextStep
      else {
        validateStep(key, options.step)
        step = options.step
      }
      if (options.timestamp === undefined) timestamp = Date.now()
      else {
        validateTimestamp(key, options.timestamp)
        timestamp = options.timestamp
      }
    }
    if (this.buffer.add(st, value, step, timestamp)) this.maybeFlush()
  }

  /** Logs several metrics at one step (default: each key's next step) and one timestamp. */
  logMetrics(metrics: Record<string, number>, options: MetricOptions = {}): void {
    const entries = Object.entries(metrics)
    for (const [k, v] of entries) {
      validateKey(k, 'metric')
      validateMetricValue(k, v)
    }
    if (options.step !== undefined) validateStep('step', options.step)
    const timestamp = options.timestamp ?? Date.now()
    for (const [k, v] of entries) this.logMetric(k, v, { step: options.step, timestamp })
  }

  setTag(key: string, value: string): void {
    this.assertOpen()
    validateKey(key, 'tag')
    const v = validateTagValue(key, value)
    this.state.tags[key] = v
    this.ownTags.add(key)
    this.buffer.pendingOps += encodeOp({ op: 'tag', key, value: v })
  }

  setTags(tags: Record<string, string>): void {
    for (const [k, v] of Object.entries(tags)) {
      validateKey(k, 'tag')
      validateTagValue(k, v)
    }
    for (const [k, v] of Object.entries(tags)) this.setTag(k, v)
  }

  deleteTag(key: string): void {
    this.assertOpen()
    if (!(key in this.state.tags)) {
      throw new LabbookError('INVALID_ARGUMENT', `Run ${this.id} has no tag ${JSON.stringify(key)}.`, undefined, { key })
    }
    delete this.state.tags[key]
    this.ownTags.add(key)
    this.buffer.pendingOps += encodeOp({ op: 'untag', key })
  }

  setName(name: string): void {
    validateRunName(name)
    this.state.name = name
    this.buffer.pendingOps += encodeOp({ op: 'name', value: name })
  }

  setDescription(text: string): void {
    validateDescription(text)
    this.state.description = text === '' ? undefined : text
    this.buffer.pendingOps += encodeOp({ op: 'description', value: text })
  }

  /**
   * Records datasets the run used (MLflow's `log_input`); a dataset already recorded (same name and digest) is
   * replaced, so its context can change. Journaled like tags.
   * @example run.logInputs([{ name: 'iris', digest: 'a1b2c3', sourceType: 'local', source: 'data/iris.csv', context: 'training' }])
   */
  logInputs(datasets: DatasetInput[]): void {
    this.assertOpen()
    for (const x of normalizeDatasetInputs(datasets)) {
      const list = (this.state.datasets ??= [])
      const i = list.findIndex((o) => o.name === x.name && o.digest === x.digest)
      if (i >= 0) list[i] = x
      else list.push(x)
      this.buffer.pendingOps += encodeOp({ op: 'dataset', value: x })
    }
  }

  get experimentId(): string {
    return this.experimentIdValue
  }

  /**
   * Moves the run to another experiment (an MLflow script under `labbook run` that selects its experiment with
   * `mlflow.set_experiment`). Written with the next commit; not journaled, so a crash before it keeps the first one.
   */
  moveToExperiment(experimentId: string): void {
    this.assertOpen()
    this.experimentIdValue = experimentId
    this.state.experiment = experimentId
  }

  /**
   * Records what the code ran on as `source.runtime` (a wrapper records its command's interpreter, not labbook's
   * Node). Written with the next commit; not journaled, so a crash before it keeps the runtime detected at start.
   */
  setRuntime(text: string): void {
    if (typeof text !== 'string' || text === '') return
    this.state.source = { ...this.state.source, runtime: text.length > 500 ? text.slice(0, 500) : text }
  }

  /** Copies a file or directory into the run's artifacts (under `to`) and commits it. */
  async logArtifact(localPath: string, options: { to?: string } = {}): Promise<void> {
    this.assertOpen()
    this.branch.stage(...stageLocal(this.host.objects, this.host.gitdir, localPath, options.to, this.host.artifactThreshold))
    await this.commit()
  }

  /** Writes bytes as the artifact at `path` (relative to artifacts/) and commits it. */
  async logBytes(path: string, data: Uint8Array | string): Promise<void> {
    this.assertOpen()
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    this.branch.stage(stageBytes(this.host.objects, this.host.gitdir, path, bytes, this.host.artifactThreshold))
    await this.commit()
  }

  logText(text: string, path: string): Promise<void> {
    return this.logBytes(path, text)
  }

  logJson(value: unknown, path: string): Promise<void> {
    return this.logBytes(path, JSON.stringify(value, null, 2) + '\n')
  }

  /** Stages a blob already in the object database (written by another process) as an artifact. */
  async addArtifactBlob(path: string, blob: string, size: number): Promise<void> {
    this.branch.stage({ path: artifactPath(path), blob, mode: '100644', size })
    await this.commit()
  }

  async deleteArtifact(path: string): Promise<void> {
    this.branch.unstage(artifactPath(path))
    await this.commit()
  }

  /** Marks a finished run RUNNING again (MLflow's `start_run(run_id=…)` on an ended run); `end()` finishes it anew. */
  resume(): void {
    this.assertOpen()
    if (this.state.status === 'RUNNING') return
    this.state.status = 'RUNNING'
    delete this.state.endTime
    this.buffer.pendingOps += encodeOp({ op: 'resume' })
  }

  /** The run as it stands in memory, uncommitted points included. */
  summary(): RunSummary {
    const metrics = this.buffer.summaries()
    return { ...this.state, source: { ...this.state.source }, params: keyed(this.state.params), tags: keyed(this.state.tags), metrics }
  }

  /**
   * @internal `labbook run`: `mark` is called at each journal write and its op written after the points, so a
   * recovery knows exactly which part of the `$LABBOOK_METRICS` file the journal already holds.
   */
  setJournalMark(mark: () => JournalOp | undefined): void {
    this.journal.setMark(mark)
  }

  /**
   * Writes buffered points and operations to the journal (fsync). Cheap to call; done about once a second anyway.
   * While a commit of this run is in flight (its journal rotating, a few ms), the text waits in memory and is written
   * and fsynced when the commit lands: `await run.durable()` resolves once it is on disk.
   */
  flush(sync = true): void {
    const b = this.buffer
    if (b.pendingOps === '' && b.pending === '') return
    this.journal.write(b.pendingOps, b.pending, b.pendingColumns(), sync)
    b.journaled()
  }

  /**
   * Journals everything logged so far and resolves once it is on disk. Concurrent callers share one fdatasync. A
   * server answers a write only after this: a killed process (or machine) then loses nothing it acknowledged.
   */
  durable(): Promise<void> {
    this.flush(false)
    return this.journal.durable()
  }

  private maybeFlush(): void {
    if (this.journal.due(this.buffer.pendingPoints)) this.flush()
  }

  /** Commits everything logged so far to the branch. `gather`: join other runs' edits in one commit (group-commit.ts). */
  commit(o: { gather?: boolean } = {}): Promise<void> {
    return this.branch.queue(() => this.commitNow(o))
  }

  private async commitNow(o: { gather?: boolean }): Promise<void> {
    // Journaled without fsync: the commit that follows puts these points on the branch; a crash before it still
    // finds them in the journal (the page cache survives a killed process).
    this.flush(false)
    // Nothing since the last commit: nothing to write. The interval commit of a server holding 33,000 runs its
    // clients left open rewrote every one of them every 30 s.
    const shape = this.shapeIfSettled()
    if (shape !== undefined && shape === this.committedShape) return
    this.journal.snapshotTaken()
    const taken = this.buffer.takeUncommitted()
    const mine = this.summary()
    const mineShape = shape ?? JSON.stringify(mine) // taking the journaled points changes no field of the summary
    // end() may run while this commit is in flight: its snapshot (taken here) then still says RUNNING
    const carriesEnd = this.ended
    let written: RunSummary | undefined
    try {
      written = await this.branch.write(mine, taken.text, taken.points, this.ownTags, o)
    } catch (e) {
      // Nothing reached the branch: put the points back so the next commit (or recovery from the journal) has them.
      this.buffer.putBack(taken)
      throw e
    }
    if (carriesEnd) this.endOnBranch = true
    if (written) adoptWritten(this.state, mine, written, this.ownTags)
    this.committedShape = mineShape
    if (!this.ended) await this.journal.rotate(this.branch.committedPoints) // off the event loop (journal.ts)
  }

  /**
   * Ends the run with its status and end time. With group commit (the default) it returns once the end is fdatasynced
   * in the run's journal, and the final commit follows within the book's commit delay (`book.flush()` waits for it);
   * without, it returns after that commit. The journal is removed once the branch has everything.
   */
  async end(status: RunStatus = 'FINISHED', options: EndRunOptions = {}): Promise<void> {
    if (this.ended) return
    if (!RUN_STATUSES.includes(status) || status === 'RUNNING') {
      throw new LabbookError('INVALID_STATUS', `Cannot end a run with status ${JSON.stringify(status)}.`, 'Use FINISHED, FAILED or KILLED.')
    }
    this.state.status = status
    const endTime = options.endTime ?? Date.now()
    this.state.endTime = endTime
    this.buffer.pendingOps += encodeOp({ op: 'end', status, endTime })
    this.ended = true
    const deferred = this.journal.enabled && this.host.defersCommits && this.host.deferCommit
    try {
      // Group commit: acknowledged once the journal holds the end on disk (fdatasync); the commit follows in the
      // background, shared with the other runs that start or end meanwhile (group-commit.ts).
      await (deferred ? this.durable() : this.commit())
    } catch (e) {
      this.ended = false
      this.state.status = 'RUNNING'
      delete this.state.endTime
      throw e
    }
    if (deferred) {
      this.host.forget(this)
      this.host.deferCommit!(this)
      return
    }
    await this.journal.remove(options.removeJournal)
    this.host.forget(this)
    await this.host.afterEnd(this.summary(), this.previousStatus)
  }

  /** @internal the group commit put this run on the branch: an ended run drops its journal and counts into its note. */
  async committed(): Promise<void> {
    // Only once the branch has the end: a commit whose snapshot was taken before end() (the start's, in flight while
    // end() was called) must not drop the journal, or the run reads RUNNING (and a crash keeps it so) until the
    // end's own commit. Once: a commit that ran while end() awaited its fdatasync already carried the end.
    if (!this.endOnBranch || this.endCommitted) return
    this.endCommitted = true
    await this.journal.remove()
    await this.host.afterEnd(this.summary(), this.previousStatus, { gather: true })
  }

  /** For `await using run = await exp.startRun()`: ends FINISHED unless already ended. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.end('FINISHED')
  }

  get isEnded(): boolean {
    return this.ended
  }

  /**
   * If this process dies before the run ends, recovery leaves the run RUNNING (committing what it logged) instead of
   * KILLED: for a server, whose client keeps logging after a restart.
   */
  keepRunningOnRecovery(): void {
    this.journal.markResumable()
  }

  /**
   * The run's summary as JSON when nothing but its fields could differ from its last commit (not ended, its first
   * commit done, no artifact staged, no journaled point uncommitted); undefined otherwise. Equal to `committedShape`:
   * the branch has everything.
   */
  private shapeIfSettled(): string | undefined {
    return this.ended || !this.branch.settled || this.buffer.hasUncommitted ? undefined : JSON.stringify(this.summary())
  }

  /**
   * Commits everything and, once the branch holds all of it, removes the journal and lets go of the run without
   * ending it: it stays RUNNING on the branch and a later writer opens it from there (`openRun`). For a server's
   * clean stop, where every run a client left open is resumable anyway: 35,000 kept journals made every `labbook ls`
   * read them all. A kill before the removal leaves the journal, and recovery reads it as before.
   */
  async release(): Promise<void> {
    if (this.ended) return
    await this.commit({ gather: true })
    if (this.buffer.journalText() !== '' || this.shapeIfSettled() !== this.committedShape) return // something came meanwhile: kept
    this.host.forget(this)
    await this.journal.remove()
  }

  /** @internal the process is exiting: journal what is buffered, and what waits for a rotation in flight, now. */
  flushOnExit(): void {
    this.flush(false) // no fdatasync: it would not finish (a killed process loses nothing written either)
    this.journal.writeHeldNow()
  }

  /** @internal detach without ending (process shutting down): flush the journal and close it. */
  detach(): void {
    this.flush()
    this.journal.close()
  }

  private assertOpen(): void {
    if (this.ended) throw new LabbookError('RUN_ENDED', `Run ${this.id} has ended; it takes no more data.`, 'Reopen it with book.openRun(id) to add to a finished run.', { id: this.id })
  }
}


