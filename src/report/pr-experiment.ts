/**
 * One experiment of a pull-request report: the baseline group (best eligible group on the base branch), the PR's best
 * eligible group, and per metric their statistics and src/judge's verdict. Experiments are never mixed. Browser-safe.
 */
import type { Experiment } from '../model/experiment.js'
import type { ParamValue, RunSummary } from '../model/run.js'
import {
  bestGroupOf, codeCommit, compareValues, eligibleValue, type Goal, type GoalSource, type GroupScore, judgeDifference, type JudgeConfig, metricGoal,
  primaryMetrics, type SampleStats, scoreGroup, type Verdict, describe,
} from '../judge/index.js'
import { asText } from '../query/fields.js'

/** What the report knows about one PR run (filled in by pr-report.ts). */
export interface PrSeriesPoint {
  /** Short commit id, or the run name when the PR's runs share one commit. */
  label: string
  value: number
}

/** A side of the comparison: the group src/judge picked, by the experiment's first primary metric. */
export interface PrGroup {
  /** What its runs share: params without seed params (or the labbook.group tag). */
  label: Record<string, string>
  /** The code commit the group ran on (groups never span commits). */
  commit?: string
  /** Member run ids (eligible or not), oldest first. */
  runs: string[]
  /** Its best eligible member on the first primary metric. */
  best: { id: string; name: string }
}

export interface PrMetric {
  key: string
  /** undefined: informational (telemetry or `goal: none`). */
  goal?: Goal
  goalSource: GoalSource
  /** Judged for the verdict (a primary metric); the others are informational, shown collapsed. */
  primary: boolean
  /** The metric over the baseline group's eligible runs. */
  baseline?: SampleStats
  /** The metric over the PR group's eligible runs. */
  pr?: SampleStats
  /** mean(PR) − mean(baseline). */
  diff?: number
  /** Welch 95% interval of `diff` (both sides with ≥ 2 runs). */
  ci?: [number, number]
  /** diff / |mean(baseline)| × 100. */
  relative?: number
  minEffect?: number
  /** src/judge's verdict; absent for metrics without a goal. */
  verdict?: Verdict
  reason?: string
  /** PR values along its commits (best eligible run of each), for the chart. */
  series: PrSeriesPoint[]
}

export interface ParamDiff {
  key: string
  baseline?: string
  pr?: string
}

/** `no-baseline`: nothing eligible on the base side; `no-results`: the PR's runs of it have no eligible value; `no-pr-runs`: listed, not judged. */
export type ExperimentVerdict = 'better' | 'worse' | 'mixed' | 'inconclusive' | 'no-baseline' | 'no-results' | 'no-pr-runs'

export interface PrExperiment {
  id: string
  name: string
  verdict: ExperimentVerdict
  /** Eligible runs on the base side (FINISHED, first-parent history up to the merge-base). */
  baselineRuns: number
  /** The PR's runs of this experiment (any status). */
  prRuns: number
  baseline?: PrGroup
  pr?: PrGroup
  /** Primary metrics first (in order), then informational ones by name. */
  metrics: PrMetric[]
  /** Params that differ between the baseline group's and the PR group's configurations. */
  params: ParamDiff[]
  /** Site compare page of both groups' runs (best runs first), when a site URL was given. */
  compareUrl?: string
}

export interface JudgeExperimentInput {
  experiment: Pick<Experiment, 'id' | 'name' | 'tags'>
  base: readonly RunSummary[]
  /** The PR's runs, each with the PR commit it belongs to (undefined for a match by branch). */
  pr: ReadonlyArray<{ run: RunSummary; prCommit?: string }>
  config?: JudgeConfig
  /** Judge these metrics instead of the primary ones (`--metrics`). */
  metrics?: string[]
  /** PR commits in order (for the series). */
  commitOrder: ReadonlyMap<string, number>
}

/**
 * Judges one experiment of a PR: baseline group vs PR group per metric, with src/judge's verdicts.
 * @example judgePrExperiment({ experiment, base, pr, config, commitOrder })
 */
