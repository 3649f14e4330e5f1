/** The summaries the Astro pages render from (kept small: no metric series, no artifact bytes). Browser-safe types. */
import type { ParamValue, RunStatus, RunSummary, SourceInfo, MetricSummary } from '../model/run.js'

export type Goal = 'min' | 'max'

export interface BestRun { id: string; name: string; value: number }

export interface ExperimentView {
  id: string
  name: string
  description?: string
  tags: Record<string, string>
  runCount: number
  lastActivity?: number
  primaryMetric?: string
  goal: Goal
  best?: BestRun
  /** Primary metric's latest value per run, oldest run first (for the sparkline). */
  spark: number[]
}

export type ArtifactKind = 'image' | 'text' | 'other'

export interface ArtifactView {
  path: string
  size: number
  external: boolean
  /** Relative to the site base; absent when the bytes are not in the site (external or too large). */
  href?: string
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
