/** Compare 2–50 runs chosen in the table; the address (`?runs=a,b,c`) holds the selection so it can be shared. */
import { useEffect, useMemo, useState } from 'react'
import type { MetricFile, RunRow } from 'labbook-lib/site/browser/snapshot.js'
import type { Series } from 'labbook-lib/site/browser/charts/series.js'
import { lineChartSpec, seriesRows, type XAxis } from 'labbook-lib/site/browser/charts/line.js'
import { parallelRows, parallelSpec } from 'labbook-lib/site/browser/charts/parallel.js'
import { barSpec } from 'labbook-lib/site/browser/charts/bar.js'
import { scatterSpec, type ScatterRow } from 'labbook-lib/site/browser/charts/scatter.js'
import { colorOf } from 'labbook-lib/site/browser/charts/palette.js'
import { bestRun, metricGoal, type Goal } from 'labbook-lib/judge/index.js'
import type { JudgeData } from 'labbook-lib/site/browser/snapshot.js'
import { fmtNumber, fmtValue } from 'labbook-lib/site/browser/display.js'
import PlotFigure from './PlotFigure'
import DatasetsDiff from './DatasetsDiff'
import ImageSteps from './ImageSteps'
import type { ImageSeries } from 'labbook-lib/site/browser/image-steps.js'
import { getJson, getSeries, siteUrl } from './url'
import { keyedRun } from 'labbook-lib/site/browser/run-view.js'
import { keyed } from 'labbook-lib/model/run.js'
import { useLiveTick } from './live-channel'

type CRun = RunRow & { metricFiles: MetricFile[]; imageSeries?: ImageSeries[]; label: string }
const ID = /^[A-Za-z0-9_-]{1,100}$/

function selection(): string[] {
  const raw = new URLSearchParams(location.search).get('runs') ?? ''
  return [...new Set(raw.split(',').map((s) => s.trim()).filter((s) => ID.test(s)))].slice(0, 50)
}

