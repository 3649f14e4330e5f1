import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isLabbookError, LabbookError } from '../errors.js'
import { decodeExperiment, decodeRun, encodeRun } from '../format/yaml.js'
import { DEFAULT_EXPERIMENT_NAME, type Experiment } from '../model/experiment.js'
import { newRunId } from '../model/ids.js'
import { DIFF_ARTIFACT, experimentFile, RUN_FILE, runDir } from '../model/layout.js'
import type { MetricPoint, ParamValue, RunStatus, RunSummary, SourceInfo } from '../model/run.js'
import {
  validateDescription, validateExperimentName, validateKey, validateParamValue, validateRunId, validateRunName, validateTagValue,
} from '../model/validate.js'
import { BranchStore } from '../store/branch-store.js'
import { Registry } from '../registry/registry.js'
import { locateRepo } from '../store/gitdir.js'
import { ObjectStore } from '../store/objects.js'
import { autoPack, packBranchObjects, packInBackground, type PackResult } from '../store/pack.js'
import { SummaryIndex } from '../store/summary-index.js'
import { migrateArtifacts, type MigrateResult } from './migrate-artifacts.js'
import { addRunNote, notesStore } from '../sync/notes.js'
import { currentUser, detectCodeLink } from './code-link.js'
import { ExperimentHandle } from './experiment.js'
import { editExperiment, getOrCreateExperiment } from './experiments.js'
import { randomRunName } from './names.js'
import { LabbookReader, runNotFound, type ListRunsOptions } from './reader.js'
import { liveJournals, overlaySummary, uncommittedPoints } from './live.js'
import { sortHistory } from '../format/jsonl.js'
import { journalOwner, ownerAlive } from './journal.js'
import { recoverJournals, type RecoveredRun, type RecoverOptions } from './recover.js'
import { existingRunState } from './chunks.js'
import { Run } from './run.js'
import type { RunHost } from './run-host.js'
import { gitConfig, revParseCommit } from '../store/git.js'
import { DEFAULT_BRANCH, resolveBranch } from './branch.js'

export interface OpenOptions {
  /** A directory inside the git repository. @default process.cwd() */
  repo?: string
  /** The data branch. @default $LABBOOK_BRANCH, else `branch:` in labbook.config.yaml, else git config labbook.branch, else "labbook" (track/branch.ts) */
  branch?: string
  /** How often open runs are committed to the branch, in ms. @default 30000 */
  commitInterval?: number
  /** Artifact files larger than this many bytes go to Git LFS (a pointer on the branch, bytes in .git/lfs/objects). @default `git config labbook.artifactThreshold`, else 10 MiB */
  artifactThreshold?: number
  /** Commit journals left by dead writers when opening. @default true */
  recover?: boolean
  /** Add a line per ended run to its code commit's note in refs/notes/labbook. @default true */
  notes?: boolean
}

export interface StartRunOptions {
  /** Explicit run id (importers keep foreign ids); must match ^[a-zA-Z0-9][\w-]{0,255}$. @default a new time-sortable id */
  id?: string
  name?: string
  params?: Record<string, ParamValue>
  tags?: Record<string, string>
  parent?: string
  description?: string
  /** ms since the epoch. @default Date.now() */
  startTime?: number
  /** Who started the run; `null` records nobody (the server, when a client sends no user). @default the OS user */
  user?: string | null
  /** The code link. @default detected from the repository's HEAD */
  source?: SourceInfo
  /** The command line recorded as `source.command` (a wrapper records what it wraps). @default this process's argv */
  command?: string
}

export { DEFAULT_BRANCH }
export const DEFAULT_COMMIT_INTERVAL = 30_000
export const DEFAULT_ARTIFACT_THRESHOLD = 10 * 1024 * 1024
/** Loose objects this process writes before it packs the branch in the background (C git's gc.auto is 6,700). */
const PACK_EVERY_OBJECTS = 2000
const PACK_SCRIPT = fileURLToPath(new URL('../store/pack.js', import.meta.url))

/**
 * A repository's labbook: the read API over the branch tip, plus experiments and runs to write.
 * @example
 * const book = await Labbook.open()
 * const exp = await book.experiment('iris')
 * await exp.run({ name: 'rf', params: { n_estimators: 100 } }, async (run) => run.logMetric('accuracy', 0.93))
 */
