/** The summaries the Astro pages render from (kept small: no metric series, no artifact bytes). Browser-safe types. */
import type { ParamValue, RunStatus, RunSummary, SourceInfo, MetricSummary } from '../model/run.js'
import type { Goal, JudgeConfig, SampleStats } from '../judge/index.js'

export type { Goal }

export interface BestRun { id: string; name: string; value: number }

/** A group of repeats as the pages show it (src/judge `scoreGroup` on the primary metric). */
export interface GroupView extends SampleStats {
  /** What the members share (params without seeds, or the labbook.group tag). */
  label: Record<string, string>
  /** Best eligible member. */
  best: BestRun
  runs: string[]
}

/** What the browser needs to ask src/judge itself (`data/judge.json`): the config and each experiment's tags. */
export interface JudgeData {
  config: JudgeConfig
  experiments: Record<string, Record<string, string>>
}

export interface ExperimentView {
  id: string
  name: string
  description?: string
  tags: Record<string, string>
  runCount: number
  lastActivity?: number
  /** The first primary metric (src/judge `primaryMetrics`). */
  primaryMetric?: string
  /** Every primary metric, in order. */
  primaryMetrics: string[]
  /** Goal of the first primary metric. */
  goal?: Goal
  /** Best eligible run (FINISHED, not deleted, finite value) on the first primary metric. */
  best?: BestRun
  /** Best eligible group of repeats on the first primary metric, when some configuration was repeated. */
  bestGroup?: GroupView
  /** Primary metric's latest value per eligible run, oldest run first (for the sparkline). */
  spark: number[]
}

export type ArtifactKind = 'image' | 'text' | 'other'

export interface ArtifactView {
  path: string
  size: number
  external: boolean
  /** Relative to the site base; absent when the bytes are not in the site (larger than the size cap). */
  href?: string
  /** A file too large for the site: its download URL on the remote's LFS host, when the host has one. */
  remoteHref?: string
  kind: ArtifactKind
  preview?: string
  truncated?: boolean
}

export interface MetricFile { key: string; file: string; total: number; full?: string }

export interface RunDetail {
  metrics: MetricFile[]
  artifacts: ArtifactView[]
  descriptionHtml?: string
  log?: { text: string; truncated: boolean }
  diff?: { text: string; truncated: boolean }
  children: string[]
}

export interface CommitView {
  sha: string
  runs: number
  firstTime: number
  lastTime: number
  experiments: string[]
  url?: string
  /** Best run of the commit per experiment (by that experiment's primary metric and goal). */
  best: Record<string, BestRun & { metric: string }>
}

/** A run as the browser table gets it (`data/experiments/<id>/runs.json`): the summary without the description. */
export type TableRun = Omit<RunSummary, 'description'> & { duration?: number; children?: number; commitUrl?: string }

export interface Problem { run?: string; message: string }

export interface SiteData {
  title: string
  rev: string
  commit: string | null
  generatedAt: number
  experiments: ExperimentView[]
  /** Active runs, newest first. */
  runs: RunSummary[]
  details: Record<string, RunDetail>
  commits: CommitView[]
  problems: Problem[]
}

export type { ParamValue, RunStatus, RunSummary, SourceInfo, MetricSummary }
