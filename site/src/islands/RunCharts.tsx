/**
 * A run's metric charts: x axis (step / wall time / relative), log scale, y from zero or fitted, smoothing,
 * drag-to-zoom on x (double-click resets; downsampled lines load their full history for the zoomed range), a metric
 * logged once shown as its value, system/* metrics in their own collapsed section.
 */
import { useEffect, useMemo, useRef, useState } from 'react'
import type { MetricFile } from 'labbook-lib/site/browser/snapshot.js'
import type { Series } from 'labbook-lib/site/browser/charts/series.js'
import { lineChartSpec, liveHeadroom, pointX, seriesRows, SPARSE_POINTS, tickNumber, type LineRow, type XAxis } from 'labbook-lib/site/browser/charts/line.js'
import type { PlotOptions } from '@observablehq/plot'
import { minMaxIndices } from 'labbook-lib/site/browser/charts/downsample.js'
import PlotFigure, { type LiveLine, type SpecOf } from './PlotFigure'
import { getJson, getSeries } from './url'
import { liveSeq, useLiveChange } from './live-channel'
import { appendTail, type RunTick, type TailJson } from 'labbook-lib/site/browser/live-tick.js'
import { liveRun } from './regions'
import { hydrationMark, useHydrated } from './hydrated'
import { keyed } from 'labbook-lib/model/run.js'

interface Props {
  metrics: MetricFile[]
  startTime: number
  label: string
  /** Served live: the run whose metric list and curves are refetched after each change (zoom and options stay). */
  runId?: string
  /**
   * Served live and RUNNING when rendered: the first charts already leave room for the next points (headroom), not
   * drawn once without it and again when the first change says the run logs.
   */
  running?: boolean
}

/** Full histories can hold a million points; draw at most this many (min/max-preserving), keep the rest for tips. */
const DRAW_LIMIT = 4000

function pick(s: Series, idx: number[]): Series {
  return { ...s, step: idx.map((i) => s.step[i]!), time: idx.map((i) => s.time[i]!), value: idx.map((i) => s.value[i]!) }
}

/** Points [from, to) of a series. */
function slice(s: Series, from: number, to: number): Series {
  return { ...s, step: s.step.slice(from, to), time: s.time.slice(from, to), value: s.value.slice(from, to) }
}

function thin(s: Series): Series {
  return thinTo(s, DRAW_LIMIT)
}

function thinTo(s: Series, limit: number): Series {
  if (s.value.length <= limit) return s
  return pick(s, minMaxIndices({ x: s.step, y: s.value }, limit))
}

/** What a drawn series was fetched for (its file and point count): fetched again when that moves. */
const want = (m: MetricFile) => `${m.file}\0${m.full ?? ''}\0${m.total}`

/** A chart's width (px). */
const WIDTH = 560
/**
 * Points of a growing line (a live run's, redrawn after each change): about two per pixel column of its plot area
 * (min and max), so the path the browser rebuilds and paints every second is no longer than the chart can show.
 */
const LIVE_POINTS = 1000

/** The points of a full history inside an x range (in the axis' units), thinned to the drawing limit. */
function inRange(s: Series, range: [number, number], x: XAxis, startTime: number): Series {
  const idx: number[] = []
  for (let i = 0; i < s.value.length; i++) { const v = pointX(s, i, x, startTime); if (v >= range[0] && v <= range[1]) idx.push(i) }
  return thin(pick(s, idx))
}

export const isSystemMetric = (key: string) => key.startsWith('system/')

