/** `ls --group-by`: one aggregated row per group of runs (src/judge groups and statistics), as a table or JSON. */
import type { RunSummary } from '../src/model/run.js'
import {
  bestRun, describe as describeSample, describeOne, groupRuns, ineligible, type JudgeConfig, metricGoal, primaryMetrics, type RunGroup, type SampleStats, sortedKeys,
} from '../src/judge/index.js'
import { type FieldRef, formatField, runValue } from '../src/query/index.js'
import type { CliIO } from './io.js'
import { colorsFor, renderTable, terminalWidth, type Column } from './output.js'
import { formatNumber } from '../src/model/display-numbers.js'
import type { ExperimentNames } from './runs-view.js'
import { keyed } from '../src/model/run.js'

/** `config` groups by params minus seed params (src/judge's rule); otherwise by the values of the listed fields. */
export type GroupBy = 'config' | FieldRef[]

export interface GroupRecord {
  experiment: string
  experimentId: string
  /** What the runs share: `{field: value}` for --group-by fields, the params without seeds for `config`. */
  key: Record<string, string>
  /** `config` only: the code commit the runs share (src/judge: the same params on other code are not repeats); null when unknown. */
  commit?: string | null
  runs: string[]
  /** Runs that count (FINISHED, not deleted). */
  finished: number
  /** Per metric over the eligible runs: n, mean, std, min, max, ci (95% CI of the mean). */
  metrics: Record<string, SampleStats>
  /** The best eligible run on the experiment's first primary metric. */
  best: { id: string; name: string; metric: string; value: number } | null
}

/**
 * Groups runs (never across experiments) and summarises each group's metrics.
 * @example groupRecords(runs, [{ kind: 'param', key: 'lr' }], names, config)
 */
export function groupRecords(runs: RunSummary[], by: GroupBy, names: ExperimentNames, config: JudgeConfig = {}): GroupRecord[] {
  const keyOf = by === 'config' ? undefined : (r: RunSummary) => JSON.stringify(by.map((f) => { const v = runValue(r, f); return v === undefined ? null : String(v) }))
  const groups = groupRuns(runs, { config, ...(keyOf ? { by: (r) => keyOf(r as RunSummary) } : {}) }) as RunGroup<RunSummary>[]
  // The lead (first primary) metric and its goal, once per experiment, from one pass over the runs.
  const byExperiment = new Map<string, RunSummary[]>()
  for (const r of runs) {
    const list = byExperiment.get(r.experiment)
    if (list) list.push(r)
    else byExperiment.set(r.experiment, [r])
  }
  const leadOf = new Map<string, { key: string; goal: NonNullable<ReturnType<typeof metricGoal>['goal']> } | undefined>()
  for (const [id, list] of byExperiment) {
    const key = primaryMetrics(list, { config })[0]
    const goal = key === undefined ? undefined : metricGoal(key, { config }).goal
    leadOf.set(id, key !== undefined && goal ? { key, goal } : undefined)
  }
  const out: GroupRecord[] = []
  for (const g of groups) {
    const lead = leadOf.get(g.experiment)
    const key: Record<string, string> = by === 'config' ? g.label
      : Object.fromEntries(by.map((f, i) => [formatField(f), (JSON.parse(g.label.by!) as (string | null)[])[i] ?? '']))
    // One pass over the members: the eligible (FINISHED, not deleted) runs' finite values per metric (src/judge's
    // eligibility, as eligibleValue decides it), instead of one scan of the group per metric.
    const metrics = keyed<SampleStats>()
    let finished = 0
    if (g.runs.length === 1) {
      // One member (most groups when nothing repeats): its values are the statistics; no arrays, no map.
      const r = g.runs[0]!
      if (ineligible(r) === undefined) {
        finished = 1
        for (const k of sortedKeys(r.metrics)) {
          const v = r.metrics[k]!.value
          if (Number.isFinite(v)) metrics[k] = describeOne(v)
        }
      }
    } else {
      const values = new Map<string, number[]>()
      for (const r of g.runs) {
        if (ineligible(r) !== undefined) continue
        finished++
        for (const k in r.metrics) {
          const v = r.metrics[k]!.value
          if (!Number.isFinite(v)) continue
          const list = values.get(k)
          if (list) list.push(v)
          else values.set(k, [v])
        }
      }
      for (const k of [...values.keys()].sort()) metrics[k] = describeSample(values.get(k)!)!
    }
    // a single member is its group's best when it counts on the lead metric (bestRun's rule, without the loop)
    const top = !lead ? undefined : g.runs.length === 1 ? (finished && metrics[lead.key] ? g.runs[0] : undefined) : bestRun(g.runs, lead.key, lead.goal)
    out.push({
      experiment: names.get(g.experiment) ?? g.experiment, experimentId: g.experiment, key,
      commit: by === 'config' ? g.commit || null : undefined, runs: g.runs.length === 1 ? [g.runs[0]!.id] : g.runs.map((r) => r.id),
      finished, metrics,
      best: top && lead ? { id: top.id, name: top.name, metric: lead.key, value: top.metrics[lead.key]!.value } : null,
    })
  }
  return out
}

