/**
 * The book as its faces see it: one declared contract for reading a branch (`BookReader`) and for writing to it
 * (`Book`, `RunWriter`). `LabbookReader` (one revision, `book.at(rev)`) and `Labbook` (the branch plus live journals,
 * src/track) implement them; the server, the importer, the PR report and the site build consume them, so a face
 * depends on the contract, not on the class, and a fake in memory can stand in (src/site/build/memory-source.ts).
 * Types only: no I/O here.
 */
import type { ArtifactContent, ArtifactEntry } from './artifact.js'
import type { Experiment } from './experiment.js'
import type { ModelRecord } from './registry.js'
import type { DatasetInput, MetricPoint, ParamValue, RunSummary, SourceInfo } from './run.js'

/** A run whose run.yaml cannot be read: where, and why (skipped by `listRuns`, reported as a problem). */
export interface DamagedRun {
  path: string
  message: string
}

export interface ListRunsOptions {
  /** Experiment id (or name) to list; all experiments when omitted. */
  experiment?: string
  /** Include runs whose lifecycle is `deleted`. @default false */
  includeDeleted?: boolean
}

/** A metric's downsampled history: `points` as drawn (all of them when `total` fits), `total` logged. */
export interface MetricSample {
  total: number
  points: MetricPoint[]
}

/** Reading one revision of the branch (or the branch with live journals laid over it). */
export interface BookReader {
  listExperiments(o?: { includeDeleted?: boolean }): Promise<Experiment[]>
  /** By id, then by exact name; `EXPERIMENT_NOT_FOUND` otherwise. */
  getExperiment(idOrName: string): Promise<Experiment>
  /** Run summaries, newest first. */
  listRuns(o?: ListRunsOptions): Promise<RunSummary[]>
  /** Runs whose run.yaml cannot be read (skipped by listRuns). */
  damagedRuns(): Promise<DamagedRun[]>
  /** Git tree id of each run folder (run id → tree id): what changed between two builds. */
  runTrees(): Promise<Map<string, string>>
  /** `RUN_NOT_FOUND` when missing. */
  getRun(id: string): Promise<RunSummary>
  metricHistory(id: string, key: string): Promise<MetricPoint[]>
  /** Every metric's history of a run (only `onlyKey`'s when given), each sorted by step. */
  metricHistories(id: string, onlyKey?: string): Promise<Record<string, MetricPoint[]>>
  /** Every metric downsampled to at most `maxPoints` as the pages draw it (src/model/minmax.ts), with its total. */
  metricSample(id: string, maxPoints: number): Promise<Record<string, MetricSample>>
  listArtifacts(id: string, prefix?: string): Promise<ArtifactEntry[]>
  readArtifact(id: string, path: string): Promise<Uint8Array>
  /** Bytes in memory or, for large artifacts, a file in the local store (downloaded by oid when missing). */
  openArtifact(id: string, path: string): Promise<ArtifactContent>
  /** The registered models of the revision (models/ on the branch). */
  listModels(): Promise<ModelRecord[]>
}

/** What the site build reads: the part of `BookReader` every source has, and what only a git-backed one has. */
export type SiteSource = Pick<BookReader, 'listExperiments' | 'listRuns' | 'metricHistories' | 'listArtifacts' | 'readArtifact'> &
  Partial<Pick<BookReader, 'damagedRuns' | 'runTrees' | 'listModels' | 'openArtifact' | 'metricSample'>>

/** The options of `startRun`. */
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
  /**
   * Recovery after this process dies leaves the run RUNNING, resumable by its client (as `keepRunningOnRecovery()`,
   * recorded with the journal's first write instead of rewriting it; the server sets it). @default false
   */
  resumable?: boolean
}

/** One open run, as a writer sees it (`Run`, src/track/run.ts). */
export interface RunWriter {
  readonly id: string
  readonly experimentId: string
  logParam(key: string, value: ParamValue): void
  logMetric(key: string, value: number, o?: { step?: number; timestamp?: number }): void
  setTag(key: string, value: string): void
  deleteTag(key: string): void
  setName(name: string): void
  setDescription(text: string): void
  resume(): void
  logBytes(path: string, data: Uint8Array | string): Promise<void>
  logArtifact(localPath: string, o?: { to?: string }): Promise<void>
  deleteArtifact(path: string): Promise<void>
  summary(): RunSummary
  flush(): void | Promise<void>
  /** Resolves once everything logged so far survives a kill (journal fdatasync); writes are acknowledged after it. */
  durable(): Promise<void>
  /** Puts what was logged on the branch; `gather`: with every commit queued in the same turn, as one commit. */
  commit(o?: { gather?: boolean }): Promise<void>
  /** Commits everything, removes the journal and lets go of the run, still RUNNING (a server's clean stop). */
  release(): Promise<void>
  end(status?: 'FINISHED' | 'FAILED' | 'KILLED', o?: { endTime?: number }): Promise<void>
  /** Recovery after this process dies leaves the run RUNNING, resumable by the client. */
  keepRunningOnRecovery(): void
  moveToExperiment(experimentId: string): void
  logInputs(datasets: DatasetInput[]): void
}

/** Reading and writing the branch (`Labbook`): what the MLflow server and the importers use. */
export interface Book extends BookReader {
  readonly repo: string
  /** The git common dir (journals of open runs live under it). */
  readonly gitdir: string
  /** The branch (journals name it). */
  readonly branch: string
  /** The branch's commit id, or null before the first write. */
  tip(): Promise<string | null>
  init(): Promise<{ created: boolean; commit: string }>
  /** The experiment of that name, created when missing. */
  experiment(name: string): Promise<{ id: string; name: string }>
  renameExperiment(id: string, name: string): Promise<void>
  deleteExperiment(id: string): Promise<void>
  restoreExperiment(id: string): Promise<void>
  setExperimentTag(id: string, key: string, value: string): Promise<void>
  /** A new run in the experiment named `experiment` (default: the Default experiment). */
  startRun(o: StartRunOptions & { experiment?: string }): Promise<RunWriter>
  openRun(id: string): Promise<RunWriter>
  deleteRun(id: string): Promise<void>
  restoreRun(id: string): Promise<void>
  close(): Promise<void>
}