export default function RunCharts({ metrics: initial, startTime, label, runId, running: runningAtRender = false }: Props) {
  const [metrics, setMetrics] = useState(initial)
  // served live and still logging: the charts leave room on x for the next points (lineChartSpec headroom)
  const [running, setRunning] = useState(runningAtRender)
  // its run's changes only (and the tip's), at most one refresh a second, at the version the table shows
  const change = useLiveChange(runId ? [runId] : undefined)
  const [x, setX] = useState<XAxis>('step')
  const [logY, setLogY] = useState(false)
  const [fromZero, setFromZero] = useState(false)
  const [smoothing, setSmoothing] = useState(0)
  // Per chart: a zoom applies to the chart it was dragged on (metrics logged at other steps would go blank).
  // keyed by metric names (user strings): no prototype, so a metric named `constructor` is not zoomed by Object's (src/model/run.ts keyed)
  const [zoom, setZoom] = useState(() => keyed<[number, number]>())
  const zoomed = Object.keys(zoom).length > 0
  const [series, setSeries] = useState(() => keyed<Series>())
  const [full, setFull] = useState(() => keyed<boolean>())
  const [error, setError] = useState<string | null>(null)
  const fullRaw = useRef(new Map<string, Series>())
  const asked = useRef(0)
  const drawn = useRef(0)
  // The toolbar is in the server's markup: inert until hydrated, or a choice made meanwhile is lost (hydrated.ts).
  const hydrated = useHydrated()

  // what the tick handler reads: this render's state (it runs from an effect, after the render)
  const latest = useRef({ metrics, series, full })
  latest.current = { metrics, series, full }

  /**
   * Redraws from the run's tick (pushed by the server, src/site/browser/live-tick.ts), asking for nothing: the metrics
   * table's numbers, the status, and each curve extended by its new points. False when the tick cannot say it all (a
   * new metric, or one past its sample's size that now has a full-history file): the run JSON is fetched instead. A
   * curve whose points in between were missed (or zoomed into its full history) is fetched on its own (`fetched`).
   */
  const fromTick = (t: RunTick, at: number): boolean => {
    const { metrics: have, series: drawnSeries, full: whole } = latest.current
    const runMetrics = t.run.metrics ?? {}
    if (Object.keys(runMetrics).length !== have.length || have.some((m) => !Object.hasOwn(runMetrics, m.key))) return false
    const next = have.map((m) => (Object.hasOwn(t.series, m.key) ? { ...m, total: t.series[m.key]!.n } : m))
    if (next.some((m) => m.total > t.maxPoints && !m.full)) return false
    if (!liveRun(t.run, at)) return true // an answer to an older change arrived later: it shows less
    const add = keyed<Series>()
    for (const m of next) {
      const tail = Object.hasOwn(t.series, m.key) ? t.series[m.key]! : undefined
      const cur = drawnSeries[m.key]
      if (!tail || !cur || whole[m.key]) continue
      // its series is being fetched to catch up: the tail waits for the answer
      const waiting = catching.current.get(m.key)
      if (waiting) { waiting.push({ tail, maxPoints: t.maxPoints }); fetched.current.set(m.key, want(m)); continue }
      const s = appendTail(cur, tail, t.maxPoints)
      // points in between were missed, or one came out of step order: fetched as the server has them now (the tick
      // was made after its event's version, so a fetch at that version would miss them again), and the ticks
      // meanwhile laid over the answer
      if (!s) { catchUp.current.add(m.key); continue }
      add[m.key] = s
      fetched.current.set(m.key, want(m))
    }
    setRunning(t.run.status === 'RUNNING')
    if (Object.keys(add).length) setSeries((old) => keyed({ ...old, ...add }))
    setMetrics((old) => (JSON.stringify(old) === JSON.stringify(next) ? old : next))
    return true
  }

  useEffect(() => {
    if (!change || !runId) return
    const at = liveSeq()
    const t = change.tip ? undefined : change.ticks?.[runId]
    if (t && fromTick(t, at)) return
    getJson<{ metricFiles: MetricFile[] } & Record<string, unknown>>(`data/runs/${runId}.json`).then((r) => {
      // the metrics table's numbers from the same answer as the headers' counts (an older answer arriving late: neither)
      if (!liveRun(r, at)) return
      setMetrics((old) => (JSON.stringify(old) === JSON.stringify(r.metricFiles) ? old : r.metricFiles))
      setRunning(r.status === 'RUNNING')
    }, () => {})
  }, [change, runId])

  // What each drawn series was fetched for (its file and point count): a refresh fetches only the series whose
  // count moved, after the run JSON said so (a run page with system metrics asked for every series every second)
  const fetched = useRef(new Map<string, string>())
  // the series to fetch at the server's latest version (fromTick), and while fetched, the tails that came meanwhile
  const catchUp = useRef(new Set<string>())
  const catching = useRef(new Map<string, Array<{ tail: TailJson; maxPoints: number }>>())
  const files = metrics.map((m) => `${m.key}\0${m.file}\0${m.full ?? ''}\0${m.total}`).join('\n')
  useEffect(() => {
    const changed = metrics.filter((m) => fetched.current.get(m.key) !== want(m))
    if (!changed.length) return
    // Requests overlap when changes come faster than answers (a run logging every 100 ms on a busy machine): draw every
    // answer newer than the one drawn, never drop them all as stale (that starved the chart).
    const seq = ++asked.current
    // a refresh of a line whose full history is drawn (zoomed in) refetches that history
    for (const m of changed) if (full[m.key]) fullRaw.current.delete(m.key)
    Promise.all(changed.map(async (m) => {
      const z = zoom[m.key]
      if (full[m.key] && m.full) { const s = await fetchFull(m); if (s) return [m.key, z ? inRange(s, z, x, startTime) : thin(s), want(m)] as const }
      const latest = catchUp.current.delete(m.key)
      if (latest) catching.current.set(m.key, [])
      return [m.key, await getSeries(m.file, { latest }), want(m)] as const
    }))
      .then((answers) => {
        // a catch-up's answer with the ticks' tails that came meanwhile (the tick handler already counted them)
        const all = answers.map(([k, s, w]) => {
          const tails = catching.current.get(k)
          catching.current.delete(k)
          let out = s
          for (const { tail, maxPoints } of tails ?? []) {
            const next = appendTail(out, tail, maxPoints)
            if (!next) { catchUp.current.add(k); break }
            out = next
          }
          return [k, out, tails?.length ? undefined : w] as const
        })
        if (seq < drawn.current) return
        drawn.current = seq
        for (const [k, , w] of all) if (w !== undefined) fetched.current.set(k, w)
        setSeries((old) => keyed({ ...old, ...Object.fromEntries(all.map(([k, s]) => [k, s])) })); const ssr = document.getElementById('ssr-charts'); if (ssr) ssr.hidden = true
      })
      .catch((e: Error) => { for (const m of changed) catching.current.delete(m.key); setError(e.message) })
  }, [files])

  const fetchFull = async (m: MetricFile): Promise<Series | undefined> => {
    if (!m.full) return undefined
    let s = fullRaw.current.get(m.key)
    if (!s) { s = await getSeries(m.full); fullRaw.current.set(m.key, s) }
    return s
  }
  const loadFull = async (m: MetricFile) => {
    const s = await fetchFull(m)
    if (!s) return
    const z = zoom[m.key]
    setSeries((old) => keyed({ ...old, [m.key]: z ? inRange(s, z, x, startTime) : thin(s) }))
    setFull((f) => keyed({ ...f, [m.key]: true }))
  }
  // Zoomed in on a downsampled line: its full history for the zoomed range, so the detail is really there.
  const zoomTo = (m: MetricFile, range: [number, number] | null) => {
    setZoom((z) => { const next = keyed(z); if (range) next[m.key] = range; else delete next[m.key]; return next })
    if (!range || !m.full) return
    void fetchFull(m).then((s) => {
      if (!s) return
      setSeries((old) => keyed({ ...old, [m.key]: inRange(s, range, x, startTime) }))
      setFull((f) => keyed({ ...f, [m.key]: true }))
    }).catch((e: Error) => setError(e.message))
  }
  useEffect(() => setZoom(keyed()), [x])

  // Per chart: its spec and, while the run logs (no zoom, no smoothing), its line for PlotFigure to redraw in place
  // when only the points changed. A spec is made again only for a series that changed (the others keep theirs).
  const made = useRef(new Map<string, { s: Series; opts: string; spec: SpecOf; line?: LiveLine }>())
  const specs = useMemo(() => keyed(Object.fromEntries(metrics.map((m) => {
    const s = series[m.key]
    if (!s || s.value.length <= 1) return [m.key, null]
    const grows = running && !zoom[m.key] && !smoothing
    const opts = JSON.stringify([x, logY, smoothing, fromZero, zoom[m.key], label, startTime, grows])
    const old = made.current.get(m.key)
    if (old && old.s === s && old.opts === opts) return [m.key, old]
    const rowsOf = (part: Series) => seriesRows([{ run: label, series: part }], { x, logY, startTimes: { [label]: startTime } })
    let rows: LineRow[] | undefined
    const all = () => (rows ??= rowsOf(grows ? thinTo(s, LIVE_POINTS) : s))
    let spec: PlotOptions | undefined
    const make = () => (spec ??= lineChartSpec(all(), { x, logY, smoothing, fromZero, xDomain: zoom[m.key], title: m.key, runs: [label], width: WIDTH, height: 240, headroom: grows ? liveHeadroom(s.time) : 0 }))
    // a growing line: PlotFigure extends it in place with the points past the last one it drew (`after`, from the
    // end of the series: a refresh makes no rows but those), and makes its rows and spec only when drawn anew
    const after = (lastX: number) => {
      let i = s.value.length
      // each point's x compared, not a row made per point walked back (that made each extension cost tens of ms)
      while (i > 0 && pointX(s, i - 1, x, startTime) > lastX) i--
      return rowsOf(slice(s, i, s.value.length))
    }
    const line = grows && s.value.length > SPARSE_POINTS ? { key: opts, width: WIDTH, rows: all, after } : undefined
    const made1 = { s, opts, spec: line ? make : make(), line }
    made.current.set(m.key, made1)
    return [m.key, made1]
  }))), [metrics, series, x, logY, smoothing, fromZero, zoom, label, startTime, running])

  if (!metrics.length) return null
  const model = metrics.filter((m) => !isSystemMetric(m.key))
  const system = metrics.filter((m) => isSystemMetric(m.key))
  const figure = (m: MetricFile) => {
    const s = series[m.key]
    if (s && s.value.length === 1) {
      return (
        <figure key={m.key} data-metric={m.key} className="one-value">
          <figcaption>{m.key}</figcaption>
          <div className="value" data-value>{tickNumber(s.value[0]!)}</div>
          <div className="muted">logged once, at step {s.step[0]}</div>
        </figure>
      )
    }
    return (
      <figure key={m.key} data-metric={m.key} data-last-step={s?.step[s.step.length - 1]}>
        <figcaption>{m.key} <span className="muted">({m.total.toLocaleString('en')} points{m.full && !full[m.key] ? ', drawn downsampled' : ''})</span></figcaption>
        <PlotFigure spec={specs[m.key]?.spec ?? null} line={specs[m.key]?.line} onZoom={(r) => zoomTo(m, r)} />
        {m.full && !full[m.key] && <button onClick={() => void loadFull(m)}>Load full history</button>}
      </figure>
    )
  }
  return (
    <div className="run-charts" {...hydrationMark(hydrated)}>
      <div className="toolbar">
        <label>x <select value={x} disabled={!hydrated} onChange={(e) => setX(e.target.value as XAxis)}><option value="step">step</option><option value="wall">wall time</option><option value="relative">relative time</option></select></label>
        <label><input type="checkbox" checked={logY} disabled={!hydrated} onChange={(e) => setLogY(e.target.checked)} /> log y</label>
        <label><input type="checkbox" name="from-zero" checked={fromZero} disabled={!hydrated} onChange={(e) => setFromZero(e.target.checked)} /> y from zero</label>
        <label>smoothing <input type="range" min="0" max="0.99" step="0.01" value={smoothing} disabled={!hydrated} onChange={(e) => setSmoothing(Number(e.target.value))} /> <span className="mono">{smoothing.toFixed(2)}</span></label>
        {zoomed ? <button className="reset-zoom" onClick={() => setZoom(keyed())}>Reset zoom</button> : <span className="muted hint">drag across a chart to zoom</span>}
      </div>
      {error && <p className="error">{error}</p>}
      {Object.keys(series).length > 0 && <>
        {model.length > 0 && <div className="charts">{model.map(figure)}</div>}
        {system.length > 0 && (
          <details className="system-metrics">
            <summary>System metrics ({system.length})</summary>
            <div className="charts">{system.map(figure)}</div>
          </details>
        )}
      </>}
    </div>
  )
}
