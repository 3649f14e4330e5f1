/** The summaries the Astro pages render from (kept small: no metric series, no artifact bytes). Browser-safe types. */
import type { ParamValue, RunStatus, RunSummary, SourceInfo, MetricSummary } from '../../model/run.js'
import type { Goal, JudgeConfig, SampleStats, Verdict } from '../../judge/index.js'
import type { ImageSeries } from './image-steps.js'

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
  /** An image shown in a step series (the slider), not previewed on its own. */
  inSeries?: boolean
}

/**
 * One metric's series files. `file` is a JSON file (`SeriesFile`), or `<path>#<n>`: the n-th series of a packed file,
 * a gzip-compressed JSON array of series files (`data/runs/<id>/series.bin`, the static build's). `full` is always JSON.
 */
export interface MetricFile { key: string; file: string; total: number; full?: string }

/** Rows of an experiment's table shown without JavaScript (newest first); their runs get pages rendered at build time. */
export const STATIC_ROWS = 100

/**
 * `data/runs/<id>/page.json`: what the run-page shell needs besides `data/runs/<id>.json` (its table row, metric
 * files and image series) to show a run whose page was not rendered at build time.
 */
export interface RunPageData extends Omit<RunDetail, 'metrics' | 'imageSeries'> {
  experimentName: string | null
  /** `exists`: the run is in the site (its page can be linked). */
  parent: { id: string; name: string; exists: boolean } | null
  childLinks: Array<{ id: string; name: string; exists: boolean }>
  modelRefs: ModelRef[]
}

/** Images logged at several steps (src/site/browser/image-steps.ts), with hrefs into the site. */
export type { ImageSeries, StepImage } from './image-steps.js'

export interface RunDetail {
  metrics: MetricFile[]
  artifacts: ArtifactView[]
  descriptionHtml?: string
  log?: { text: string; truncated: boolean }
  diff?: { text: string; truncated: boolean }
  children: string[]
  /** Images logged at several steps, for the step slider (absent when none). */
  imageSeries?: ImageSeries[]
}

/** A registered model's page (src/site/build/model-views.ts): everything under models/<name>/ on the branch, joined to its runs. */
export interface ModelView {
  name: string
  /** The page's folder under models/: the name when it is URL-safe, else a sanitised name and a hash. */
  slug: string
  createdAt: number
  updatedAt: number
  descriptionHtml?: string
  /** First line of the description, plain text (for the index). */
  summary?: string
  tags: Record<string, string>
  aliases: Array<{ alias: string; version: number }>
  /** Live versions, newest first (deleted ones are gone for clients, as in MLflow). */
  versions: ModelVersionView[]
}

export interface ModelVersionView {
  version: number
  stage: string
  status: string
  aliases: string[]
  createdAt: number
  user?: string
  description?: string
  source: string
  /** MLflow 3's logged model id. */
  modelId?: string
  tags: Record<string, string>
  renumberedFrom?: number
  runId?: string
  /** The source run when it is in this site: its page exists, with its primary metrics (src/judge) and values. */
  run?: { id: string; name: string; status: RunStatus; experiment: string; metrics: Array<{ key: string; value: number; goal?: Goal }> }
}

/** A model version a run registered, for the link back from the run's page. */
export interface ModelRef { name: string; slug: string; version: number; stage: string; aliases: string[] }

export interface CommitView {
  sha: string
  runs: number
  firstTime: number
  lastTime: number
  experiments: string[]
  url?: string
  /** Best run of the commit per experiment (by that experiment's primary metric and goal). */
  best: Record<string, BestRun & { metric: string }>
  /** From git at build time, when the repository has the commit. */
  subject?: string
  author?: string
  /** Author date, ms. */
  date?: number
  /** Per experiment: the commit's best group and src/judge's verdict against the previous commit's (change detection). */
  changes: Record<string, CommitChange>
}

/** One experiment at one commit: its best eligible group on the first primary metric, judged against the previous commit's. */
export interface CommitChange {
  metric: string
  goal: Goal
  group: GroupView
  /** The nearest earlier commit (in git's history order) with an eligible group. */
  previous?: string
  verdict?: Verdict
  /** mean(this) − mean(previous), with Welch's 95% interval. */
  diff?: number
  ci?: [number, number]
  /** Why the verdict is what it is (one sentence from src/judge). */
  reason?: string
}

/** What a parent row says about its children (src/site/table-view.ts `withChildSummaries`). */
export interface ChildSummary {
  n: number
  /** The children's run ids (for *Compare children*). */
  ids: string[]
  /** Best eligible child on the first primary metric (src/judge). */
  best?: { id: string; name: string }
  /** Metric keys whose cell shows the best child's value (the parent logged none itself). */
  filled: string[]
}

/** A metric in the runs table: its latest value (the table's data, runs.json, keeps no step, min, max or count). */
export type TableMetric = Pick<MetricSummary, 'value'> & Partial<MetricSummary>

/**
 * A run as the browser table gets it (`data/experiments/<id>/runs.json`, columnar: src/site/browser/table-data.ts): the
 * summary without the description, each metric's latest value only.
 */
export type TableRun = Omit<RunSummary, 'description' | 'metrics'> & { metrics: Record<string, TableMetric>; duration?: number; children?: number; commitUrl?: string; summary?: ChildSummary }

/** A run's row in `data/runs/<id>.json`: the table's row with each metric's full summary (step, min, max, count). */
export type RunRow = TableRun & Pick<RunSummary, 'metrics'>

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
  /** Registered models, by name (empty when the branch has no registry). */
  models: ModelView[]
  /** Per run id: the model versions registered from it. */
  modelRefs: Record<string, ModelRef[]>
  problems: Problem[]
  /** The judgement keys of labbook.config.yaml the build used (goals, primary, seed params, min_effect). */
  judge?: JudgeConfig
  /** Key of each run's output (its tree id and what around it shows on its page); RUNNING runs have none. */
  runKeys?: Record<string, string>
  /** Runs whose output the build takes from the previous one (incremental builds): no page is rendered for them. */
  reused?: string[]
  /** Runs (not reused) whose page is a copy of the run-page shell (`runs/index.html`): no page is rendered for them either. */
  shells?: string[]
}

export type { ParamValue, RunStatus, RunSummary, SourceInfo, MetricSummary }
