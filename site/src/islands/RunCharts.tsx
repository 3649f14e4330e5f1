/** A run's metric charts: x axis (step / wall time / relative), log scale, smoothing, full history on demand. */
import { useEffect, useMemo, useState } from 'react'
import type { MetricFile } from 'labbook-lib/site/snapshot.js'
import { decodeSeries, type Series, type SeriesFile } from 'labbook-lib/site/charts/series.js'
import { lineChartSpec, seriesRows, type XAxis } from 'labbook-lib/site/charts/line.js'
import { minMaxIndices } from 'labbook-lib/site/charts/downsample.js'
import PlotFigure from './PlotFigure'
import { getJson } from './url'

interface Props { metrics: MetricFile[]; startTime: number; label: string }

/** Full histories can hold a million points; draw at most this many (min/max-preserving), keep the rest for tips. */
const DRAW_LIMIT = 4000

function thin(s: Series): Series {
  if (s.value.length <= DRAW_LIMIT) return s
  const idx = minMaxIndices({ x: s.step, y: s.value }, DRAW_LIMIT)
  return { ...s, step: idx.map((i) => s.step[i]!), time: idx.map((i) => s.time[i]!), value: idx.map((i) => s.value[i]!) }
}

export default function RunCharts({ metrics, startTime, label }: Props) {
  const [x, setX] = useState<XAxis>('step')
  const [logY, setLogY] = useState(false)
  const [smoothing, setSmoothing] = useState(0)
  const [series, setSeries] = useState<Record<string, Series>>({})
  const [full, setFull] = useState<Record<string, boolean>>({})
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    Promise.all(metrics.map(async (m) => [m.key, decodeSeries(await getJson<SeriesFile>(m.file))] as const))
      .then((all) => { setSeries(Object.fromEntries(all)); const ssr = document.getElementById('ssr-charts'); if (ssr) ssr.hidden = true })
      .catch((e: Error) => setError(e.message))
  }, [metrics])

  const loadFull = async (m: MetricFile) => {
    if (!m.full) return
    const s = thin(decodeSeries(await getJson<SeriesFile>(m.full)))
    setSeries((old) => ({ ...old, [m.key]: s }))
    setFull((f) => ({ ...f, [m.key]: true }))
  }

  const specs = useMemo(() => metrics.map((m) => {
    const s = series[m.key]
    if (!s) return null
    const rows = seriesRows([{ run: label, series: s }], { x, logY, startTimes: { [label]: startTime } })
    return lineChartSpec(rows, { x, logY, smoothing, title: m.key, runs: [label], width: 560, height: 240 })
  }), [metrics, series, x, logY, smoothing, label, startTime])

  if (!metrics.length) return null
  return (
    <div className="run-charts">
      <div className="toolbar">
        <label>x <select value={x} onChange={(e) => setX(e.target.value as XAxis)}><option value="step">step</option><option value="wall">wall time</option><option value="relative">relative time</option></select></label>
        <label><input type="checkbox" checked={logY} onChange={(e) => setLogY(e.target.checked)} /> log y</label>
        <label>smoothing <input type="range" min="0" max="0.99" step="0.01" value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} /> <span className="mono">{smoothing.toFixed(2)}</span></label>
      </div>
      {error && <p className="error">{error}</p>}
      {Object.keys(series).length > 0 && (
        <div className="charts">
          {metrics.map((m, i) => (
            <figure key={m.key} data-metric={m.key}>
              <figcaption>{m.key} <span className="muted">({m.total.toLocaleString('en')} points{m.full && !full[m.key] ? ', drawn downsampled' : ''})</span></figcaption>
              <PlotFigure spec={specs[i] ?? null} />
              {m.full && !full[m.key] && <button onClick={() => void loadFull(m)}>Load full history</button>}
            </figure>
          ))}
        </div>
      )}
    </div>
  )
}
