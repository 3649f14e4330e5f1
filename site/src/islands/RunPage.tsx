/**
 * A run's page, the one markup for every way it is drawn:
 * - `RunView` is rendered server-side by `pages/runs/[id].astro`, for the static build's pages and for `labbook serve`'s
 *   live pages; the page passes its islands (the charts with their server-drawn first paint, the image steps) as the
 *   `charts` and `images` slots, so only those hydrate.
 * - The run-page shell draws the same `RunView` in the browser, for runs whose page the static build did not render
 *   (all but the newest of each experiment, see `fullPageRuns` in src/site/build/collect.ts). Every such run's
 *   `runs/<id>/index.html` is a copy of the one shell page (`runs/index.html`, which also takes `?id=`); it reads
 *   `data/runs/<id>.json` and `data/runs/<id>/page.json`, made by the same functions (src/site/browser/run-view.ts).
 * Everything is text (React escapes it); the description is the build's escaped Markdown.
 */
import { Fragment, useEffect, useState, type ReactNode } from 'react'
import { createRoot } from 'react-dom/client'
import type { RunPageData } from 'labbook-lib/site/browser/snapshot.js'
import type { RunJson } from 'labbook-lib/site/browser/run-view.js'
import { fmtBytes, fmtDuration, fmtNumber, fmtTime, fmtValue, shortSha } from 'labbook-lib/site/browser/display.js'
import { runDuration } from 'labbook-lib/model/run.js'
import RunCharts from './RunCharts'
import ImageSteps from './ImageSteps'
import { getJson, siteUrl } from './url'

const SAFE_ID = /^[A-Za-z0-9_-]{1,100}$/
const NL = '\n'
// A failed run shows the end of its output (the traceback) right under its FAILED badge.
const TAIL_LINES = 15
const KNOWN = ['RUNNING', 'FINISHED', 'FAILED', 'KILLED']

/** The run this address names: `…/runs/<id>/` (a copy of the shell) or `…/runs/?id=<id>`. */
export function runIdOf(loc: { pathname: string; search: string }): string | undefined {
  const m = /\/runs\/([^/]+)\/(?:index\.html)?$/.exec(loc.pathname)
  const id = m ? decodeURIComponent(m[1]!) : new URLSearchParams(loc.search).get('id') ?? ''
  return SAFE_ID.test(id) ? id : undefined
}

function Badge({ status, lifecycle }: { status: string; lifecycle?: string }) {
  return <><span className={`badge b-${KNOWN.includes(status) ? status : 'other'}`}>{status}</span>{lifecycle === 'deleted' && <> <span className="badge b-deleted">deleted</span></>}</>
}

const lineClass = (l: string) => (l.startsWith('+') && !l.startsWith('+++') ? 'add' : l.startsWith('-') && !l.startsWith('---') ? 'del' : l.startsWith('@@') ? 'hunk' : undefined)

export interface RunViewProps {
  run: RunJson
  page: RunPageData
  /** Drawn after the metrics table instead of the charts island (the Astro page's islands, hydrated on their own). */
  charts?: ReactNode
  /** Drawn under "Images by step" instead of the image-steps island. */
  images?: ReactNode
}

