import fs from 'node:fs'
import { join } from 'node:path'
import { LabbookError } from '../errors.js'
import { decodeExperiment, decodeRun } from '../format/yaml.js'
import { DEFAULT_EXPERIMENT_NAME, type Experiment } from '../model/experiment.js'
import { DIFF_ARTIFACT, experimentFile, RUN_FILE, runDir } from '../model/layout.js'
import type { RunStatus, RunSummary } from '../model/run.js'
import { validateDescription, validateExperimentName, validateKey, validateRunName, validateTagValue } from '../model/validate.js'
import { BranchStore } from '../store/branch-store.js'
import { Registry } from '../registry/registry.js'
import { locateRepo } from '../store/gitdir.js'
import { ObjectStore } from '../store/objects.js'
import { packBranchObjects, type PackResult } from '../store/pack.js'
import { removeDeadKeeps } from '../store/pack-write.js'
import { SummaryIndex } from '../store/summary-index.js'
import type { MigrateResult } from './migrate-artifacts.js'
import type { ExperimentHandle } from './experiment.js'
import { LabbookReader, runNotFound } from './reader.js'
import { LiveReader } from './live-reader.js'
import type { TreeView } from '../store/tree-view.js'
import { journalOwner, journalRoot, ownerAlive, spareHooks, spareRoot } from './journal.js'
import type { RecoveredRun, RecoverOptions } from './recover.js'
import type { Run } from './run.js'
import { DEFAULT_BRANCH, resolveBranch } from './branch.js'
import { configuredThreshold, DEFAULT_ARTIFACT_THRESHOLD, DEFAULT_COMMIT_INTERVAL, type OpenOptions } from './open-options.js'
import type { StartRunOptions } from './run-start.js'
import { OpenRuns } from './open-runs.js'
import type { CommitThread } from './commit-thread.js'
import { GroupCommit } from './group-commit.js'

export type { OpenOptions, StartRunOptions }

// The write path (runs, experiments, notes, recovery, artifact migration) is imported when first used, not with this
// module: `labbook ls` and other readers never load it (issue 17: each module costs a command ~2 ms of CPU at start).
// Loaded on first use (`labbook ls` never loads the write path), then the same promise: a server's every create would
// otherwise resolve its import() again (through tsx's loader thread in the benches: ~0.7 ms a create at 20 clients).
const once = <T>(load: () => Promise<T>): (() => Promise<T>) => {
  let p: Promise<T> | undefined
  return () => (p ??= load())
}
const runModule = once(() => import('./run.js'))
const runStartModule = once(() => import('./run-start.js'))
const experimentModule = once(() => import('./experiment.js'))
const experimentsModule = once(() => import('./experiments.js'))
const runEditsModule = once(() => import('./run-edits.js'))
const notesModule = once(() => import('./notes.js'))
export { DEFAULT_ARTIFACT_THRESHOLD, DEFAULT_BRANCH, DEFAULT_COMMIT_INTERVAL }

/**
 * revision.ts, loaded by the first `at()` rather than at open, and once: a live server pins a revision for every
 * version its pages read, and under a module loader's hooks (tsx, as bench/live.ts runs serve) each `import()` was a
 * round trip to the hooks thread: 18 ms of serve's CPU a second with 20 live pages.
 */
let revisionModule: Promise<typeof import('./revision.js')> | undefined

/**
 * A repository's labbook: the read API over the branch tip, plus experiments and runs to write.
 * @example
 * const book = await Labbook.open()
 * const exp = await book.experiment('iris')
 * await exp.run({ name: 'rf', params: { n_estimators: 100 } }, async (run) => run.logMetric('accuracy', 0.93))
 */
