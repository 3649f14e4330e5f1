/**
 * The pull-request report as data: which runs belong to the PR (by commit, by patch-id after a rebase, by branch), and
 * per experiment (never mixed) the PR's best group of runs against the baseline group, judged by src/judge.
 * Rendering lives in pr-markdown.ts; the CLI in cli/report.ts.
 */
import { aliasesOf, liveVersions } from '../model/registry.js'
import type { BookReader } from '../model/book.js'
import type { Experiment } from '../model/experiment.js'
import type { RunStatus, RunSummary } from '../model/run.js'
import type { JudgeConfig } from '../judge/index.js'
import { branchNameOf, resolveCommit } from './pr-git.js'
import { judgePrExperiment, type PrExperiment, type PrMetric } from './pr-experiment.js'
import { partitionRuns, type PrMatch } from './pr-runs.js'

export const PR_REPORT_VERSION = 2

/** What the report reads: the code repository, the runs and the experiments (a `Labbook`, or any `BookReader`). */
export type PrReportSource = { readonly repo: string } & Pick<BookReader, 'listRuns'> & Partial<Pick<BookReader, 'listExperiments' | 'listModels'>>

/** A model version registered from one of the PR's runs (the registry changes the PR brings). */
export interface PrModelVersion {
  model: string
  version: number
  stage: string
  aliases: string[]
  runId: string
}

export interface PrReportOptions {
  /** The branch the PR merges into, e.g. `origin/main`. */
  base: string
  /** The PR's tip. @default 'HEAD' */
  head?: string
  /** The PR's branch name, to find runs whose commit this clone doesn't have. @default the branch `head` names (the CLI falls back to $GITHUB_HEAD_REF) */
  headBranch?: string
  /** The published site (`labbook site build`), to link runs and comparisons. */
  siteUrl?: string
  /** Only runs of this experiment (its id; the CLI resolves names). @default every experiment, each judged on its own */
  experiment?: string
  /** Goals, noise floors, primary metrics, seed params (labbook.config.yaml: `loadConfig`). */
  goals?: JudgeConfig
  /** Judge these metrics instead of each experiment's primary metrics. */
  metrics?: string[]
}

export type { PrMatch } from './pr-runs.js'
export type { ExperimentVerdict, ParamDiff, PrExperiment, PrGroup, PrMetric, PrSeriesPoint } from './pr-experiment.js'

export interface PrRunRef {
  id: string
  name: string
  experiment: string
  status: RunStatus
  startTime: number
  endTime?: number
  /** The commit the run recorded (may be a pre-rebase commit). */
  commit?: string
  /** The worktree had uncommitted changes when the run started. */
  dirty?: boolean
  /** The PR commit the run belongs to (same as `commit`, or the rebased commit with the same patch-id). */
  prCommit?: string
  match?: PrMatch
  /** Site page of the run, when a site URL was given. */
  url?: string
}

export interface PrCommit {
  commit: string
  subject: string
  /** Ids of the PR runs on this commit. */
  runs: string[]
}

/** Over the judged experiments: `inconclusive` when no primary metric is clearly better or worse. */
export type Verdict = 'better' | 'worse' | 'mixed' | 'inconclusive' | 'no-baseline' | 'no-results' | 'no-runs'

export interface PrReport {
  version: typeof PR_REPORT_VERSION
  base: { ref: string; commit: string }
  head: { ref: string; commit: string; branch?: string }
  /** undefined when base and head share no history. */
  mergeBase?: string
  commits: PrCommit[]
  /** The PR's runs, oldest commit first, then by start time. */
  runs: PrRunRef[]
  /** Runs of the base branch's first-parent history up to the merge-base (every experiment), for the footer. */
  baselineRuns: number
  /** One entry per experiment with runs on either side: judged when both sides have runs, listed otherwise. */
  experiments: PrExperiment[]
  /** PR runs that ended FAILED or KILLED. */
  failed: PrRunRef[]
  /** Model versions registered from the PR's runs, with their stage and aliases now; absent when none. */
  models?: PrModelVersion[]
  verdict: Verdict
  siteUrl?: string
}

/**
 * Builds the report for a pull request: per experiment, the PR's best group of runs against the base branch's best.
 * @example const report = await buildPrReport(book, { base: 'origin/main', goals: loadConfig(book.repo) })
 */
