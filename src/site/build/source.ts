/** What the site reads: the read-only subset of `Labbook` / `book.at(rev)`. A fake in memory implements it too. */
import type { Experiment } from '../../model/experiment.js'
import type { MetricPoint, RunSummary } from '../../model/run.js'
import type { ModelRecord } from '../../model/registry.js'

import type { ArtifactContent, ArtifactEntry } from '../../model/artifact.js'

export type { ArtifactContent, ArtifactEntry }

export interface SiteSource {
  listExperiments(o?: { includeDeleted?: boolean }): Promise<Experiment[]>
  listRuns(o?: { experiment?: string; includeDeleted?: boolean }): Promise<RunSummary[]>
  /** Runs whose run.yaml cannot be read (skipped by listRuns), reported as problems. */
  damagedRuns?(): Promise<Array<{ path: string; message: string }>>
  /** Git tree id of each run folder (run id → tree id), for incremental builds; sources without it rebuild every run. */
  runTrees?(): Promise<Map<string, string>>
  metricHistories(id: string): Promise<Record<string, MetricPoint[]>>
  listArtifacts(id: string, prefix?: string): Promise<ArtifactEntry[]>
  readArtifact(id: string, path: string): Promise<Uint8Array>
  /** The model registry of the revision (models/ on the branch); sources without it have no model pages. */
  listModels?(): Promise<ModelRecord[]>
  /** Large artifacts as a file to copy (a Git LFS object, downloaded when missing); sources without it use readArtifact. */
  openArtifact?(id: string, path: string): Promise<ArtifactContent>
}