/** A run's page (inside `<main>`). Each section sits in an element that is always there (`data-live`), so a live page gains it in place when it first appears (regions.ts). */
export function RunView({ run, page, charts, images }: RunViewProps) {
  const label = run.name || run.id.slice(0, 8)
  const metricKeys = Object.keys(run.metrics).sort()
  const paramKeys = Object.keys(run.params).sort()
  const tagKeys = Object.keys(run.tags).sort()
  const failTail = run.status === 'FAILED' && page.log ? page.log.text.replace(/\s+$/, '').split(NL).slice(-TAIL_LINES).join(NL) : undefined
  const previewed = page.artifacts.filter((a) => a.href && !a.inSeries && (a.kind === 'image' || a.preview !== undefined))
  // A metric longer than the drawn series links its full history (JSON); the drawn series of a static build are packed
  // in series.bin, so short metrics link nothing, live or static alike.
  const withData = run.metricFiles.some((f) => f.full !== undefined)
  const runLink = (r: { id: string; name: string }) => <a href={siteUrl(`runs/${r.id}/`)}>{r.name || r.id.slice(0, 8)}</a>
  return (
    <>
      <div className="crumbs"><a href={siteUrl('')}>Experiments</a> / {page.experimentName !== null ? <a href={siteUrl(`experiments/${run.experiment}/`)}>{page.experimentName}</a> : <span>{run.experiment}</span>} /</div>
      <h1 data-live="title">{label} <Badge status={run.status} lifecycle={run.lifecycle} /></h1>
      <div data-live="fail">{failTail && <div className="fail-tail" id="fail-tail"><p>Last lines of output.log{run.tags['labbook.exit_code'] ? ` (exit ${run.tags['labbook.exit_code']})` : ''}</p><pre className="box log">{failTail}</pre></div>}</div>

      <div className="grid2" data-live="info">
        <div className="scroll"><table className="kv info">
          <tbody>
            <tr><th>Run id</th><td className="mono">{run.id}</td></tr>
            <tr><th>Started</th><td>{fmtTime(run.startTime)} UTC</td></tr>
            <tr><th>Ended</th><td>{run.endTime ? `${fmtTime(run.endTime)} UTC` : '—'}</td></tr>
            <tr><th>Duration</th><td>{fmtDuration(runDuration(run)) || '—'}</td></tr>
            {run.user && <tr><th>User</th><td>{run.user}</td></tr>}
            {run.host && <tr><th>Host</th><td>{run.host}</td></tr>}
            {run.parent && <tr><th>Parent</th><td>{page.parent?.exists ? runLink(page.parent) : <span className="mono">{run.parent}</span>}</td></tr>}
            {page.childLinks.length > 0 && <tr><th>Children</th><td>{page.childLinks.map((c, i) => <Fragment key={c.id}>{i > 0 && ', '}{runLink(c)}</Fragment>)}</td></tr>}
            {run.source?.commit && <tr><th>Code</th><td><span className="mono">{run.commitUrl ? <a href={run.commitUrl} rel="noopener noreferrer">{shortSha(run.source.commit)}</a> : shortSha(run.source.commit)}</span>{run.source.branch && <> on <span className="mono">{run.source.branch}</span></>}{run.source.dirty && <> <span className="badge b-dirty">uncommitted changes</span></>} · <a href={siteUrl(`commits/#c-${run.source.commit}`)}>runs of this commit</a></td></tr>}
            {page.modelRefs.length > 0 && <tr><th>Registered as</th><td className="registered">{page.modelRefs.map((m, i) => <Fragment key={`${m.slug}@${m.version}`}>{i > 0 && ', '}<a href={siteUrl(`models/${m.slug}/#v${m.version}`)}>{m.name} v{m.version}</a>{m.stage !== 'None' && <> <span className={`badge stage-${m.stage}`}>{m.stage}</span></>}{m.aliases.map((a) => <Fragment key={a}> <span className="chip mono">@{a}</span></Fragment>)}</Fragment>)}</td></tr>}
            {run.source?.command && <tr><th>Command</th><td className="mono wrap">{run.source.command}</td></tr>}
            {run.source?.runtime && <tr><th>Runtime</th><td>{run.source.runtime}{run.source.platform && <> on {run.source.platform}</>}</td></tr>}
          </tbody>
        </table></div>
        {page.descriptionHtml && <div className="desc" dangerouslySetInnerHTML={{ __html: page.descriptionHtml }} />}
      </div>

      <div data-live="metrics">{metricKeys.length > 0 && <>
        <h2>Metrics</h2>
        <div className="scroll"><table className="metrics">
          <thead><tr><th>Metric</th><th className="num">Latest</th><th className="num">Step</th><th className="num">Min</th><th className="num">Max</th><th className="num">Points</th>{withData && <th>Data</th>}</tr></thead>
          <tbody>{metricKeys.map((k) => {
            const m = run.metrics[k]!
            const f = run.metricFiles.find((x) => x.key === k)
            return <tr key={k}><td className="wrap mono">{k}</td><td className="num">{fmtNumber(m.value)}</td><td className="num">{m.step}</td><td className="num">{fmtNumber(m.min)}</td><td className="num">{fmtNumber(m.max)}</td><td className="num">{m.count}</td>{withData && <td>{f?.full && <a href={siteUrl(f.full)}>json</a>}</td>}</tr>
          })}</tbody>
        </table></div>
      </>}</div>
      {charts ?? (metricKeys.length > 0 && <RunCharts metrics={run.metricFiles} startTime={run.startTime} label={label} />)}

      {run.imageSeries && <>
        <h2>Images by step</h2>
        {images ?? <ImageSteps runs={[{ id: run.id, label, series: run.imageSeries }]} />}
      </>}

      <div data-live="params">{paramKeys.length > 0 && <>
        <h2>Params</h2>
        <div className="scroll"><table className="kv params"><tbody>{paramKeys.map((k) => <tr key={k}><th className="mono">{k}</th><td className="wrap">{fmtValue(run.params[k])}</td></tr>)}</tbody></table></div>
      </>}</div>

      <div data-live="datasets">{(run.datasets?.length ?? 0) > 0 && <>
        <h2>Datasets</h2>
        <div className="scroll"><table className="datasets">
          <thead><tr><th>Name</th><th>Digest</th><th>Context</th><th>Source</th></tr></thead>
          <tbody>{run.datasets!.map((d, i) => (
            <tr key={i}><td className="mono">{d.name}</td><td className="mono">{d.digest}</td><td>{d.context ?? ''}</td><td className="wrap mono">{d.sourceType}{d.source ? `: ${d.source}` : ''}</td></tr>
          ))}</tbody>
        </table></div>
      </>}</div>

      <div data-live="tags">{tagKeys.length > 0 && <>
        <h2>Tags</h2>
        <div className="scroll"><table className="kv tags"><tbody>{tagKeys.map((k) => <tr key={k}><th className="mono">{k}</th><td className="wrap">{run.tags[k]}</td></tr>)}</tbody></table></div>
      </>}</div>

      <div data-live="artifacts">{page.artifacts.length > 0 && <>
        <h2>Artifacts</h2>
        <div className="scroll"><table className="artifacts">
          <thead><tr><th>Path</th><th className="num">Size</th><th></th></tr></thead>
          <tbody>{page.artifacts.map((a) => (
            <tr key={a.path}><td className="wrap mono">{a.path}</td><td className="num">{fmtBytes(a.size)}</td><td>{a.href ? <a href={siteUrl(a.href)} download={a.path.split('/').pop()}>download</a> : a.remoteHref ? <a href={a.remoteHref} rel="noreferrer">download (Git LFS)</a> : <span className="muted">too large for the site: <code>labbook artifact get {run.id.slice(0, 8)} {a.path}</code></span>}</td></tr>
          ))}</tbody>
        </table></div>
        {previewed.length > 0 && <h3>Previews</h3>}
        {previewed.map((a) => (
          <details key={a.path} className="artifact" open={a.kind === 'image' || undefined} data-artifact={a.path}>
            <summary className="mono">{a.path}</summary>
            {a.kind === 'image' ? <img src={siteUrl(a.href!)} alt={a.path} loading="lazy" /> : <pre className="box">{a.truncated ? a.preview + NL + '…' : a.preview}</pre>}
          </details>
        ))}
      </>}</div>

      <div data-live="log">{page.log && <><h2>Output log</h2>{page.log.truncated && <p className="muted">Last 64 KB.</p>}<pre className="box log">{page.log.text}</pre></>}</div>
      <div data-live="diff">{page.diff && <><h2>Uncommitted changes</h2><pre className="box diff">{page.diff.text.split('\n').map((l, i) => <span key={i} className={lineClass(l)}>{l + NL}</span>)}</pre></>}</div>
    </>
  )
}

function Shell() {
  const [state, setState] = useState<{ run: RunJson; page: RunPageData } | 'missing' | 'loading'>('loading')
  const id = runIdOf(location)
  useEffect(() => {
    if (!id) { setState('missing'); return }
    Promise.all([getJson<RunJson>(`data/runs/${id}.json`), getJson<RunPageData>(`data/runs/${id}/page.json`)])
      .then(([run, page]) => {
        setState({ run, page })
        const site = document.querySelector('header .brand')?.textContent ?? ''
        document.title = `${run.name || run.id.slice(0, 8)} · ${site}`
      }, () => setState('missing'))
  }, [id])
  if (state === 'loading') return null
  if (state === 'missing') return <><h1>Not found</h1><p>Nothing here. The run may have been deleted or the site built from another revision. <a href={siteUrl('')}>All experiments</a>.</p></>
  return <RunView run={state.run} page={state.page} />
}

/** Draws the run the address names into `el` (the shell page's main content). */
export function mountRunPage(el: HTMLElement): void {
  createRoot(el).render(<Shell />)
}
