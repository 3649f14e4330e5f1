/**
 * The read API with runs in progress laid over the branch: what live writers journaled and did not commit yet
 * (live.ts reads the journals). `Labbook` is one; `book.at(rev)` is a plain LabbookReader.
 */
import { isLabbookError } from '../errors.js'
import { RUN_FILE, runDir } from '../model/layout.js'
import type { RunSummary } from '../model/run.js'
import { liveJournals, overlaySummary, uncommittedFrom, type LiveJournal, type LiveState, type OwnRun } from './live.js'
import { liveSeries } from './live-series.js'
import type { TreeView } from '../store/tree-view.js'
import type { ObjectStore } from '../store/objects.js'
import type { SummaryIndex } from '../store/summary-index.js'
import type { MetricSample } from '../model/book.js'
import { sampleSeries, type SeriesColumns } from './history.js'
import { LabbookReader, runNotFound, type ListRunsOptions } from './reader.js'
import { keyed } from '../model/run.js'

export abstract class LiveReader extends LabbookReader {
  abstract readonly branch: string
  abstract tip(): Promise<string | null>
  abstract at(rev: string): Promise<LabbookReader>
  /** @internal The tree of a commit of the branch (a snapshot's pinned view). */
  abstract viewOf(commit: string): Promise<TreeView>

  /**
   * The runs in progress, read anew on each call (a `LiveSnapshot` keeps one read): this process's own runs as their
   * writers hold them (`ownRuns`), then the journals of the others (own runs' journals are not read).
   */
  protected live(): LiveState {
    const ids = this.ownRunIds()
    const own = new Map<string, OwnRun>()
    for (const id of ids ?? []) {
      const r = this.ownRun(id)
      if (r) own.set(id, r)
    }
    return { own, journals: liveJournals(this.gitdir, this.branch, ids) }
  }

  /** One run in progress, as live() would have it: this process's own (from its writer), or its journal. */
  protected liveOne(id: string): { own?: OwnRun; journal?: LiveJournal } {
    const own = this.ownRun(id)
    if (own) return { own }
    return { journal: liveJournals(this.gitdir, this.branch, this.ownRunIds()).find((j) => j.runId === id) }
  }

  /** The ids of the runs this process writes and keeps the series of (see OwnRun; `Labbook` has them): their journals are not read. */
  protected ownRunIds(): ReadonlySet<string> | undefined {
    return undefined
  }

  /** One of those runs as its writer has it now (undefined: not one of them). */
  protected ownRun(_id: string): OwnRun | undefined {
    return undefined
  }

  /**
   * One moment of this book: the runs in progress read once, then the tip pinned (that order, as in listRuns). Every
   * read of it agrees with every other: a live run page's metrics table and its charts count the same points.
   */
  async snapshot(): Promise<LiveSnapshot> {
    const live = this.live()
    const tip = await this.tip()
    const view = tip ? await this.viewOf(tip) : null
    return new LiveSnapshot(this.objects, this.index, this.gitdir, async () => view, this.branch, tip, live, this)
  }

  /** One revision for both reads below: a commit landing between "how many points are committed" and "read the chunks" would count the tail twice. */
  private async pinned(): Promise<LabbookReader | undefined> {
    const tip = await this.tip()
    return tip ? this.at(tip) : undefined
  }