export default function Compare() {
  const [ids] = useState(selection)
  const [runs, setRuns] = useState<CRun[] | null>(null)
  const [errors, setErrors] = useState<string[]>([])
  const [diffOnly, setDiffOnly] = useState(true)
  const [x, setX] = useState<XAxis>('step')
  const [logY, setLogY] = useState(false)
  const [smoothing, setSmoothing] = useState(0)
  const [fromZero, setFromZero] = useState(false)
  // maps keyed by metric names and run labels (user strings): no prototype (src/model/run.ts keyed)
  const [zoom, setZoom] = useState(() => keyed<[number, number]>())
  const [series, setSeries] = useState(() => keyed<Record<string, Series>>())
  const [pcMetric, setPcMetric] = useState('')
  const [sx, setSx] = useState('')
  const [sy, setSy] = useState('')
  // served live: runs and curves refetched after each change; selection, zoom and options are separate state and stay
  const tick = useLiveTick()

  useEffect(() => {
    Promise.allSettled(ids.map((id) => getJson<RunRow & { metricFiles: MetricFile[] }>(`data/runs/${id}.json`))).then((res) => {
      const ok: CRun[] = [], errs: string[] = []
      res.forEach((r, i) => (r.status === 'fulfilled' ? ok.push({ ...keyedRun(r.value), label: '' }) : errs.push(`Run ${ids[i]} is not in this site.`)))
      const count = new Map<string, number>()
      for (const r of ok) count.set(r.name, (count.get(r.name) ?? 0) + 1)
      for (const r of ok) r.label = !r.name ? r.id.slice(0, 8) : count.get(r.name)! > 1 ? `${r.name} (${r.id.slice(0, 6)})` : r.name
      setRuns(ok)
      setErrors(errs)
    }).catch((e: unknown) => setErrors([`Could not show the runs: ${String(e)}`]))
  }, [ids, tick])

  const [judge, setJudge] = useState<JudgeData>({ config: {}, experiments: {} })
  useEffect(() => { getJson<JudgeData>('data/judge.json').then(setJudge, () => {}) }, [])
  const shared = runs && new Set(runs.map((r) => r.experiment)).size === 1 ? judge.experiments[runs[0]!.experiment] : undefined
  const goalOf = (k: string) => metricGoal(k, { config: judge.config, tags: shared }).goal
  const metricKeys = useMemo(() => [...new Set((runs ?? []).flatMap((r) => Object.keys(r.metrics)))].sort(), [runs])
  const paramKeys = useMemo(() => [...new Set((runs ?? []).flatMap((r) => Object.keys(r.params)))].sort(), [runs])
  const differs = (k: string) => new Set((runs ?? []).map((r) => JSON.stringify(r.params[k] ?? null))).size > 1

  useEffect(() => {
    if (!runs) return
    // Series for the overlays: every shared metric, fetched in parallel; each file is already downsampled.
    const jobs = runs.flatMap((r) => r.metricFiles.map((m) => ({ r, m })))
    Promise.all(jobs.map(async ({ r, m }) => ({ r, key: m.key, s: await getSeries(m.file) }))).then((all) => {
      const out = keyed<Record<string, Series>>()
      for (const { r, key, s } of all) (out[key] ??= keyed())[r.label] = s
      setSeries(out)
    }, (e: Error) => setErrors((x) => [...x, e.message]))
    if (!pcMetric && metricKeys.length) setPcMetric(metricKeys[0]!)
    const diffParams = paramKeys.filter(differs)
    if (!sx) setSx(diffParams[0] ? `params.${diffParams[0]}` : metricKeys[1] ? `metrics.${metricKeys[1]}` : '')
    if (!sy && metricKeys.length) setSy(`metrics.${metricKeys[0]}`)
  }, [runs])

  const labels = useMemo(() => (runs ?? []).map((r) => r.label), [runs])
  const startTimes = useMemo(() => Object.fromEntries((runs ?? []).map((r) => [r.label, r.startTime])), [runs])
  // Specs are memoised: every chart redraws only when its own inputs change (50 runs × many metrics is heavy).
  useEffect(() => setZoom(keyed()), [x])
  // A metric every run logged once is a bar per run, not lines of one point each.
  const lineSpecs = useMemo(() => metricKeys.filter((k) => series[k]).map((k) => {
    const all = Object.entries(series[k]!)
    if (all.every(([, s]) => s.value.length <= 1)) {
      return { key: k, bar: true, spec: barSpec(all.filter(([, s]) => s.value.length === 1).map(([run, s]) => ({ run, value: s.value[0]! })), { title: k, runs: labels }) }
    }
    const rows = seriesRows(all.map(([run, s]) => ({ run, series: s })), { x, logY, startTimes })
    return { key: k, bar: false, spec: lineChartSpec(rows, { x, logY, smoothing, fromZero, xDomain: zoom[k], title: k, runs: labels, width: 560, height: 260 }) }
  }), [metricKeys, series, x, logY, smoothing, fromZero, zoom, startTimes, labels])
  const figure = ({ key, spec, bar }: (typeof lineSpecs)[number]) => (
    <figure key={key} data-metric={key} className={bar ? 'bars' : undefined}><figcaption>{key}{bar && <span className="muted"> (logged once per run)</span>}</figcaption><PlotFigure spec={spec} onZoom={bar ? undefined : (r) => setZoom((z) => { const n = keyed(z); if (r) n[key] = r; else delete n[key]; return n })} /></figure>
  )
  const pick = (r: CRun, field: string) => field.startsWith('params.') ? r.params[field.slice(7)] : field.startsWith('metrics.') ? r.metrics[field.slice(8)]?.value : undefined
  const pc = useMemo(() => {
    const axes = [...paramKeys.filter(differs).slice(0, 10).map((k) => `params.${k}`), ...(pcMetric ? [`metrics.${pcMetric}`] : [])]
    const rows = parallelRows((runs ?? []).map((r) => ({ run: r.label, values: Object.fromEntries(axes.map((a) => [a, pick(r, a)])) })), axes)
    return { axes, spec: axes.length > 1 ? parallelSpec(rows, { axes, runs: labels }) : null }
  }, [runs, paramKeys, pcMetric, labels])
  const scatter = useMemo(() => {
    const rows: ScatterRow[] = (runs ?? []).flatMap((r) => { const a = pick(r, sx), b = pick(r, sy); return a === undefined || b === undefined || typeof a === 'boolean' || typeof b === 'boolean' ? [] : [{ run: r.label, x: a, y: b }] })
    return rows.length ? scatterSpec(rows, { xLabel: sx, yLabel: sy, runs: labels }) : null
  }, [runs, sx, sy, labels])

  if (ids.length < 1) return <p>Select 2 to 50 runs in an experiment's table and press <b>Compare</b>. The address then lists them: <code>compare/?runs=id1,id2</code>.</p>
  if (!runs) return <p className="muted">Loading {ids.length} runs…</p>
  const shownParams = diffOnly ? paramKeys.filter(differs) : paramKeys
  const fields = [...paramKeys.map((k) => `params.${k}`), ...metricKeys.map((k) => `metrics.${k}`)]

  return (
    <div className="compare">
      {errors.map((e) => <p className="error" key={e}>{e}</p>)}
      <div className="legend">{runs.map((r, i) => <span key={r.id}><i style={{ background: colorOf(i) }} /><a href={siteUrl(`runs/${r.id}/`)}>{r.label}</a> <span className={`badge b-${r.status}`}>{r.status}</span></span>)}</div>

      <h2>Params</h2>
      <label><input type="checkbox" checked={diffOnly} onChange={(e) => setDiffOnly(e.target.checked)} /> differences only</label>
      <div className="scroll"><table className="params-diff">
        <thead><tr><th>Param</th>{runs.map((r) => <th key={r.id}>{r.label}</th>)}</tr></thead>
        <tbody>
          {shownParams.length === 0 && <tr><td colSpan={runs.length + 1} className="muted">{diffOnly ? 'All params are equal.' : 'No params.'}</td></tr>}
          {shownParams.map((k) => <tr key={k} className={!diffOnly && differs(k) ? 'diffrow' : undefined} data-param={k}><th className="mono">{k}</th>{runs.map((r) => <td key={r.id} className="wrap">{fmtValue(r.params[k])}</td>)}</tr>)}
        </tbody>
      </table></div>

      <DatasetsDiff runs={runs} />

      <h2>Metrics</h2>
      <div className="scroll"><table className="metrics-cmp">
        <thead><tr><th>Metric</th><th>Goal</th>{runs.map((r) => <th key={r.id} className="num">{r.label}<br /><span className="muted">latest (best)</span></th>)}</tr></thead>
        <tbody>{metricKeys.map((k) => {
          const goal: Goal | undefined = goalOf(k)
          const vals = runs.map((r) => r.metrics[k]?.value).filter((v): v is number => v !== undefined && !Number.isNaN(v))
          // The winner is src/judge's best run: FINISHED, not deleted, finite; a failed run's lucky value is never starred.
          const top = goal && vals.length > 1 ? bestRun(runs, k, goal) : undefined
          const win = top?.metrics[k]?.value
          return (
            <tr key={k} data-metric={k}><th className="mono">{k}</th><td>{goal === 'minimize' ? '↓ min' : goal === 'maximize' ? '↑ max' : '· info'}</td>
              {runs.map((r) => { const m = r.metrics[k]; if (!m) return <td key={r.id} />; const best = goal === 'minimize' ? m.min : m.max
                const star = win !== undefined && m.value === win && r.status === 'FINISHED' && r.lifecycle !== 'deleted'
                return <td key={r.id} className={`num${star ? ' winner' : ''}`}>{star ? '★ ' : ''}{fmtNumber(m.value)}{goal && <> <span className="muted">({fmtNumber(best)})</span></>}</td> })}
            </tr>)
        })}</tbody>
      </table></div>

      <div className="toolbar">
        <label>x <select value={x} onChange={(e) => setX(e.target.value as XAxis)}><option value="step">step</option><option value="wall">wall time</option><option value="relative">relative time</option></select></label>
        <label><input type="checkbox" checked={logY} onChange={(e) => setLogY(e.target.checked)} /> log y</label>
        <label><input type="checkbox" name="from-zero" checked={fromZero} onChange={(e) => setFromZero(e.target.checked)} /> y from zero</label>
        <label>smoothing <input type="range" min="0" max="0.99" step="0.01" value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} /></label>
        {Object.keys(zoom).length ? <button className="reset-zoom" onClick={() => setZoom(keyed())}>Reset zoom</button> : <span className="muted hint">drag across a chart to zoom; hover for every run's value</span>}
      </div>
      <div className="charts">{lineSpecs.filter((c) => !c.key.startsWith('system/')).map(figure)}</div>
      {lineSpecs.some((c) => c.key.startsWith('system/')) && (
        <details className="system-metrics"><summary>System metrics ({lineSpecs.filter((c) => c.key.startsWith('system/')).length})</summary>
          <div className="charts">{lineSpecs.filter((c) => c.key.startsWith('system/')).map(figure)}</div>
        </details>
      )}

      {runs.some((r) => r.imageSeries?.length) && <>
        <h2>Images by step</h2>
        <ImageSteps runs={runs.map((r) => ({ id: r.id, label: r.label, series: r.imageSeries ?? [] }))} />
      </>}

      {pc.spec && <>
        <h2>Params against a metric</h2>
        <label>metric <select value={pcMetric} onChange={(e) => setPcMetric(e.target.value)}>{metricKeys.map((k) => <option key={k} value={k}>{k}</option>)}</select></label>
        <figure className="parallel"><PlotFigure spec={pc.spec} /></figure>
      </>}

      {fields.length > 1 && <>
        <h2>Scatter</h2>
        <div className="toolbar">
          <label>x <select value={sx} onChange={(e) => setSx(e.target.value)}>{fields.map((f) => <option key={f} value={f}>{f}</option>)}</select></label>
          <label>y <select value={sy} onChange={(e) => setSy(e.target.value)}>{fields.map((f) => <option key={f} value={f}>{f}</option>)}</select></label>
        </div>
        {scatter ? <figure className="scatter"><PlotFigure spec={scatter} /></figure> : <p className="muted">No run has both values.</p>}
      </>}
    </div>
  )
}
