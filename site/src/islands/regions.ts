/**
 * Live regions: on a page served by `labbook serve` / `labbook ui`, the server-rendered parts marked `data-live="…"`
 * (a run's badge and info, each section of a run page — also one that did not exist yet —, an experiment's best run,
 * the home cards) are replaced in place by the same parts of the page rendered anew, after each change: no reload,
 * islands and scroll untouched. The fetched page comes from our own server (every user string escaped there);
 * DOMParser never runs its scripts. On a static page: nothing.
 */
import type { MetricSummary } from 'labbook-lib/model/run.js'
import { fmtNumber } from 'labbook-lib/site/browser/display.js'
import { sortedJson } from 'labbook-lib/model/sorted-json.js'
import { atLiveVersion, LIVE_FETCH, liveBase, liveRequest, liveSeq, subscribeLive } from './live-channel'

/** Refetches the page and swaps its regions (set by refreshRegions; a no-op before). */
let refresh: () => void = () => {}

export function refreshRegions(): void {
  if (!liveBase() || !document.querySelector('[data-live]')) return
  let busy = false
  let again = false
  // At the version of the change that asked (live-channel.ts): what the page shows comes from one moment.
  const run = async (): Promise<void> => {
    if (busy) { again = true; return }
    busy = true
    try {
      const at = liveSeq()
      const text = await liveRequest(fetch(atLiveVersion(location.pathname + location.search), LIVE_FETCH).then((r) => (r.ok ? r.text() : undefined)))
      if (text !== undefined) swap(new DOMParser().parseFromString(text, 'text/html'), at)
    } catch { /* the next change retries */ }
    busy = false
    if (again) { again = false; void run() }
  }
  refresh = () => void run()
  // A live run page's charts island (always there, live) fetches the run after each change of the run or the branch
  // (liveRun below), and the page is refetched only when more than its numbers changed: the run JSON's `page` names
  // what the rest of the page shows (status, tags, artifacts, related runs, models). Not on every commit of any run.
  const runPage = /\/runs\/([\w-]+)\/$/.exec(location.pathname)?.[1]
  if (!runPage || runPage === '-') subscribeLive(refresh)
}

const COLUMNS = ['Metric', 'Latest', 'Step', 'Min', 'Max', 'Points']
let lastRest: string | undefined
/** The server's key of what the page shows besides numbers: as rendered (its meta), then as last swapped in. */
let lastPage: string | null | undefined
/** The change (liveSeq) of the newest answer the metrics table shows: an older page or run answer never overwrites it. */
let metricsAt = -1

/**
 * A live run page's run as its charts island fetched it (`data/runs/<id>.json`, at the version of the change): the
 * metrics table's numbers are set from it, so the table and the charts' headers count the same points (one source);
 * anything else of the run or its page that changed (status, tags, params, a new metric, the server's `page` key)
 * refetches the page's regions. The same for a run's row pushed in a tick (no `page` key then).
 */
export function liveRun(run: { metrics?: Record<string, MetricSummary> } & Record<string, unknown>, at: number): boolean {
  if (at < metricsAt) return false // a slower answer to an older change
  metricsAt = at
  // a run's tick (live-tick.ts) has its row only: what the row lacks (its files, children count, image series) is not
  // compared here; a change there comes with the page key (`page`) on the next fetch
  const { metrics = {}, metricFiles: _f, duration: _d, page, children: _c, imageSeries: _i, ...rest } = run
  // in sorted key order: the tick's row and the run JSON hold the same fields in different orders
  const key = sortedJson(rest)
  lastPage ??= document.querySelector('meta[name="labbook-page"]')?.getAttribute('content') ?? null
  // the page as rendered is older than this answer (it changed between the render and the first change event), or
  // the run changed since the last answer
  const changed = (lastRest !== undefined && key !== lastRest) || (typeof page === 'string' && page !== lastPage)
  lastRest = key
  if (typeof page === 'string') lastPage = page
  if (!setMetricsTable(metrics) || changed) refresh()
  return true
}

/** Sets the numbers of the metrics table (`data-live="metrics"`); false when its rows are not the run's metrics. */
function setMetricsTable(metrics: Record<string, MetricSummary>): boolean {
  const table = document.querySelector('[data-live="metrics"] table')
  if (!table) return Object.keys(metrics).length === 0
  const head = [...table.querySelectorAll('thead th')].map((th) => th.textContent ?? '')
  if (COLUMNS.some((c, i) => head[i] !== c)) return false
  const rows = [...table.querySelectorAll<HTMLTableRowElement>('tbody tr')]
  if (rows.length !== Object.keys(metrics).length) return false
  for (const tr of rows) {
    const k = tr.cells[0]?.textContent ?? ''
    const m = Object.hasOwn(metrics, k) ? metrics[k] : undefined // a metric named `constructor` (parsed JSON has a prototype)
    if (!m || tr.cells.length < COLUMNS.length) return false
    const text = [fmtNumber(m.value), String(m.step), fmtNumber(m.min), fmtNumber(m.max), String(m.count)]
    text.forEach((t, i) => { const td = tr.cells[i + 1]!; if (td.textContent !== t) td.textContent = t })
  }
  return true
}

/** What each region held when the server last sent it: a region is replaced only when that changed, so what the
 * reader did inside it (a preview folded open or shut) stays until the server has something new to show there. */
const sent = new Map<string, string>()

function swap(doc: Document, at: number): void {
  for (const el of document.querySelectorAll<HTMLElement>('[data-live]')) {
    const name = el.dataset.live ?? ''
    if (name === 'metrics') {
      if (at < metricsAt) continue // the charts' answer to a later change already set it (one moment with the headers)
      metricsAt = at
    }
    const fresh = doc.querySelector<HTMLElement>(`[data-live="${CSS.escape(name)}"]`)
    if (!fresh) continue
    const before = sent.get(name) ?? el.innerHTML
    sent.set(name, fresh.innerHTML)
    if (fresh.innerHTML !== before) el.replaceChildren(...[...fresh.childNodes].map((n) => document.importNode(n, true)))
  }
}
