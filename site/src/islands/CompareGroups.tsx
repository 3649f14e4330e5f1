/**
 * Compare groups of repeats side by side: per metric each group's mean ± 95% CI, n and range, and src/judge's verdict of
 * every group against the first (Welch interval and min_effect: the rule `labbook report` uses, never a raw delta),
 * then the groups' curves with bands. The address holds the groups: `?g=id1,id2,…&l=label&g=…&l=…`.
 */
import { useEffect, useMemo, useState } from 'react'
import type { JudgeData, MetricFile, TableRun } from 'labbook-lib/site/browser/snapshot.js'
import { ineligible, judgeDifference, metricGoal, primaryMetrics, scoreGroup, type MetricVerdict, type RunGroup, type SampleStats } from 'labbook-lib/judge/index.js'
import { halfWidth } from 'labbook-lib/site/browser/table-view.js'
import { colorOf } from 'labbook-lib/site/browser/charts/palette.js'
import { fmtAt, fmtNumber } from 'labbook-lib/site/browser/display.js'
import GroupCharts from './GroupCharts'
import { getJson, siteUrl } from './url'
import { keyedRun } from 'labbook-lib/site/browser/run-view.js'

const ID = /^[A-Za-z0-9_-]{1,100}$/
type GRun = TableRun & { metricFiles: MetricFile[] }
interface Wanted { label: string; ids: string[] }

/** The groups the address names (at most 8, 100 runs each); a group without a label is called by its position. */
export function wantedGroups(search: string): Wanted[] {
  const q = new URLSearchParams(search)
  const labels = q.getAll('l')
  return q.getAll('g').slice(0, 8).map((g, i) => ({
    label: (labels[i] ?? '').trim().slice(0, 200) || `group ${i + 1}`,
    ids: [...new Set(g.split(',').map((s) => s.trim()).filter((s) => ID.test(s)))].slice(0, 100),
  })).filter((w) => w.ids.length > 0)
}

