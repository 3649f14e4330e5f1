/** Group curves: per metric, each group's mean curve with its 95% CI band (or min–max), from the members' series files. */
import { useEffect, useMemo, useRef, useState, type RefObject } from 'react'
import type { MetricFile, TableRun } from 'labbook-lib/site/browser/snapshot.js'
import type { Series } from 'labbook-lib/site/browser/charts/series.js'
import { bandChartSpec, groupBandRows, readBand, writeBand, type BandKind } from 'labbook-lib/site/browser/charts/band.js'
import { colorOf } from 'labbook-lib/site/browser/charts/palette.js'
import PlotFigure from './PlotFigure'
import { getJson, getSeries } from './url'
import { liveBase } from './live-channel'
import { keyed } from 'labbook-lib/model/run.js'

interface Props {
  groups: { label: string; runs: string[] }[]
  metrics: string[]
  /** Members read per group (the band is over these). @default 30 */
  maxRuns?: number
}

type Loaded = Record<string, Record<string, Series[]>> // metric → group label → member series
type RunFile = TableRun & { metricFiles: MetricFile[] }
const staticRunFiles = new Map<string, Promise<RunFile>>()

export default function GroupCharts({ groups, metrics, maxRuns = 30 }: Props) {
  const [band, setBand] = useState<BandKind>('ci')
  // The band is part of the view a link reproduces (`?band=minmax`), kept across reload and Back like sort and group.
  useEffect(() => {
    const read = () => setBand(readBand(location.search))
    read()
    addEventListener('popstate', read)
    return () => removeEventListener('popstate', read)
  }, [])
  const pickBand = (b: BandKind) => {
    setBand(b)
    const u = writeBand(new URL(location.href), b)
    if (u.href !== location.href) history.replaceState(history.state, '', u)
  }
  const [loaded, setLoaded] = useState<Loaded>(() => keyed())
  const [error, setError] = useState<string | null>(null)
  const want = JSON.stringify([groups, metrics])
  // Below the table, the curves wait until their section comes near the screen: a page of groups asks for up to 240
  // run files (and draws a chart per metric), work that would otherwise land on the first keystrokes of someone
  // typing into the filter as soon as the table shows.
  const section = useRef<HTMLElement>(null)
  const near = useNear(section, groups.length > 0)
  useEffect(() => {
    if (!near) return
    let live = true
    const jobs = groups.flatMap((g) => g.runs.slice(0, maxRuns).map((id) => ({ g: g.label, id })))
    // A static site's run files never change: kept for the page, so curves that follow a filter or a sort do not ask
    // for the same members again. Served live they do change: read anew each time.
    const files = liveBase() ? new Map<string, Promise<RunFile>>() : staticRunFiles
    Promise.all(jobs.map(async ({ g, id }) => {
      let p = files.get(id)
      if (!p) files.set(id, (p = getJson<RunFile>(`data/runs/${id}.json`)))
      const run = await p
      const out: Array<{ g: string; key: string; s: Series }> = []
      for (const m of run.metricFiles) if (metrics.includes(m.key)) out.push({ g, key: m.key, s: await getSeries(m.file) })
      return out
    })).then((all) => {
      if (!live) return
      // keyed by metric names and group labels (user strings, a label may come from the address): no prototype
      const next: Loaded = keyed()
      for (const { g, key, s } of all.flat()) ((next[key] ??= keyed())[g] ??= []).push(s)
      setLoaded(next)
    }, (e: Error) => live && setError(e.message))
    return () => { live = false }
  }, [want, near])

  const labels = groups.map((g) => g.label)
  const specs = useMemo(() => metrics.filter((k) => loaded[k]).map((k) => {
    const rows = groupBandRows(labels.filter((l) => loaded[k]![l]).map((l) => ({ group: l, series: loaded[k]![l]! })))
    return { key: k, spec: rows.length ? bandChartSpec(rows, { band, groups: labels, title: k, width: 560 }) : null }
  }), [loaded, band, want])

  if (!groups.length) return null
  return (
    <section className="group-charts" ref={section}>
      <h2>Group curves</h2>
      <div className="toolbar">
        <label>band <select aria-label="Band" value={band} onChange={(e) => pickBand(e.target.value as BandKind)}>
          <option value="ci">95% CI of the mean</option><option value="minmax">min–max</option>
        </select></label>
        <span className="muted hint">mean of each group's runs at each step; the band is {band === 'ci' ? 'the 95% confidence interval of the mean (Student t)' : 'the range of its runs'}</span>
      </div>
      <div className="legend">{labels.map((l, i) => <span key={l}><i style={{ background: colorOf(i) }} />{l} <span className="muted">(n={groups[i]!.runs.length})</span></span>)}</div>
      {error && <p className="error">{error}</p>}
      <div className="charts">{specs.map(({ key, spec }) => (
        <figure key={key} data-metric={key} className="band-chart"><figcaption>{key}</figcaption>{spec ? <PlotFigure spec={spec} /> : <p className="muted">No values.</p>}</figure>
      ))}</div>
    </section>
  )
}

/** Whether `ref`'s element has come within NEAR_PX of the screen (once true, stays true); true where nothing can tell. */
function useNear(ref: RefObject<Element | null>, shown: boolean): boolean {
  const [near, setNear] = useState(() => typeof IntersectionObserver === 'undefined')
  useEffect(() => {
    const el = ref.current
    if (near || !el) return
    const io = new IntersectionObserver((seen) => { if (seen.some((e) => e.isIntersecting)) setNear(true) }, { rootMargin: `${NEAR_PX}px 0px` })
    io.observe(el)
    return () => io.disconnect()
  }, [near, shown])
  return near
}

/** How far below (or above) the screen the curves' section starts loading. */
const NEAR_PX = 400