/** mean ± std, or the single value; empty when no eligible run has it. */
function cell(s: SampleStats | undefined): string {
  if (!s) return ''
  return s.n > 1 ? `${formatNumber(s.mean)} ± ${formatNumber(s.std)}` : formatNumber(s.mean)
}

/**
 * The aggregated table: group key, n (finished/all), mean ± std per metric (primary first, system/* left out), best run.
 * @example io.stdout.write(groupsTable(groupRecords(runs, 'config', names), io))
 */
export function groupsTable(records: GroupRecord[], runs: RunSummary[], io: CliIO, config: JudgeConfig = {}): string {
  const c = colorsFor(io.stdout, io.env)
  const many = new Set(records.map((r) => r.experimentId)).size > 1
  const withCommit = records.some((r) => r.commit)
  const primary = primaryMetrics(runs, { config })
  const count = new Map<string, number>()
  for (const r of records) for (const k in r.metrics) count.set(k, (count.get(k) ?? 0) + 1)
  const rank = (k: string) => { const i = primary.indexOf(k); return i < 0 ? primary.length : i }
  const metricKeys = [...count.keys()].filter((k) => metricGoal(k, { config }).goal !== undefined)
    .sort((a, b) => rank(a) - rank(b) || count.get(b)! - count.get(a)! || a.localeCompare(b)).slice(0, 4)
  const cols: Column[] = [
    ...(many ? [{ header: 'experiment', max: 20 } as Column] : []),
    { header: 'group', max: 40 },
    ...(withCommit ? [{ header: 'commit' } as Column] : []),
    { header: 'n', right: true },
    ...metricKeys.map((k, i): Column => ({ header: `${k} (mean ± std)`, right: true, ...(i > 0 ? { optional: true } : {}) })),
    { header: 'best run', optional: true, max: 28 },
  ]
  const rows = records.map((r) => [
    ...(many ? [r.experiment] : []),
    Object.entries(r.key).map(([k, v]) => `${k}=${v}`).join(' ') || '(no params)',
    ...(withCommit ? [r.commit ? r.commit.slice(0, 7) : ''] : []),
    r.finished === r.runs.length ? String(r.runs.length) : `${r.finished}/${r.runs.length}`,
    ...metricKeys.map((k) => cell(r.metrics[k])),
    r.best ? `★ ${r.best.name}` : '',
  ])
  const table = renderTable(cols, rows, { width: terminalWidth(io), colors: c, dropped: (n) => `(+${n} column${n === 1 ? '' : 's'}: widen the terminal, or --json)` })
  return table + `${c.dim('n = finished runs / all; mean ± std over finished runs (src/judge); ★ the best finished run of the group.')}\n`
}