export default function CompareGroups() {
  const [wanted] = useState(() => wantedGroups(location.search))
  const [groups, setGroups] = useState<{ label: string; runs: GRun[] }[] | null>(null)
  const [judge, setJudge] = useState<JudgeData>({ config: {}, experiments: {} })
  const [errors, setErrors] = useState<string[]>([])
  useEffect(() => {
    getJson<JudgeData>('data/judge.json').then(setJudge, () => {})
    Promise.all(wanted.map(async (w) => {
      const res = await Promise.allSettled(w.ids.map((id) => getJson<GRun>(`data/runs/${id}.json`)))
      const runs: GRun[] = []
      res.forEach((r, i) => (r.status === 'fulfilled' ? runs.push(keyedRun(r.value)) : setErrors((e) => [...e, `Run ${w.ids[i]} is not in this site.`])))
      return { label: w.label, runs }
    })).then(setGroups, (e: unknown) => setErrors((x) => [...x, `Could not show the groups: ${String(e)}`]))
  }, [wanted])

  const experiments = useMemo(() => new Set((groups ?? []).flatMap((g) => g.runs.map((r) => r.experiment))), [groups])
  const oneExperiment = experiments.size === 1 ? [...experiments][0]! : undefined
  const ctx = useMemo(() => ({ config: judge.config, tags: oneExperiment ? judge.experiments[oneExperiment] ?? {} : {} }), [judge, oneExperiment])
  const table = useMemo(() => {
    if (!groups) return null
    const all = groups.flatMap((g) => g.runs)
    const primary = primaryMetrics(all, ctx)
    const keys = [...new Set(all.flatMap((r) => Object.keys(r.metrics)))].sort()
    const ordered = [...primary, ...keys.filter((k) => !primary.includes(k) && metricGoal(k, ctx).goal), ...keys.filter((k) => !primary.includes(k) && !metricGoal(k, ctx).goal)]
    return { primary, rows: ordered.map((key) => {
      const mg = metricGoal(key, ctx)
      const stats: Array<SampleStats | undefined> = groups.map((g, i) => {
        const rg: RunGroup<GRun> = { key: String(i), experiment: oneExperiment ?? '', label: {}, runs: g.runs }
        return scoreGroup(rg, key, mg.goal ?? 'maximize').stats
      })
      // Judgement never mixes experiments, and informational metrics have no verdict.
      const verdicts: Array<MetricVerdict | undefined> = stats.map((s, i) => (i === 0 || !mg.goal || !oneExperiment ? undefined : judgeDifference(stats[0], s, mg.goal, mg.minEffect)))
      return { key, goal: mg.goal, minEffect: mg.minEffect, primary: primary.includes(key), stats, verdicts }
    }) }
  }, [groups, ctx, oneExperiment])

  if (wanted.length < 2) return <p>Group an experiment's table (<b>Group by</b>), tick two or more group rows and press <b>Compare groups</b>. The address then lists each group's runs: <code>compare/groups/?g=id1,id2&amp;g=id3,id4</code>.</p>
  if (!groups || !table) return <p className="muted">Loading {wanted.length} groups…</p>
  const judged = table.rows.filter((r) => r.goal)
  const info = table.rows.filter((r) => !r.goal)
  const head = (
    <thead><tr><th>Metric</th><th>Goal</th>{groups.map((g, i) => <th key={i} className="num group-head"><i className="swatch" style={{ background: colorOf(i) }} />{g.label}<br /><span className="muted">{i === 0 ? 'baseline: mean ± 95% CI' : 'mean ± 95% CI · verdict vs baseline'}</span></th>)}</tr></thead>
  )
  const row = (r: (typeof table.rows)[number]) => (
    <tr key={r.key} data-metric={r.key} className={r.primary ? 'primary-row' : undefined}>
      <th className="mono">{r.key}{r.primary && <span className="muted"> (primary)</span>}</th>
      <td className="goal">{r.goal === 'minimize' ? '↓ min' : r.goal === 'maximize' ? '↑ max' : '· info'}{r.minEffect !== undefined && <span className="muted"> (min_effect {fmtNumber(r.minEffect)})</span>}</td>
      {r.stats.map((s, i) => <StatCell key={i} s={s} v={r.verdicts[i]} group={groups[i]!.label} />)}
    </tr>
  )
  return (
    <div className="compare-groups">
      {errors.map((e) => <p className="error" key={e}>{e}</p>)}
      {!oneExperiment && <p className="error">These groups come from {experiments.size} experiments: their statistics are shown, but labbook judges only within one experiment.</p>}
      <div className="legend">{groups.map((g, i) => <span key={i} data-group-label={g.label}><i style={{ background: colorOf(i) }} />{g.label} <span className="muted">({g.runs.length} runs: {g.runs.slice(0, 6).map((r, j) => <span key={r.id}>{j > 0 && ', '}<a href={siteUrl(`runs/${r.id}/`)}>{r.name || r.id.slice(0, 8)}</a></span>)}{g.runs.length > 6 ? ', …' : ''})</span></span>)}</div>
      <p className="muted small">Each group's statistics count only its FINISHED runs with a finite value. The verdict compares each group with the first by Welch's 95% interval of the difference (and min_effect when configured): better or worse only when the interval excludes zero, else inconclusive, as in <code>labbook report</code>.</p>
      <div className="scroll"><table className="groups-cmp">{head}<tbody>{judged.map(row)}</tbody></table></div>
      {info.length > 0 && <details className="system-metrics"><summary>Informational metrics ({info.length})</summary><div className="scroll"><table className="groups-cmp">{head}<tbody>{info.map(row)}</tbody></table></div></details>}
      <GroupCharts groups={groups.map((g) => ({ label: g.label, runs: g.runs.filter((r) => ineligible(r) === undefined).map((r) => r.id) })).filter((g) => g.runs.length > 0)} metrics={table.primary.length ? table.primary : judged.slice(0, 2).map((r) => r.key)} />
    </div>
  )
}

function StatCell({ s, v, group }: { s: SampleStats | undefined; v: MetricVerdict | undefined; group: string }) {
  if (!s) return <td className="num muted" data-group={group} title="no eligible run">–</td>
  const h = halfWidth(s)
  return (
    <td className="num" data-group={group} title={`n=${s.n} · std ${s.std} · min ${s.min} · max ${s.max}`}>
      {fmtAt(s.mean, h)}{h !== undefined && <span className="muted"> ± {fmtAt(h, h)}</span>} <span className="muted">n={s.n}</span>
      {v && <div className={`verdict v-${v.verdict}`} data-verdict={v.verdict} title={v.reason}>
        {v.verdict}{v.diff !== undefined && <DiffText diff={v.diff} ci={v.ci} />}
      </div>}
    </td>
  )
}

/** Δ with its 95% interval, at the precision the interval supports. */
export function DiffText({ diff, ci }: { diff: number; ci?: [number, number] }) {
  const h = ci ? (ci[1] - ci[0]) / 2 : undefined
  return <span className="muted"> Δ {diff > 0 ? '+' : ''}{fmtAt(diff, h)}{ci && <> [{fmtAt(ci[0], h)}, {fmtAt(ci[1], h)}]</>}</span>
}