  /** Run summaries, newest first, with runs in progress as their journals show them (see live.ts). */
  override async listRuns(o: ListRunsOptions = {}): Promise<RunSummary[]> {
    // Journals first, then the branch: a run whose group commit lands in between (and whose journal then goes) is on
    // the branch by the time it is read; the other order would find it in neither place. And ONE revision of the
    // branch for both "what it lists" and "is this journaled run on it": with two reads of the tip, a commit landing
    // in between left a run in neither (not listed at the old tip, skipped as on the branch at the new one).
    const { journals, own } = this.live()
    const view = await this.view()
    const branch = new LabbookReader(this.objects, this.index, this.gitdir, async () => view)
    const runs = await branch.listRuns(o)
    if (!journals.length && !own.size) return runs
    // each run in progress: its summary laid over its branch summary (undefined: not on the branch yet)
    const byId = new Map<string, (onBranch: RunSummary | undefined) => RunSummary | undefined>()
    for (const j of journals) byId.set(j.runId, (r) => overlaySummary(j, r))
    for (const [id, x] of own) byId.set(id, () => ownSummary(x))
    const out = runs.map((r) => {
      const over = byId.get(r.id)
      if (!over) return r
      byId.delete(r.id)
      return over(r) ?? r
    })
    if (byId.size === 0) return out
    // journaled but not yet on the branch (the first commit is in flight), unless the filters left it out
    const exp = o.experiment === undefined ? undefined : (await branch.getExperiment(o.experiment)).id
    for (const [id, over] of byId) {
      if (await this.onBranch(id, view)) continue
      const s = over(undefined)
      if (s && (exp === undefined || s.experiment === exp) && (o.includeDeleted || s.lifecycle === 'active')) out.push(s)
    }
    return out.sort((a, b) => b.startTime - a.startTime || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
  }

  /** queryRuns with runs in progress: while any are, every run is materialised (listRuns lays the journals over them). */
  override async queryRuns(o: Parameters<LabbookReader['queryRuns']>[0] = {}): Promise<RunSummary[]> {
    const { journals, own } = this.live()
    if (!journals.length && !own.size) return super.queryRuns(o)
    return this.queryAll(o)
  }

  /** A run, with what its live writer journaled and did not commit yet. */
  override async getRun(id: string): Promise<RunSummary> {
    const { own: mine, journal: j } = this.liveOne(id)
    if (mine) return ownSummary(mine)
    if (!j) return super.getRun(id)
    const onBranch = await super.getRun(id).catch((e: unknown) => {
      if (isLabbookError(e, 'RUN_NOT_FOUND')) return undefined
      throw e
    })
    const s = overlaySummary(j, onBranch)
    if (!s) throw runNotFound(id)
    return s
  }

  /** Columns with the points a live writer journaled and did not commit yet (copies: the caller may keep them). */
  override async metricColumns(id: string, onlyKey?: string): Promise<Map<string, SeriesColumns>> {
    const { own, journal: j } = this.liveOne(id)
    const mine = own && (await this.ownSeries(id, own))
    if (!j && !mine) return super.metricColumns(id, onlyKey)
    const out = new Map<string, SeriesColumns>()
    for (const [k, s] of mine ?? (await this.liveColumns(j!))) {
      if (onlyKey === undefined || k === onlyKey) out.set(k, { step: s.step.slice(), value: s.value.slice(), time: s.time.slice() })
    }
    return out
  }

  /**
   * Samples with the journaled tail, downsampled from the run's series as a full read would give it; the series is
   * kept per run and extended by the new points only (live-series.ts), so a page refreshing while the run logs costs
   * the new points plus one downsampling pass, not a rebuild.
   */
  override async metricSample(id: string, maxPoints: number): Promise<Record<string, MetricSample>> {
    const { own, journal: j } = this.liveOne(id)
    const mine = own && (await this.ownSeries(id, own))
    if (!j && !mine) return super.metricSample(id, maxPoints)
    const out = keyed<MetricSample>()
    for (const [k, s] of mine ?? (await this.liveColumns(j!))) out[k] = sampleSeries(k, s, maxPoints)
    return out
  }

  /**
   * An own run's series: its writer's while it keeps one; else read now from the branch and the journal (and kept by
   * the writer from then on, `readOwnSeries`), as many points per metric as `own` counts (the moment it was taken).
   */
  private async ownSeries(id: string, own: OwnRun): Promise<Map<string, SeriesColumns> | undefined> {
    if (own.series) return own.series
    const now = await this.readOwnSeries(id)
    if (!now) return undefined
    const out = new Map<string, SeriesColumns>()
    for (const [k, s] of now) {
      const n = Math.min(s.value.length, own.summary.metrics[k]?.count ?? 0)
      if (n > 0) out.set(k, n === s.value.length ? s : { step: s.step.subarray(0, n), value: s.value.subarray(0, n), time: s.time.subarray(0, n) })
    }
    return out
  }

  /**
   * @internal An own run's whole series read now from the branch and its journal, its writer keeping it from then on
   * (`Labbook` has own runs); undefined when the run is not one (any more).
   */
  async readOwnSeries(_id: string): Promise<Map<string, SeriesColumns> | undefined> {
    return undefined
  }

  /** A live run's series: its chunks at one revision, then the journal's points the branch lacks (views: read only). */
  protected async liveColumns(j: LiveJournal): Promise<Map<string, SeriesColumns>> {
    const rev = await this.pinned()
    const onBranch = await rev?.getRun(j.runId).catch(() => undefined)
    if (!onBranch && !j.contents.start) throw runNotFound(j.runId)
    const { dir, chunks } = onBranch ? await rev!.metricChunks(j.runId) : { dir: '', chunks: [] }
    return liveSeries(this.objects, this.seriesKey(j.runId), chunks, dir, j.contents.points, uncommittedFrom(j, onBranch))
  }

  /** The key live-series.ts keeps a run's series under. */
  protected seriesKey(id: string): string {
    return `${this.gitdir}\0${id}`
  }

  /** Whether the run is on the branch: at `view` when given (a read pinned to one revision), else at the tip. */
  protected async onBranch(id: string, at?: TreeView | null): Promise<boolean> {
    const view = at === undefined ? await this.view() : at
    return !!view && !!(await view.entry(`${runDir(id)}/${RUN_FILE}`))
  }
}

/** A `LiveReader` at one moment (`book.snapshot()`): fixed tip, journals as they were read. */
export class LiveSnapshot extends LiveReader {
  constructor(
    objects: ObjectStore, index: SummaryIndex, gitdir: string, view: () => Promise<TreeView | null>,
    readonly branch: string, private readonly pinnedTip: string | null, private readonly state: LiveState, private readonly book: LiveReader,
  ) {
    super(objects, index, gitdir, view)
  }

  async tip(): Promise<string | null> {
    return this.pinnedTip
  }

  at(rev: string): Promise<LabbookReader> {
    return this.book.at(rev)
  }

  viewOf(commit: string): Promise<TreeView> {
    return this.book.viewOf(commit)
  }

  protected override live(): LiveState {
    return this.state
  }

  override readOwnSeries(id: string): Promise<Map<string, SeriesColumns> | undefined> {
    return this.book.readOwnSeries(id)
  }

  protected override liveOne(id: string): { own?: OwnRun; journal?: LiveJournal } {
    const own = this.state.own.get(id)
    return own ? { own } : { journal: this.state.journals.find((j) => j.runId === id) }
  }
}

/** An own run's summary (a copy: callers may change theirs). */
function ownSummary(x: OwnRun): RunSummary {
  const s = x.summary
  return { ...s, params: keyed(s.params), tags: keyed(s.tags), metrics: keyed(s.metrics) }
}
