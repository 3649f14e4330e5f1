/**
 * The part of the core API (`Labbook`, `Run` from src/track) the server and importer use, written as
 * structural types so these faces depend on the contract, not on the class.
 */
import type { Experiment } from '../model/experiment.js'
import type { DatasetInput, MetricPoint, ParamValue, RunSummary } from '../model/run.js'
import type { StartRunOptions as CoreStartRunOptions } from '../track/labbook.js'
import type { Registry } from '../registry/registry.js'
import type { ArtifactContent, ArtifactEntry } from '../model/artifact.js'

export type { ArtifactEntry }

/** The core's options, with the experiment given by name. */
export type StartRunOptions = CoreStartRunOptions & { experiment?: string }

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
  commit(): Promise<void>
  end(status?: 'FINISHED' | 'FAILED' | 'KILLED', o?: { endTime?: number }): Promise<void>
  /** Recovery after this process dies leaves the run RUNNING, resumable by the client. */
  keepRunningOnRecovery(): void
  moveToExperiment(experimentId: string): void
  logInputs(datasets: DatasetInput[]): void
}

export interface Book {
  readonly repo: string
  /** The git common dir (journals of open runs live under it). */
  readonly gitdir: string
  /** The model registry on the branch. */
  readonly models: Registry
  /** The branch served (journals name it). */
  readonly branch: string
  /** The branch's commit id, or null before the first write. */
  tip(): Promise<string | null>
  init(): Promise<{ created: boolean; commit: string }>
  experiment(name: string): Promise<{ id: string; name: string }>
  getExperiment(idOrName: string): Promise<Experiment>
  listExperiments(o?: { includeDeleted?: boolean }): Promise<Experiment[]>
  renameExperiment(id: string, name: string): Promise<void>
  deleteExperiment(id: string): Promise<void>
  restoreExperiment(id: string): Promise<void>
  setExperimentTag(id: string, key: string, value: string): Promise<void>
  startRun(o: StartRunOptions): Promise<RunWriter>
  openRun(id: string): Promise<RunWriter>
  listRuns(o?: { experiment?: string; includeDeleted?: boolean }): Promise<RunSummary[]>
  getRun(id: string): Promise<RunSummary>
  metricHistory(id: string, key: string): Promise<MetricPoint[]>
  listArtifacts(id: string, prefix?: string): Promise<ArtifactEntry[]>
  readArtifact(id: string, path: string): Promise<Uint8Array>
  /** Bytes in memory or, for large artifacts, a file in the local store (downloaded by oid when missing). */
  openArtifact(id: string, path: string): Promise<ArtifactContent>
  deleteRun(id: string): Promise<void>
  restoreRun(id: string): Promise<void>
  close(): Promise<void>
}