export function judgePrExperiment(i: JudgeExperimentInput): PrExperiment {
  const { experiment: e, base, pr } = i
  const ctx = { config: i.config, tags: e.tags ?? {} }
  // The PR commit of each PR run ('branch' for a match by branch): usually one for all, else looked up by run id
  const prRuns: RunSummary[] = new Array(pr.length)
  const one = pr[0]?.prCommit ?? 'branch'
  let prCommitOf: Map<string, string> | undefined
  for (let k = 0; k < pr.length; k++) {
    const x = pr[k]!
    prRuns[k] = x.run
    if (!prCommitOf && (x.prCommit ?? 'branch') !== one) prCommitOf = new Map(pr.slice(0, k).map((y) => [y.run.id, one]))
    prCommitOf?.set(x.run.id, x.prCommit ?? 'branch')
  }
  const prCommit = (r: { id: string }) => (prCommitOf ? prCommitOf.get(r.id) ?? '' : one)
  const out: PrExperiment = { id: e.id, name: e.name, verdict: 'no-pr-runs', baselineRuns: finished(base), prRuns: pr.length, metrics: [], params: [] }
  if (pr.length === 0) return out
  const all = [...base, ...prRuns]
  const primary = i.metrics?.length
    ? i.metrics.filter((k) => metricGoal(k, ctx).goal !== undefined && all.some((r) => Object.hasOwn(r.metrics, k)))
    : primaryMetrics(all, ctx)
  const lead = primary[0]
  const leadGoal = lead ? metricGoal(lead, ctx).goal! : 'maximize'
  // Each side's best group (only built when there is a metric to rank by); base groups split by code commit, the PR's by PR commit
  const b = lead ? bestGroupOf(base, lead, leadGoal, { config: i.config, split: codeCommit }) : undefined
  const p = lead ? bestGroupOf(prRuns, lead, leadGoal, { config: i.config, split: prCommit }) : undefined
  if (b) out.baseline = groupRef(b, b.group.runs[0]?.source?.commit)
  if (p) { const c = prCommit(p.group.runs[0]!); out.pr = groupRef(p, c === 'branch' ? p.group.runs[0]!.source?.commit : c) }

  const shown = new Set<string>()
  for (const g of [b, p]) for (const r of g?.group.runs ?? []) for (const k in r.metrics) shown.add(k)
  if (!p) for (const r of prRuns) for (const k in r.metrics) shown.add(k)
  const informational = [...shown].filter((k) => !primary.includes(k)).sort()
  for (const key of [...primary, ...informational]) {
    const mg = metricGoal(key, ctx)
    const m: PrMetric = { key, ...(mg.goal ? { goal: mg.goal } : {}), goalSource: mg.source, primary: primary.includes(key), series: series(pr, key, mg.goal, i.commitOrder) }
    const bs = b ? sideStats(b, key, mg.goal) : undefined
    const ps = p ? sideStats(p, key, mg.goal) : undefined
    if (bs) m.baseline = bs
    if (ps) m.pr = ps
    if (mg.goal) {
      const v = judgeDifference(bs, ps, mg.goal, mg.minEffect)
      m.verdict = v.verdict
      m.reason = v.reason
      if (v.diff !== undefined) m.diff = v.diff
      if (v.ci) m.ci = v.ci
      if (v.relative !== undefined) m.relative = v.relative
      if (v.minEffect !== undefined) m.minEffect = v.minEffect
    } else if (bs && ps) {
      m.diff = ps.mean - bs.mean
      if (bs.mean !== 0) m.relative = (m.diff / Math.abs(bs.mean)) * 100
    }
    if (m.baseline || m.pr) out.metrics.push(m)
  }
  if (b && p) out.params = paramDiff(b.group.label, p.group.label)
  out.verdict = experimentVerdict(out)
  return out
}

function groupRef(s: GroupScore<RunSummary>, commit: string | undefined): PrGroup {
  return { label: s.group.label, ...(commit ? { commit } : {}), runs: s.group.runs.map((r) => r.id), best: { id: s.best!.id, name: s.best!.name } }
}

function sideStats(s: GroupScore<RunSummary>, key: string, goal: Goal | undefined): SampleStats | undefined {
  if (goal) return scoreGroup(s.group, key, goal).stats
  const values = s.group.runs.flatMap((r) => { const v = eligibleValue(r, key); return v === undefined ? [] : [v] })
  return describe(values)
}

function experimentVerdict(e: PrExperiment): ExperimentVerdict {
  const judged = e.metrics.filter((m) => m.primary)
  if (!e.baseline) return 'no-baseline'
  if (!e.pr) return 'no-results'
  const better = judged.some((m) => m.verdict === 'better'), worse = judged.some((m) => m.verdict === 'worse')
  return better && worse ? 'mixed' : better ? 'better' : worse ? 'worse' : 'inconclusive'
}

/** How many of `runs` are FINISHED (counted, not filtered into an array). */
function finished(runs: readonly RunSummary[]): number {
  let n = 0
  for (const r of runs) if (r.status === 'FINISHED') n++
  return n
}

function series(entries: ReadonlyArray<{ run: RunSummary; prCommit?: string }>, key: string, goal: Goal | undefined, order: ReadonlyMap<string, number>): PrSeriesPoint[] {
  // One pass while the eligible runs share one PR commit (the usual case: a point per run); per commit otherwise.
  const points: PrSeriesPoint[] = []
  let commit: string | undefined, first = true
  for (const e of entries) {
    const v = eligibleValue(e.run, key)
    if (v === undefined) continue
    if (first) { commit = e.prCommit; first = false }
    else if (e.prCommit !== commit) return perCommit(entries, key, goal, order)
    points.push({ label: e.run.name || e.run.id.slice(0, 8), value: v })
  }
  return points
}

function perCommit(entries: ReadonlyArray<{ run: RunSummary; prCommit?: string }>, key: string, goal: Goal | undefined, order: ReadonlyMap<string, number>): PrSeriesPoint[] {
  const done = entries.filter((e) => eligibleValue(e.run, key) !== undefined)
  const out: PrSeriesPoint[] = []
  const at = new Map<string | undefined, number>()
  const sorted = done.sort((a, b) => (a.prCommit ? order.get(a.prCommit)! : Infinity) - (b.prCommit ? order.get(b.prCommit)! : Infinity))
  for (const e of sorted) {
    const v = e.run.metrics[key]!.value
    const idx = at.get(e.prCommit)
    if (idx === undefined) {
      at.set(e.prCommit, out.length)
      out.push({ label: e.prCommit ? e.prCommit.slice(0, 7) : 'branch', value: v })
    } else if (goal && compareValues(v, out[idx]!.value, goal) < 0) out[idx]!.value = v
  }
  return out
}

function paramDiff(a: Record<string, string | ParamValue>, b: Record<string, string | ParamValue>): ParamDiff[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
  const out: ParamDiff[] = []
  for (const k of keys) {
    const x = Object.hasOwn(a, k) ? asText(a[k]!) : undefined
    const y = Object.hasOwn(b, k) ? asText(b[k]!) : undefined
    if (x !== y) out.push({ key: k, ...(x === undefined ? {} : { baseline: x }), ...(y === undefined ? {} : { pr: y }) })
  }
  return out
}
