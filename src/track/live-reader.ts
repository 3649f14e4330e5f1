/**
 * The read API with runs in progress laid over the branch: what live writers journaled and did not commit yet
 * (live.ts reads the journals). `Labbook` is one; `book.at(rev)` is a plain LabbookReader.
 */
import { isLabbookError } from '../errors.js'
import { RECENT_FILE, RUN_FILE, RUNS_DIR, SUMMARIES_FILE, runDir } from '../model/layout.js'
import type { RunSummary } from '../model/run.js'
import { liveJournals, overlaySummary, uncommittedFrom, type LiveJournal } from './live.js'
import { liveSeries } from './live-series.js'
import type { TreeView } from '../store/tree-view.js'
import type { ObjectStore, TreeEntry } from '../store/objects.js'
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

  /** The journals of runs in progress, read anew on each call (a `LiveSnapshot` keeps one read). */
  protected journals(): LiveJournal[] {
    return liveJournals(this.gitdir, this.branch)
  }

  /**
   * One moment of this book: the journals read once, then the tip pinned (that order, as in listRuns). Every read of
   * it agrees with every other: a live run page's metrics table and its charts count the same points.
   */
  async snapshot(): Promise<LiveSnapshot> {
    const live = this.journals()
    const tip = await this.tip()
    const view = tip ? await this.viewOf(tip) : null
    return new LiveSnapshot(this.objects, this.index, this.gitdir, async () => view, this.branch, tip, live, this)
  }

  /**
   * The runs whose folders differ between commits `from` and `to` of the branch, when nothing else does but their
   * shards' summary files: what a commit that carries runs' new points and edits changes. Undefined when more changed
   * (another file, a run added or removed). Reads the root, `runs/` and the changed shards' trees, nothing below.
   * The live channel then names these runs instead of saying "the branch moved" to every open page.
   */
  async runsChanged(from: string, to: string): Promise<string[] | undefined> {
    const [a, b] = await Promise.all([this.viewOf(from), this.viewOf(to)])
    const read = (v: TreeView, oid: string) => v.store.readTree(oid)
    const root = changedEntries(await read(a, a.tree), await read(b, b.tree))
    if (!root) return undefined
    if (root.length === 0) return []
    if (root.length !== 1 || root[0]![0].name !== RUNS_DIR) return undefined
    const [runsA, runsB] = root[0]!
    const shards = changedEntries(await read(a, runsA.oid), await read(b, runsB.oid))
    if (!shards) return undefined
    const out: string[] = []
    for (const [x, y] of shards) {
      const runs = changedEntries(await read(a, x.oid), await read(b, y.oid))
      if (!runs) return undefined
      for (const [e] of runs) if (e.name !== SUMMARIES_FILE && e.name !== RECENT_FILE) out.push(e.name)
    }
    return out
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
    const live = this.journals()
    const view = await this.view()
    const branch = new LabbookReader(this.objects, this.index, this.gitdir, async () => view)
    const runs = await branch.listRuns(o)
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
    const exp = o.experiment === undefined ? undefined : (await branch.getExperiment(o.experiment)).id
    for (const j of byId.values()) {
      if (await this.onBranch(j.runId, view)) continue
      const s = overlaySummary(j, undefined)
      if (s && (exp === undefined || s.experiment === exp) && (o.includeDeleted || s.lifecycle === 'active')) out.push(s)
    }
    return out.sort((a, b) => b.startTime - a.startTime || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
  }

  /** queryRuns with runs in progress: while any are, every run is materialised (listRuns lays the journals over them). */
  override async queryRuns(o: Parameters<LabbookReader['queryRuns']>[0] = {}): Promise<RunSummary[]> {
    if (!this.journals().length) return super.queryRuns(o)
    return this.queryAll(o)
  }

  /** A run, with what its live writer journaled and did not commit yet. */
  override async getRun(id: string): Promise<RunSummary> {
    const j = this.journals().find((x) => x.runId === id)
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
    const j = this.journals().find((x) => x.runId === id)
    if (!j) return super.metricColumns(id, onlyKey)
    const out = new Map<string, SeriesColumns>()
    for (const [k, s] of await this.liveColumns(j)) {
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
    const j = this.journals().find((x) => x.runId === id)
    if (!j) return super.metricSample(id, maxPoints)
    const out = keyed<MetricSample>()
    for (const [k, s] of await this.liveColumns(j)) out[k] = sampleSeries(k, s, maxPoints)
    return out
  }

  /**
   * A run in progress's series as they are now (branch chunks, then the journal's points), kept per run and extended
   * by the new points only (live-series.ts): views, read them and do not keep them past the next read. Undefined for a
   * run with no journal (ended, or never live). What the live channel pushes to open pages is cut from these
   * (src/server/live-pages.ts `ticks`).
   */
  async liveMetricColumns(id: string): Promise<Map<string, SeriesColumns> | undefined> {
    const j = this.journals().find((x) => x.runId === id)
    return j ? this.liveColumns(j) : undefined
  }

  /** A live run's series: its chunks at one revision, then the journal's points the branch lacks (views: read only). */
  private async liveColumns(j: LiveJournal): Promise<Map<string, SeriesColumns>> {
    const rev = await this.pinned()
    const onBranch = await rev?.getRun(j.runId).catch(() => undefined)
    if (!onBranch && !j.contents.start) throw runNotFound(j.runId)
    const { dir, chunks } = onBranch ? await rev!.metricChunks(j.runId) : { dir: '', chunks: [] }
    return liveSeries(this.objects, `${this.gitdir}\0${j.runId}`, chunks, dir, j.contents.points, uncommittedFrom(j, onBranch))
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
    readonly branch: string, private readonly pinnedTip: string | null, private readonly live: LiveJournal[], private readonly book: LiveReader,
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

  protected override journals(): LiveJournal[] {
    return this.live
  }
}

/** The entries of two trees that differ, each as [before, after]; undefined when one is only in one tree (added, removed). */
function changedEntries(a: TreeEntry[], b: TreeEntry[]): Array<[TreeEntry, TreeEntry]> | undefined {
  if (a.length !== b.length) return undefined
  const byName = new Map(a.map((e) => [e.name, e]))
  const out: Array<[TreeEntry, TreeEntry]> = []
  for (const e of b) {
    const was = byName.get(e.name)
    if (!was || was.mode !== e.mode) return undefined
    if (was.oid !== e.oid) out.push([was, e])
  }
  return out
}