export class Labbook extends LabbookReader implements RunHost {
  readonly store: BranchStore
  /** The model registry on the branch (registered models, versions, aliases, stages). */
  readonly models: Registry
  private readonly notes?: BranchStore
  readonly commitInterval: number
  readonly artifactThreshold: number
  private readonly openRuns = new Set<Run>()
  private readonly experimentIds = new Map<string, string>()
  private flushTimer?: NodeJS.Timeout
  private commitTimer?: NodeJS.Timeout
  private readonly onExit = () => this.flushAll()
  private packedAt = 0

  private constructor(
    readonly repo: string,
    gitdir: string,
    readonly branch: string,
    readonly bare: boolean,
    objects: ObjectStore,
    o: OpenOptions,
  ) {
    const store = new BranchStore(gitdir, branch, objects)
    super(objects, new SummaryIndex(gitdir, objects), gitdir, () => store.head())
    this.store = store
    this.models = new Registry(store, () => store.head())
    if (o.notes ?? true) this.notes = notesStore(gitdir, objects)
    this.commitInterval = o.commitInterval ?? DEFAULT_COMMIT_INTERVAL
    this.artifactThreshold = o.artifactThreshold ?? configuredThreshold(gitdir) ?? DEFAULT_ARTIFACT_THRESHOLD
  }

  static async open(o: OpenOptions = {}): Promise<Labbook> {
    const loc = locateRepo(o.repo)
    const branch = resolveBranch(loc, o.branch)
    fs.mkdirSync(join(loc.gitdir, 'labbook'), { recursive: true })
    const book = new Labbook(loc.root, loc.gitdir, branch, loc.bare, new ObjectStore(loc.gitdir), o)
    if (o.recover ?? true) await book.recover()
    return book
  }

  /** Creates the orphan branch if it is missing. Idempotent. */
  async init(): Promise<{ created: boolean; commit: string }> {
    const before = this.store.tip()
    if (before) return { created: false, commit: before }
    await this.store.update(async () => ({ result: undefined }))
    const tip = this.store.tip()!
    return { created: tip !== before, commit: tip }
  }

  /** The branch's commit id, or null before the first write. */
  async tip(): Promise<string | null> {
    return this.store.tip()
  }

  /** Gets or creates an experiment by name; many processes racing on a new name end with one experiment. */
  async experiment(name: string = DEFAULT_EXPERIMENT_NAME): Promise<ExperimentHandle> {
    return new ExperimentHandle(this, await this.ensureExperiment(name), name)
  }

  /** @internal */
  async ensureExperiment(name: string): Promise<string> {
    validateExperimentName(name)
    const known = this.experimentIds.get(name)
    if (known) return known
    const id = await this.store.update(getOrCreateExperiment(this.objects, name))
    this.experimentIds.set(name, id)
    return id
  }

  private async editExperiment(id: string, edit: (e: Experiment, all: Experiment[]) => void, subject: string): Promise<void> {
    await this.store.update(editExperiment(this.objects, id, edit, subject))
    this.experimentIds.clear()
  }

  /** Renaming changes one file; the id stays. */
  renameExperiment(id: string, name: string): Promise<void> {
    validateExperimentName(name)
    return this.editExperiment(id, (e, all) => {
      const clash = all.find((o) => o.name === name && o.id !== id)
      if (clash) throw new LabbookError('EXPERIMENT_EXISTS', `Experiment ${JSON.stringify(name)} already exists (id ${clash.id}).`, 'Pick another name.', { id: clash.id })
      e.name = name
    }, 'rename experiment')
  }

  deleteExperiment(id: string): Promise<void> {
    return this.editExperiment(id, (e) => { e.lifecycle = 'deleted' }, 'delete experiment')
  }

  restoreExperiment(id: string): Promise<void> {
    return this.editExperiment(id, (e) => { e.lifecycle = 'active' }, 'restore experiment')
  }

  setExperimentTag(id: string, key: string, value: string): Promise<void> {
    validateKey(key, 'tag')
    const v = validateTagValue(key, value)
    return this.editExperiment(id, (e) => { e.tags[key] = v }, 'tag experiment')
  }

