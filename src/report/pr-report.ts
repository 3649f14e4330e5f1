/**
 * The pull-request report as data: which runs belong to the PR (by commit, by patch-id after a rebase, by branch),
 * the baseline on the base branch, and per primary metric the PR's best against the baseline's best.
 * Rendering lives in pr-markdown.ts; the CLI in cli/report.ts.
 */
import type { RunStatus, RunSummary } from '../model/run.js'
import type { ParamValue } from '../model/run.js'
import { asText } from '../query/fields.js'
import { type Goal, type GoalConfig, metricGoalInfo } from './goals.js'
import { branchNameOf, resolveCommit } from './pr-git.js'
import { partitionRuns, type PrMatch } from './pr-runs.js'

export const PR_REPORT_VERSION = 1

/** What the report reads: the code repository and the runs (a `Labbook` or anything shaped like it). */
export interface PrReportSource {
  readonly repo: string
  listRuns(o?: { experiment?: string }): Promise<RunSummary[]>
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
  /** Only runs of this experiment (name or id): metrics of different tasks that share a key should not be compared. @default every experiment */
  experiment?: string
  /** Goals and primary metrics (labbook.config.yaml: `loadGoalConfig`); without `primary`, every metric the PR's runs logged counts. */
  goals?: GoalConfig
}

export type { PrMatch } from './pr-runs.js'