// Not `implements RunHost`: the .d.ts would then promise members that stripInternal leaves out (a Run gets the
// Labbook structurally).
export class Labbook extends LiveReader {
  readonly store: BranchStore
  /** The model registry on the branch (registered models, versions, aliases, stages). */
  readonly models: Registry
  /** The notes ref's store, made on the first run end (`notes: false`: never). */
  private notes?: BranchStore
  private readonly notesOn: boolean
  readonly commitInterval: number
  readonly artifactThreshold: number
  /** Runs this process writes, and the timers that flush and commit them (open-runs.ts). */
  private readonly openRuns: OpenRuns
  private readonly experimentIds = new Map<string, string>()
  /** Run starts and ends acknowledged from their journals and committed in the background (group-commit.ts). */
  private readonly group?: GroupCommit
  /** The worker thread group commits are made in (commit-thread.ts), when the book uses one. */
  private thread?: CommitThread

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
    this.models = new Registry(store, () => store.head(), () => this.flush())
    this.notesOn = o.notes ?? true
    this.commitInterval = o.commitInterval ?? DEFAULT_COMMIT_INTERVAL
    this.artifactThreshold = o.artifactThreshold ?? configuredThreshold(gitdir) ?? DEFAULT_ARTIFACT_THRESHOLD
    this.openRuns = new OpenRuns(gitdir, branch, objects, this.commitInterval)
    if (o.groupCommit ?? true) this.group = new GroupCommit(o.commitDelay)
  }

  static async open(o: OpenOptions = {}): Promise<Labbook> {
    const loc = locateRepo(o.repo)
    const branch = resolveBranch(loc, o.branch)
    fs.mkdirSync(join(loc.gitdir, 'labbook'), { recursive: true })
    const book = new Labbook(loc.root, loc.gitdir, branch, loc.bare, new ObjectStore(loc.gitdir), o)
    if (o.recover ?? true) await book.recover()
    if (commitThreadFromEnv() ?? o.commitThread ?? false) await book.useCommitThread()
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

  /** The branch's commit id, or null before the first write (after committing what is pending: group commit). */
  async tip(): Promise<string | null> {
    await this.group?.flush()
    return this.store.tip()
  }

  /** Gets or creates an experiment by name; many processes racing on a new name end with one experiment. */
  async experiment(name: string = DEFAULT_EXPERIMENT_NAME): Promise<ExperimentHandle> {
    const id = await this.ensureExperiment(name)
    const { ExperimentHandle } = await experimentModule()
    return new ExperimentHandle(this, id, name)
  }

  /** @internal */
  async ensureExperiment(name: string): Promise<string> {
    validateExperimentName(name)
    const known = this.experimentIds.get(name)
    if (known) return known
    const { getOrCreateExperiment } = await experimentsModule()
    const id = await this.store.update(getOrCreateExperiment(this.objects, name))
    this.experimentIds.set(name, id)
    return id
  }

  private async editExperiment(id: string, edit: (e: Experiment, all: Experiment[]) => void, subject: string): Promise<void> {
    const { editExperiment } = await experimentsModule()
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

  /**
   * Starts a run in the named experiment (default "Default"). It is in its journal when this returns (readers here
   * and in other processes see it RUNNING); with group commit (the default) its first commit follows within the
   * commit delay, shared with other runs, else before this returns.
   */
  async startRun(o: StartRunOptions & { experiment?: string } = {}): Promise<Run> {
    return this.startRunIn(await this.ensureExperiment(o.experiment ?? DEFAULT_EXPERIMENT_NAME), o)
  }

  /** @internal */
  async startRunIn(experimentId: string, o: StartRunOptions): Promise<Run> {
    const [{ initialRun }, { Run }] = await Promise.all([runStartModule(), runModule()])
    const { initial, diff } = initialRun(this.repo, this.bare, experimentId, o)
    const run = new Run(this, initial, { resumable: o.resumable })
    if (o.params) run.logParams(o.params)
    if (o.tags) run.setTags(o.tags)
    if (this.group && !diff) {
      // Group commit: what the first commit would refuse is refused now; then the run is in its journal (readers
      // see it) and that commit follows in the background.
      this.store.assertMovable()
      if (o.id !== undefined && ((await this.onBranch(initial.id)) || journalOwner(this.gitdir, initial.id))) {
        throw new LabbookError('RUN_EXISTS', `A run with id ${initial.id} already exists on the branch.`, 'Leave the id out to get a new one, or open the run with book.openRun(id).', { id: initial.id })
      }
      run.openJournal()
      this.track(run)
      this.group.add(run)
      return run
    }
    run.openJournal()
    this.track(run)
    try {
      if (diff) await run.logBytes(DIFF_ARTIFACT, diff)
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
    const open = this.openRuns.get(id)
    if (open) return open
    if (this.group?.has(id)) await this.group.flush() // ended here, its commit pending: on the branch first
    else if (!this.openRuns.get(id)) await (await runEditsModule()).awaitCommitElsewhere(this.gitdir, this.branch, id, (x) => this.onBranch(x))
    const owner = journalOwner(this.gitdir, id)
    if (owner && owner.pid !== process.pid && ownerAlive(owner)) {
      throw new LabbookError('RUN_LOCKED', `Run ${id} is being written by process ${owner.pid} on ${owner.host}; two writers of one run would lose points.`,
        'Log from inside that process (labbook log / $LABBOOK_METRICS), or wait until the run ends.', { id, pid: owner.pid, host: owner.host })
    }
    if (owner && owner.pid !== process.pid) await this.recover() // its writer died: commit what it left first
    const view = await this.store.head()
    if (!view || !(await view.entry(`${runDir(id)}/${RUN_FILE}`))) throw runNotFound(id)
    const [{ existingRunState }, { Run }] = await Promise.all([import('./chunks.js'), runModule()])
    const existing = await existingRunState(view, id)
    const summary = decodeRun(await view.mustReadText(`${runDir(id)}/${RUN_FILE}`))
    const run = new Run(this, summary, { existing })
    run.openJournal()
    this.track(run)
    return run
  }

  /** The open writer of a run in this process, if any. */
  liveRun(id: string): Run | undefined {
    return this.openRuns.get(id)
  }

  private async editRun(id: string, subject: string, edit: (r: RunSummary) => void): Promise<void> {
    const { awaitCommitElsewhere, editRunFile } = await runEditsModule()
    if (this.group?.has(id)) await this.group.flush()
    else if (!this.liveRun(id)) await awaitCommitElsewhere(this.gitdir, this.branch, id, (x) => this.onBranch(x))
    const live = this.liveRun(id)
    await this.store.update(editRunFile(this.objects, id, subject, edit))
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
  async recover(o: RecoverOptions = {}): Promise<RecoveredRun[]> {
    // every open recovers: with no journals (and no spare journals, journal-pool.ts) there is nothing to load
    // (src/track/recover.ts reads the same folders)
    const entries = (dir: string) => { try { return fs.readdirSync(dir).length } catch { return 0 } }
    if (entries(journalRoot(this.gitdir)) === 0 && entries(spareRoot(this.gitdir)) === 0) return []
    const { recoverJournals } = await import('./recover.js')
    return recoverJournals(this, o)
  }

  /** Artifacts of a run whose commit is pending (group commit) are read after committing it. */
  override async listArtifacts(id: string, prefix?: string): ReturnType<LabbookReader['listArtifacts']> {
    if (this.group?.has(id)) await this.group.flush()
    return super.listArtifacts(id, prefix)
  }

  override async openArtifact(id: string, path: string, o?: { remote?: string }): ReturnType<LabbookReader['openArtifact']> {
    if (this.group?.has(id)) await this.group.flush()
    return super.openArtifact(id, path, o)
  }

  override async resolveRunName(ref: string): ReturnType<LabbookReader['resolveRunName']> {
    if (this.group?.size) await this.group.flush()
    return super.resolveRunName(ref)
  }

  /** A read-only view of any revision: a commit id, `labbook~3`, `origin/labbook`, a tag. */
  async at(rev: string): Promise<LabbookReader> {
    await this.group?.flush()
    const { resolveRevision } = await (revisionModule ??= import('./revision.js'))
    const commit = resolveRevision(this.gitdir, rev, this.store)
    const view = await this.store.viewOfCommit(commit)
    return new LabbookReader(this.objects, this.index, this.gitdir, async () => view)
  }

  /** @internal */
  viewOf(commit: string): Promise<TreeView> {
    return this.store.viewOfCommit(commit)
  }

  /**
   * Commits the run starts and ends acknowledged but not yet on the branch (group commit), now. They are already
   * safe in their journals and visible to this library's readers; this is for code that reads the branch with git.
   */
  async flush(): Promise<void> {
    await this.group?.flush()
  }

  /** Commits what is pending, flushes and detaches open runs without ending them (their journals stay for recovery). */
  async close(): Promise<void> {
    this.index.flushListing() // the listing file a query left to write (src/store/summary-index.ts saveListing)
    let failed: unknown
    await this.group?.flush().catch((e: unknown) => { failed = e })
    this.group?.stop()
    await this.openRuns.closeAll()
    await this.thread?.close()
    await spareHooks.release?.(this.gitdir) // spare journals (journal-pool.ts), if this process made any
    // the journals of runs whose commit failed stay for `labbook recover` / the next open
    if (failed) throw failed
  }

  /** @internal whether run starts and ends are group-committed in the background (`groupCommit`, the default). */
  get defersCommits(): boolean {
    return this.group !== undefined
  }

  /** @internal the thread group commits are made in (`commitThread`, `useCommitThread`), if any. */
  commitThread(): CommitThread | undefined {
    return this.thread
  }

  /**
   * @internal Group commits in a worker thread from now on (commit-thread.ts), started now: `labbook serve` (a server
   * taking creates from many clients then spends its event loop on the requests and journals) and the `commitThread`
   * option. Not with $LABBOOK_COMMIT_THREAD=0, without group commit, or where the worker's script is missing.
   */
  async useCommitThread(): Promise<void> {
    if (this.thread || !this.group || commitThreadFromEnv() === false) return
    // loaded here: a reader (`labbook ls`) does not load the write path (docs/architecture.md)
    const { CommitThread } = await import('./commit-thread.js')
    if (this.thread || !CommitThread.available()) return
    this.thread = new CommitThread({ gitdir: this.gitdir, branch: this.branch })
    this.thread.warm()
  }

  /** @internal group commit: the run's start or end is journaled; its commit follows in the background. */
  deferCommit(run: Run): void {
    this.group!.add(run)
  }

  /** @internal */
  track(run: Run): void {
    this.openRuns.add(run)
  }

  /** @internal */
  forget(run: Run): void {
    this.openRuns.delete(run)
  }

  /** @internal counts the ended run into its code commit's note in refs/notes/labbook (a bounded summary). */
  async afterEnd(run: RunSummary, previous?: RunStatus, o: { gather?: boolean } = {}): Promise<void> {
    if (!this.notesOn) return
    try {
      const { addRunNote, notesStore } = await notesModule()
      this.notes ??= notesStore(this.gitdir, this.objects)
      const text = await (await this.store.head())?.readText(experimentFile(run.experiment))
      await addRunNote(this.notes, run, text ? decodeExperiment(text) : undefined, previous, o)
    } catch { /* notes are a convenience; the run itself is safely on the branch */ }
  }

  /** Packs the branch's loose objects now (`labbook gc`); labbook also does it in the background every ~2,000 objects. */
  gc(): PackResult {
    removeDeadKeeps(this.gitdir)
    return packBranchObjects(this.gitdir, this.branch)
  }

  /** Moves format-1 large artifacts (.git/labbook/objects) to Git LFS pointers and .git/lfs/objects, in one commit. */
  async migrateArtifacts(): Promise<MigrateResult> {
    const { migrateArtifacts } = await import('./migrate-artifacts.js')
    return migrateArtifacts(this.store, this.gitdir)
  }
}

/** `$LABBOOK_COMMIT_THREAD=1` / `0` turns the commit thread on / off over the option. */
function commitThreadFromEnv(): boolean | undefined {
  const v = process.env.LABBOOK_COMMIT_THREAD
  return v === '1' ? true : v === '0' ? false : undefined
}