  setExperimentDescription(id: string, text: string): Promise<void> {
    validateDescription(text)
    return this.editExperiment(id, (e) => { e.description = text || undefined }, 'describe experiment')
  }

  /** Starts a run in the named experiment (default "Default"); commits it at once so others see it RUNNING. */
  async startRun(o: StartRunOptions & { experiment?: string } = {}): Promise<Run> {
    return this.startRunIn(await this.ensureExperiment(o.experiment ?? DEFAULT_EXPERIMENT_NAME), o)
  }

  /** @internal */
  async startRunIn(experimentId: string, o: StartRunOptions): Promise<Run> {
    const id = o.id ?? newRunId()
    validateRunId(id)
    const name = o.name ?? randomRunName()
    validateRunName(name)
    for (const [k, v] of Object.entries(o.params ?? {})) { validateKey(k, 'param'); validateParamValue(k, v) }
    for (const [k, v] of Object.entries(o.tags ?? {})) { validateKey(k, 'tag'); validateTagValue(k, v) }
    const link = o.source ? { source: o.source, diff: undefined } : detectCodeLink(this.repo, this.bare)
    if (o.command !== undefined) link.source = { ...link.source, command: o.command }
    const initial: RunSummary = {
      id, name, experiment: experimentId, status: 'RUNNING', lifecycle: 'active',
      startTime: o.startTime ?? Date.now(), user: o.user === null ? undefined : (o.user ?? currentUser()), host: os.hostname(),
      source: link.source, params: {}, tags: {}, metrics: {},
    }
    if (o.parent) { validateRunId(o.parent); initial.parent = o.parent }
    if (o.description) { validateDescription(o.description); initial.description = o.description }
    const run = new Run(this, initial)
    if (o.params) run.logParams(o.params)
    if (o.tags) run.setTags(o.tags)
    run.openJournal()
    this.track(run)
    try {
      if (link.diff) await run.logBytes(DIFF_ARTIFACT, link.diff)
      else await run.commit()
    } catch (e) {
      this.forget(run)
      run.detach()
      throw e
    }
    return run
  }

  /** Attaches a writer to a run already on the branch, e.g. to log to a finished run as MLflow allows. */
  async openRun(id: string): Promise<Run> {
    for (const r of this.openRuns) if (r.id === id) return r
    const owner = journalOwner(this.gitdir, id)
    if (owner && owner.pid !== process.pid && ownerAlive(owner)) {
      throw new LabbookError('RUN_LOCKED', `Run ${id} is being written by process ${owner.pid} on ${owner.host}; two writers of one run would lose points.`,
        'Log from inside that process (labbook log / $LABBOOK_METRICS), or wait until the run ends.', { id, pid: owner.pid, host: owner.host })
    }
    if (owner && owner.pid !== process.pid) await this.recover() // its writer died: commit what it left first
    const view = await this.store.head()
    if (!view || !(await view.entry(`${runDir(id)}/${RUN_FILE}`))) throw runNotFound(id)
    const existing = await existingRunState(view, id)
    const summary = decodeRun(await view.mustReadText(`${runDir(id)}/${RUN_FILE}`))
    const run = new Run(this, summary, { existing })
    run.openJournal()
    this.track(run)
    return run
  }