export interface PrRunRef {
  id: string
  name: string
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

export interface PrMetricSide {
  value: number
  run: PrRunRef
}

/** `better`/`worse` by the goal; `same` when equal; `new` with no baseline; `missing` when no PR run has a number. */
export type MetricChange = 'better' | 'worse' | 'same' | 'new' | 'missing'

export interface PrSeriesPoint {
  /** Short commit id, or the run name when the PR's runs share one commit. */
  label: string
  value: number
}

export interface PrMetric {
  key: string
  goal: Goal
  goalSource: 'config' | 'inferred'
  baseline?: PrMetricSide
  pr?: PrMetricSide
  /** pr - baseline. */
  delta?: number
  /** (pr - baseline) / |baseline| × 100; undefined when the baseline is 0 or missing. */
  relative?: number
  change: MetricChange
  /** Best value per PR commit in commit order (per run when there is one commit), for the chart. */
  series: PrSeriesPoint[]
  /** Site compare page of the baseline run and the PR's best. */
  compareUrl?: string
}

export interface ParamDiff {
  key: string
  baseline?: string
  pr?: string
}

/** `no-results`: the PR has runs, but none finished with a metric. */
export type Verdict = 'better' | 'worse' | 'mixed' | 'same' | 'no-baseline' | 'no-results' | 'no-runs'

export interface PrReport {
  version: typeof PR_REPORT_VERSION
  base: { ref: string; commit: string }
  head: { ref: string; commit: string; branch?: string }
  /** undefined when base and head share no history. */
  mergeBase?: string
  commits: PrCommit[]
  /** The PR's runs, oldest commit first, then by start time. */
  runs: PrRunRef[]
  /** How many finished runs on the base branch's first-parent history (at or before the merge-base) were candidates for the baseline. */
  baselineRuns: number
  /** Primary metrics first in config order, then the rest by name. */
  metrics: PrMetric[]
  /** Params that differ between the baseline run and the PR's best run of the first metric. */
  params: ParamDiff[]
  paramsOf?: { baseline: PrRunRef; pr: PrRunRef; metric: string }
  /** PR runs that ended FAILED or KILLED. */
  failed: PrRunRef[]
  verdict: Verdict
  siteUrl?: string
}

/**
 * Builds the report for a pull request: the PR's runs against the best runs of the base branch.
 * @example const report = await buildPrReport(book, { base: 'origin/main', goals: await loadGoalConfig(book.repo) })
 */
export async function buildPrReport(book: PrReportSource, o: PrReportOptions): Promise<PrReport> {
  const repo = book.repo
  const headRef = o.head ?? 'HEAD'
  const [baseCommit, headCommit] = await Promise.all([resolveCommit(repo, o.base, 'Base'), resolveCommit(repo, headRef, 'Head')])
  const headBranch = o.headBranch ?? (await branchNameOf(repo, headRef))
  const runs = await book.listRuns(o.experiment === undefined ? undefined : { experiment: o.experiment })
  const { mergeBase: base, commits, pr: prEntries, base: baseRuns } = await partitionRuns(repo, runs, { base: baseCommit, head: headCommit, headBranch })
  const site = o.siteUrl ? o.siteUrl.replace(/\/+$/, '') : undefined
  const position = new Map(commits.map((c, i) => [c.commit, i]))

  const ref = (r: RunSummary, prCommit?: string, match?: PrMatch): PrRunRef => ({
    id: r.id, name: r.name, status: r.status, startTime: r.startTime,
    ...(r.endTime === undefined ? {} : { endTime: r.endTime }),
    ...(r.source?.commit ? { commit: r.source.commit } : {}),
    ...(r.source?.dirty ? { dirty: true } : {}),
    ...(prCommit ? { prCommit } : {}),
    ...(match ? { match } : {}),
    ...(site ? { url: `${site}/runs/${encodeURIComponent(r.id)}/` } : {}),
  })
  const prRefs = new Map(prEntries.map((e) => [e.run.id, ref(e.run, e.prCommit, e.match)]))
  const prRuns = prEntries.map((e) => e.run)

  const prCommits: PrCommit[] = commits.map((c) => ({ commit: c.commit, subject: c.subject, runs: [] }))
  for (const e of prEntries) if (e.prCommit) prCommits[position.get(e.prCommit)!]!.runs.push(e.run.id)

  const finishedPr = prRuns.filter((r) => r.status === 'FINISHED')
  const keys = metricKeys(finishedPr, o.goals)
  const metrics = keys.map((key): PrMetric => {
    const { goal, source } = metricGoalInfo(key, o.goals)
    const b = bestRun(baseRuns, key, goal)
    const p = bestRun(finishedPr, key, goal)
    const m: PrMetric = { key, goal, goalSource: source, change: 'missing', series: series(prEntries, key, goal, commits.length) }
    if (b) m.baseline = { value: b.metrics[key]!.value, run: ref(b) }
    if (p) m.pr = { value: p.metrics[key]!.value, run: prRefs.get(p.id)! }
    if (m.baseline && m.pr) {
      m.delta = m.pr.value - m.baseline.value
      if (m.baseline.value !== 0 && Number.isFinite(m.baseline.value)) m.relative = (m.delta / Math.abs(m.baseline.value)) * 100
      m.change = m.pr.value === m.baseline.value ? 'same' : (goal === 'maximize') === m.pr.value > m.baseline.value ? 'better' : 'worse'
      if (site) m.compareUrl = `${site}/compare/?runs=${encodeURIComponent(m.baseline.run.id)},${encodeURIComponent(m.pr.run.id)}`
    } else if (m.pr) m.change = 'new'
    return m
  })

  const lead = metrics.find((m) => m.baseline && m.pr)
  let params: ParamDiff[] = []
  let paramsOf: PrReport['paramsOf']
  if (lead) {
    const b = baseRuns.find((r) => r.id === lead.baseline!.run.id)!
    const p = prRuns.find((r) => r.id === lead.pr!.run.id)!
    params = paramDiff(b.params, p.params)
    paramsOf = { baseline: lead.baseline!.run, pr: lead.pr!.run, metric: lead.key }
  }

  return {
    version: PR_REPORT_VERSION,
    base: { ref: o.base, commit: baseCommit },
    head: { ref: headRef, commit: headCommit, ...(headBranch ? { branch: headBranch } : {}) },
    ...(base ? { mergeBase: base } : {}),
    commits: prCommits,
    runs: prEntries.map((e) => prRefs.get(e.run.id)!),
    baselineRuns: baseRuns.length,
    metrics,
    params,
    ...(paramsOf ? { paramsOf } : {}),
    failed: prEntries.filter((e) => e.run.status === 'FAILED' || e.run.status === 'KILLED').map((e) => prRefs.get(e.run.id)!),
    verdict: verdictOf(prRuns.length, metrics),
    ...(site ? { siteUrl: site } : {}),
  }
}

/** The configured primary metrics (in order) when any, else every metric the PR's finished runs logged, most logged first. */
function metricKeys(runs: readonly RunSummary[], goals?: GoalConfig): string[] {
  if (goals?.primary?.length) return [...new Set(goals.primary)]
  const count = new Map<string, number>()
  for (const r of runs) for (const k of Object.keys(r.metrics)) count.set(k, (count.get(k) ?? 0) + 1)
  return [...count.keys()].sort((a, b) => count.get(b)! - count.get(a)! || (a < b ? -1 : a > b ? 1 : 0))
}

function beats(a: number, b: number, goal: Goal): boolean {
  return goal === 'maximize' ? a > b : a < b
}

/** The run with the best latest value of `key` (NaN never wins; ties go to the earlier run, then the smaller id). */
function bestRun(runs: readonly RunSummary[], key: string, goal: Goal): RunSummary | undefined {
  let best: RunSummary | undefined
  for (const r of runs) {
    const m = r.metrics[key]
    if (!m || Number.isNaN(m.value)) continue
    if (!best) { best = r; continue }
    const v = m.value, bv = best.metrics[key]!.value
    if (beats(v, bv, goal) || (v === bv && (r.startTime < best.startTime || (r.startTime === best.startTime && r.id < best.id)))) best = r
  }
  return best
}

function series(entries: ReadonlyArray<{ run: RunSummary; prCommit?: string }>, key: string, goal: Goal, nCommits: number): PrSeriesPoint[] {
  const done = entries.filter((e) => e.run.status === 'FINISHED' && e.run.metrics[key] && !Number.isNaN(e.run.metrics[key]!.value))
  const groups = new Set(done.map((e) => e.prCommit))
  if (groups.size <= 1 || nCommits <= 1) return done.map((e) => ({ label: e.run.name || e.run.id.slice(0, 8), value: e.run.metrics[key]!.value }))
  const out: PrSeriesPoint[] = []
  const at = new Map<string | undefined, number>()
  for (const e of done) {
    const v = e.run.metrics[key]!.value
    const i = at.get(e.prCommit)
    if (i === undefined) {
      at.set(e.prCommit, out.length)
      out.push({ label: e.prCommit ? e.prCommit.slice(0, 7) : 'branch', value: v })
    } else if (beats(v, out[i]!.value, goal)) out[i]!.value = v
  }
  return out
}

function paramDiff(a: Record<string, ParamValue>, b: Record<string, ParamValue>): ParamDiff[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
  const out: ParamDiff[] = []
  for (const k of keys) {
    const x = Object.hasOwn(a, k) ? asText(a[k]!) : undefined
    const y = Object.hasOwn(b, k) ? asText(b[k]!) : undefined
    if (x !== y) out.push({ key: k, ...(x === undefined ? {} : { baseline: x }), ...(y === undefined ? {} : { pr: y }) })
  }
  return out
}

function verdictOf(nRuns: number, metrics: PrMetric[]): Verdict {
  if (nRuns === 0) return 'no-runs'
  if (!metrics.some((m) => m.pr)) return 'no-results'
  const compared = metrics.filter((m) => m.change === 'better' || m.change === 'worse' || m.change === 'same')
  if (compared.length === 0) return 'no-baseline'
  const better = compared.some((m) => m.change === 'better'), worse = compared.some((m) => m.change === 'worse')
  return better && worse ? 'mixed' : better ? 'better' : worse ? 'worse' : 'same'
}

/** How much worse a metric got, in percent of the baseline (Infinity when the baseline is 0); 0 when not worse. */
export function worsening(m: PrMetric): number {
  if (m.change !== 'worse') return 0
  return m.relative === undefined ? Infinity : Math.abs(m.relative)
}

/**
 * The metrics that got worse by more than `percent` percent of the baseline: the CI gate of `--fail-on-regression`.
 * @example if (regressions(report, 2).length) process.exitCode = 1
 */
export function regressions(report: PrReport, percent: number): PrMetric[] {
  return report.metrics.filter((m) => worsening(m) > percent)
}