export async function buildPrReport(book: PrReportSource, o: PrReportOptions): Promise<PrReport> {
  const repo = book.repo
  const headRef = o.head ?? 'HEAD'
  const [baseCommit, headCommit] = await Promise.all([resolveCommit(repo, o.base, 'Base'), resolveCommit(repo, headRef, 'Head')])
  const headBranch = o.headBranch ?? (await branchNameOf(repo, headRef))
  const [runs, experiments] = await Promise.all([
    book.listRuns(o.experiment === undefined ? undefined : { experiment: o.experiment }),
    book.listExperiments ? book.listExperiments() : Promise.resolve([] as Experiment[]),
  ])
  const { mergeBase: base, commits, pr: prEntries, base: baseRuns } = await partitionRuns(repo, runs, { base: baseCommit, head: headCommit, headBranch })
  const site = o.siteUrl ? o.siteUrl.replace(/\/+$/, '') : undefined
  const position = new Map(commits.map((c, i) => [c.commit, i]))

  const ref = (r: RunSummary, prCommit?: string, match?: PrMatch): PrRunRef => ({
    id: r.id, name: r.name, experiment: r.experiment, status: r.status, startTime: r.startTime,
    ...(r.endTime === undefined ? {} : { endTime: r.endTime }),
    ...(r.source?.commit ? { commit: r.source.commit } : {}),
    ...(r.source?.dirty ? { dirty: true } : {}),
    ...(prCommit ? { prCommit } : {}),
    ...(match ? { match } : {}),
    ...(site ? { url: `${site}/runs/${encodeURIComponent(r.id)}/` } : {}),
  })
  const prCommits: PrCommit[] = commits.map((c) => ({ commit: c.commit, subject: c.subject, runs: [] }))
  for (const e of prEntries) if (e.prCommit) prCommits[position.get(e.prCommit)!]!.runs.push(e.run.id)

  const known = new Map(experiments.map((e) => [e.id, e]))
  const ids = [...new Set([...prEntries.map((e) => e.run.experiment), ...baseRuns.map((r) => r.experiment)])]
  const judged = ids.map((id) => judgePrExperiment({
    experiment: known.get(id) ?? { id, name: id, tags: {} },
    base: baseRuns.filter((r) => r.experiment === id),
    pr: prEntries.filter((e) => e.run.experiment === id),
    config: o.goals,
    ...(o.metrics ? { metrics: o.metrics } : {}),
    commitOrder: position,
  }))
  for (const e of judged) {
    const url = site && e.baseline && e.pr ? compareUrl(site, e) : undefined
    if (url) e.compareUrl = url
  }
  // Experiments the PR touched first (by name), then those only the base has.
  judged.sort((a, b) => Number(b.prRuns > 0) - Number(a.prRuns > 0) || a.name.localeCompare(b.name) || (a.id < b.id ? -1 : 1))

  const prRunIds = new Set(prEntries.map((e) => e.run.id))
  const models: PrModelVersion[] = []
  for (const rec of book.listModels ? await book.listModels() : []) {
    for (const v of liveVersions(rec)) {
      if (v.runId && prRunIds.has(v.runId)) models.push({ model: rec.model.name, version: v.version, stage: v.stage, aliases: aliasesOf(rec, v), runId: v.runId })
    }
  }

  return {
    version: PR_REPORT_VERSION,
    base: { ref: o.base, commit: baseCommit },
    head: { ref: headRef, commit: headCommit, ...(headBranch ? { branch: headBranch } : {}) },
    ...(base ? { mergeBase: base } : {}),
    commits: prCommits,
    runs: prEntries.map((e) => ref(e.run, e.prCommit, e.match)),
    baselineRuns: baseRuns.length,
    experiments: judged,
    failed: prEntries.filter((e) => e.run.status === 'FAILED' || e.run.status === 'KILLED').map((e) => ref(e.run, e.prCommit, e.match)),
    ...(models.length ? { models } : {}),
    verdict: overallVerdict(prEntries.length, judged),
    ...(site ? { siteUrl: site } : {}),
  }
}

function overallVerdict(nRuns: number, experiments: PrExperiment[]): Verdict {
  if (nRuns === 0) return 'no-runs'
  const touched = experiments.filter((e) => e.prRuns > 0)
  if (touched.every((e) => e.verdict === 'no-results')) return 'no-results'
  const judged = touched.filter((e) => e.verdict !== 'no-results' && e.verdict !== 'no-baseline')
  if (judged.length === 0) return 'no-baseline'
  const better = judged.some((e) => e.verdict === 'better' || e.verdict === 'mixed'), worse = judged.some((e) => e.verdict === 'worse' || e.verdict === 'mixed')
  return better && worse ? 'mixed' : better ? 'better' : worse ? 'worse' : 'inconclusive'
}

/** A primary metric src/judge found worse, with its experiment. */
export interface Regression {
  experiment: PrExperiment
  metric: PrMetric
}

/**
 * The primary metrics judged `worse` (never informational ones, never `inconclusive`): the CI gate of `--fail-on-regression`.
 * @example if (regressions(report).length) process.exitCode = 1
 */
export function regressions(report: PrReport): Regression[] {
  return report.experiments.flatMap((experiment) => experiment.metrics.filter((m) => m.primary && m.verdict === 'worse').map((metric) => ({ experiment, metric })))
}

/** The site's compare page for an experiment's baseline group and PR group (their best runs first, at most 50 runs). */
function compareUrl(site: string, e: PrExperiment): string {
  const ids = [...new Set([e.baseline!.best.id, e.pr!.best.id, ...e.baseline!.runs, ...e.pr!.runs])].slice(0, 50)
  return `${site}/compare/?runs=${ids.map(encodeURIComponent).join(',')}`
}