  /** Run summaries, newest first, with runs in progress as their journals show them (see live.ts). */
  override async listRuns(o: ListRunsOptions = {}): Promise<RunSummary[]> {
    const runs = await super.listRuns(o)
    const live = liveJournals(this.gitdir, this.branch)
    if (!live.length) return runs
    const byId = new Map(live.map((j) => [j.runId, j]))
    const out = runs.map((r) => {
      const j = byId.get(r.id)
      if (!j) return r
      byId.delete(r.id)
      return overlaySummary(j, r) ?? r
    })
    if (byId.size === 0) return out
    // journaled but not yet on the branch (the first commit is in flight), unless the filters left it out
    const exp = o.experiment === undefined ? undefined : (await this.getExperiment(o.experiment)).id
    for (const j of byId.values()) {
      if (await this.onBranch(j.runId)) continue
      const s = overlaySummary(j, undefined)
      if (s && (exp === undefined || s.experiment === exp) && (o.includeDeleted || s.lifecycle === 'active')) out.push(s)
    }
    return out.sort((a, b) => b.startTime - a.startTime || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
  }

  /** A run, with what its live writer journaled and did not commit yet. */
  override async getRun(id: string): Promise<RunSummary> {
    const j = liveJournals(this.gitdir, this.branch).find((x) => x.runId === id)
    if (!j) return super.getRun(id)
    const onBranch = await super.getRun(id).catch((e: unknown) => {
      if (isLabbookError(e, 'RUN_NOT_FOUND')) return undefined
      throw e
    })
    const s = overlaySummary(j, onBranch)
    if (!s) throw runNotFound(id)
    return s
  }

  /** Histories with the points a live writer journaled and did not commit yet. */
  override async metricHistories(id: string, onlyKey?: string): Promise<Record<string, MetricPoint[]>> {
    const j = liveJournals(this.gitdir, this.branch).find((x) => x.runId === id)
    if (!j) return super.metricHistories(id, onlyKey)
    const onBranch = await super.getRun(id).catch(() => undefined)
    const out = onBranch ? await super.metricHistories(id, onlyKey) : {}
    if (!onBranch && !j.contents.start) throw runNotFound(id)
    let added = false
    for (const p of uncommittedPoints(j, onBranch)) {
      if (onlyKey !== undefined && p.key !== onlyKey) continue
      ;(out[p.key] ??= []).push(p)
      added = true
    }
    if (added) for (const k of Object.keys(out)) sortHistory(out[k]!)
    return out
  }

  private async onBranch(id: string): Promise<boolean> {
    const view = await this.store.head()
    return !!view && !!(await view.entry(`${runDir(id)}/${RUN_FILE}`))
  }

  /** The open writer of a run in this process, if any. */
  liveRun(id: string): Run | undefined {
    for (const r of this.openRuns) if (r.id === id) return r
    return undefined
  }

  private async editRun(id: string, subject: string, edit: (r: RunSummary) => void): Promise<void> {
    const live = this.liveRun(id)
    await this.store.update(async (view) => {
      const path = `${runDir(id)}/${RUN_FILE}`
      const text = await view.readText(path)
      if (!text) throw runNotFound(id)
      const run = decodeRun(text, path)
      edit(run)
      return { changes: [{ path, blob: this.objects.writeBlob(encodeRun(run)) }], subject: `${subject} run ${run.name || id}`, trailers: [['Labbook-Run', id]], runs: [run], result: undefined }
    })
    if (live) await live.commit() // the writer picks the edit up from the tip
  }

  deleteRun(id: string): Promise<void> {
    return this.editRun(id, 'delete', (r) => { r.lifecycle = 'deleted' })
  }

  restoreRun(id: string): Promise<void> {
    return this.editRun(id, 'restore', (r) => { r.lifecycle = 'active' })
  }

  renameRun(id: string, name: string): Promise<void> {
    validateRunName(name)
    return this.editRun(id, 'rename', (r) => { r.name = name })
  }

  setRunDescription(id: string, text: string): Promise<void> {
    validateDescription(text)
    return this.editRun(id, 'describe', (r) => { r.description = text === '' ? undefined : text })
  }

  /** Commits journals whose writer process is gone and marks those runs KILLED (or the status they ended with). */
  recover(o: RecoverOptions = {}): Promise<RecoveredRun[]> {
    return recoverJournals(this, o)
  }

  /** A read-only view of any revision: a commit id, `labbook~3`, `origin/labbook`, a tag. */
  async at(rev: string): Promise<LabbookReader> {
    const commit = resolveRevision(this.gitdir, rev, this.store)
    const view = await this.store.viewOfCommit(commit)
    return new LabbookReader(this.objects, this.index, this.gitdir, async () => view)
  }

  /** Flushes and detaches open runs without ending them (their journals stay for recovery). */
  async close(): Promise<void> {
    const runs = [...this.openRuns]
    await Promise.allSettled(runs.map((r) => r.commit()))
    for (const r of runs) r.detach()
    this.openRuns.clear()
    this.stopTimers()
    // The end of a command (every CLI command closes its book): pack in the background once the repository holds
    // enough loose objects, whoever wrote them (`git gc --auto`'s count), so many short processes trigger it too.
    if (this.objects.objectsWritten > this.packedAt) {
      this.packedAt = this.objects.objectsWritten
      const env = Number(process.env.LABBOOK_AUTO_PACK_OBJECTS)
      autoPack(this.gitdir, this.branch, PACK_SCRIPT, Number.isFinite(env) && process.env.LABBOOK_AUTO_PACK_OBJECTS !== '' ? env : PACK_EVERY_OBJECTS)
    }
  }

  /** @internal */
  track(run: Run): void {
    this.openRuns.add(run)
    if (!this.flushTimer) {
      this.flushTimer = setInterval(() => this.flushAll(), 1000)
      this.flushTimer.unref()
      this.commitTimer = setInterval(() => {
        for (const r of this.openRuns) r.commit().catch(() => { /* retried next interval; the journal has the data */ })
      }, this.commitInterval)
      this.commitTimer.unref()
      process.on('exit', this.onExit)
    }
  }

  /** @internal */
  forget(run: Run): void {
    this.openRuns.delete(run)
    if (this.openRuns.size === 0) this.stopTimers()
    if (this.objects.objectsWritten - this.packedAt >= PACK_EVERY_OBJECTS) {
      this.packedAt = this.objects.objectsWritten
      packInBackground(this.gitdir, this.branch, PACK_SCRIPT)
    }
  }

  /** @internal counts the ended run into its code commit's note in refs/notes/labbook (a bounded summary). */
  async afterEnd(run: RunSummary, previous?: RunStatus): Promise<void> {
    if (!this.notes) return
    try {
      const text = await (await this.store.head())?.readText(experimentFile(run.experiment))
      await addRunNote(this.notes, run, text ? decodeExperiment(text) : undefined, previous)
    } catch { /* notes are a convenience; the run itself is safely on the branch */ }
  }

  /** Packs the branch's loose objects now (`labbook gc`); labbook also does it in the background every ~2,000 objects. */
  gc(): PackResult {
    return packBranchObjects(this.gitdir, this.branch)
  }

  /** Moves format-1 large artifacts (.git/labbook/objects) to Git LFS pointers and .git/lfs/objects, in one commit. */
  migrateArtifacts(): Promise<MigrateResult> {
    return migrateArtifacts(this.store, this.gitdir)
  }

  private stopTimers(): void {
    clearInterval(this.flushTimer)
    clearInterval(this.commitTimer)
    this.flushTimer = this.commitTimer = undefined
    process.off('exit', this.onExit)
  }

  private flushAll(): void {
    for (const r of this.openRuns) {
      try { r.flush() } catch { /* a full disk must not kill the training loop; the next flush retries */ }
    }
  }
}

/** `git config labbook.artifactThreshold 50m`: bytes, with git's k/m/g suffixes. */
function configuredThreshold(gitdir: string): number | undefined {
  const text = gitConfig({ gitdir }, 'labbook.artifactThreshold')
  if (text === undefined || text === '') return undefined
  const m = /^(\d+)([kmg]?)$/i.exec(text)
  if (!m) {
    throw new LabbookError('INVALID_VALUE', `git config labbook.artifactThreshold is ${JSON.stringify(text)}, not a size in bytes.`,
      'Use a whole number of bytes with an optional k, m or g suffix, e.g. `git config labbook.artifactThreshold 50m`.', { value: text })
  }
  return Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase())
}

function resolveRevision(gitdir: string, rev: string, store: BranchStore): string {
  if (/^[0-9a-f]{40}$/.test(rev)) return rev
  if (rev === store.branch) {
    const tip = store.tip()
    if (tip) return tip
  }
  const oid = revParseCommit({ gitdir }, rev)
  if (!oid) {
    throw new LabbookError('INVALID_ARGUMENT', `Cannot resolve revision ${JSON.stringify(rev)} to a commit.`, 'Pass a commit id, a branch such as "labbook" or "origin/labbook", or "labbook~N".', { rev })
  }
  return oid
}

