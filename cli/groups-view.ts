/** `ls --group-by`: one aggregated row per group of runs (src/judge groups and statistics), as a table or JSON. */
import type { RunSummary } from '../src/model/run.js'
import {
  bestRun, describe as describeSample, eligibleValue, groupRuns, type JudgeConfig, metricGoal, primaryMetrics, type RunGroup, type SampleStats,
} from '../src/judge/index.js'
import { type FieldRef, formatField, runValue } from '../src/query/index.js'
import type { CliIO } from './io.js'
import { colorsFor, formatNumber, renderTable, terminalWidth, type Column } from './output.js'
import type { ExperimentNames } from './runs-view.js'

/** `config` groups by params minus seed params (src/judge's rule); otherwise by the values of the listed fields. */
export type GroupBy = 'config' | FieldRef[]

export interface GroupRecord {
  experiment: string
  experimentId: string
  /** What the runs share: `{field: value}` for --group-by fields, the params without seeds for `config`. */
  key: Record<string, string>
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
  const primaryOf = new Map<string, string | undefined>()
  const out: GroupRecord[] = []
  for (const g of groups) {
    if (!primaryOf.has(g.experiment)) primaryOf.set(g.experiment, primaryMetrics(runs.filter((r) => r.experiment === g.experiment), { config })[0])
    const lead = primaryOf.get(g.experiment)
    const key: Record<string, string> = by === 'config' ? g.label
      : Object.fromEntries(by.map((f, i) => [formatField(f), (JSON.parse(g.label.by!) as (string | null)[])[i] ?? '']))
    const metrics: Record<string, SampleStats> = {}
    const keys = new Set<string>()
    for (const r of g.runs) for (const k in r.metrics) keys.add(k)
    for (const k of [...keys].sort()) {
      const values = g.runs.flatMap((r) => { const v = eligibleValue(r, k); return v === undefined ? [] : [v] })
      const s = describeSample(values)
      if (s) metrics[k] = s
    }
    const goal = lead ? metricGoal(lead, { config }).goal : undefined
    const top = lead && goal ? bestRun(g.runs, lead, goal) : undefined
    out.push({
      experiment: names.get(g.experiment) ?? g.experiment, experimentId: g.experiment, key, runs: g.runs.map((r) => r.id),
      finished: g.runs.filter((r) => r.status === 'FINISHED' && r.lifecycle !== 'deleted').length, metrics,
      best: top && lead ? { id: top.id, name: top.name, metric: lead, value: top.metrics[lead]!.value } : null,
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
  const primary = primaryMetrics(runs, { config })
  const count = new Map<string, number>()
  for (const r of records) for (const k in r.metrics) count.set(k, (count.get(k) ?? 0) + 1)
  const rank = (k: string) => { const i = primary.indexOf(k); return i < 0 ? primary.length : i }
  const metricKeys = [...count.keys()].filter((k) => metricGoal(k, { config }).goal !== undefined)
    .sort((a, b) => rank(a) - rank(b) || count.get(b)! - count.get(a)! || a.localeCompare(b)).slice(0, 4)
  const cols: Column[] = [
    ...(many ? [{ header: 'experiment', max: 20 } as Column] : []),
    { header: 'group', max: 40 },
    { header: 'n', right: true },
    ...metricKeys.map((k, i): Column => ({ header: `${k} (mean ± std)`, right: true, ...(i > 0 ? { optional: true } : {}) })),
    { header: 'best run', optional: true, max: 28 },
  ]
  const rows = records.map((r) => [
    ...(many ? [r.experiment] : []),
    Object.entries(r.key).map(([k, v]) => `${k}=${v}`).join(' ') || '(no params)',
    r.finished === r.runs.length ? String(r.runs.length) : `${r.finished}/${r.runs.length}`,
    ...metricKeys.map((k) => cell(r.metrics[k])),
    r.best ? `★ ${r.best.name}` : '',
  ])
  const table = renderTable(cols, rows, { width: terminalWidth(io), colors: c, dropped: (n) => `(+${n} column${n === 1 ? '' : 's'}: widen the terminal, or --json)` })
  return table + `${c.dim('n = finished runs / all; mean ± std over finished runs (src/judge); ★ the best finished run of the group.')}\n`
}
