/**
 * Live updates for islands, when the page is served by `labbook serve` / `labbook ui`: the server marks its pages
 * with `<meta name="labbook-live" content="/live/">`. Server-Sent Events say when the branch or a run's journal
 * moved, and which runs; without EventSource the island polls. A page of the static build has no such meta: no
 * channel, no request.
 *
 * One refresh per page per GAP at most, whatever the rate of changes: the events of a gap are merged and every
 * listener is called once with them. A hidden page (background tab) does not refresh; it refreshes once when shown. Each event names the server's version; `liveVersion()` is the one last passed
 * on, and the page's fetches name it (`?v=`), so the parts of one page refreshed apart (its table, its charts) show
 * one moment of the server.
 */
import { useEffect, useState } from 'react'
import { joinChanges, MAX_WATCH_RUNS, type LiveChange, type RunTick } from 'labbook-lib/site/browser/live-tick.js'

export function liveBase(): string | null {
  if (typeof document === 'undefined') return null
  return document.querySelector('meta[name="labbook-live"]')?.getAttribute('content') ?? null
}

export type { LiveChange }

/**
 * Least time between two refreshes of a page, ms. A refresh refetches and redraws (a chart of up to 1,500 points per
 * metric): 20 open pages at one per 0.5 s took most of a 2-core machine's CPU in the browser alone while runs logged.
 * One a second keeps a point drawn within about 2 s of being logged (bench/live.ts) at half that cost.
 */
const GAP = 1000

interface Listener { fn: (c: LiveChange) => void; runs?: string[] }
const listeners = new Set<Listener>()
let stop: (() => void) | undefined
let version = ''
let seq = 0
let pending: LiveChange | undefined
let lastFire = 0
let timer: ReturnType<typeof setTimeout> | undefined
/** Called when the page's listeners change (the shared stream follows their runs' ticks). */
let listenersChanged: (() => void) | undefined

/** How many changes were passed on so far: answers fetched after a later one are newer (versions are not ordered). */
export function liveSeq(): number {
  return seq
}

/** The version of the change last passed on to the page's listeners ('' before the first). */
export function liveVersion(): string {
  return version
}

/**
 * Calls `onChange` whenever the served data changed (at most once per GAP); with `runs`, only when one of those runs
 * or the branch tip moved. Returns the unsubscribe function (a no-op on static pages). One stream per page.
 */
export function subscribeLive(onChange: (c: LiveChange) => void, runs?: string[]): () => void {
  const base = liveBase()
  if (!base) return () => {}
  const l: Listener = { fn: onChange, runs }
  listeners.add(l)
  stop ??= open(base)
  listenersChanged?.()
  return () => {
    listeners.delete(l)
    listenersChanged?.()
    if (!listeners.size) { stop?.(); stop = undefined }
  }
}


/** The runs this page's listeners watch (their `runs`). */
function watchedRuns(): string[] {
  const ids = new Set<string>()
  for (const l of listeners) for (const id of l.runs ?? []) ids.add(id)
  return [...ids]
}

/** How often the runs a page shows are named to the server (it pushes their ticks while named within 5 s). */
const WATCH_EVERY = 2000

function receive(c: LiveChange): void {
  pending = joinChanges(pending, c)
  schedule()
}

function schedule(): void {
  if (timer || !pending) return
  timer = setTimeout(flush, Math.max(0, lastFire + GAP - Date.now()))
}

/** Requests of the last refresh not answered yet; while any is, the next refresh waits (`held`). */
let busy = 0
let held = false

/**
 * Counts `request` (a fetch a refresh made) until it settles: a page starts its next refresh only when every request
 * of the last one was answered. Without this the tabs of a slow server asked faster than it answered: the browser's ~6
 * connections per host queued 194 requests, and a new tab's page and scripts waited behind them for minutes (the
 * navigation stall of bench/live.ts at 20 pages, sessions 4-7).
 */
export function liveRequest<T>(request: Promise<T>): Promise<T> {
  busy++
  const done = () => { if (--busy === 0 && held) { held = false; schedule() } }
  request.then(done, done)
  return request
}

/** Fetch options of a live refresh: never from the cache, and after the page's own loads (navigations, scripts). */
export const LIVE_FETCH: RequestInit = { cache: 'no-store', priority: 'low' }

/** A page nobody sees (a background tab, a minimised window) does not refresh; it catches up once when shown. */
function hidden(): boolean {
  return typeof document !== 'undefined' && document.visibilityState === 'hidden'
}
let watchingVisibility = false

function flush(): void {
  timer = undefined
  if (hidden()) {
    if (!watchingVisibility) {
      watchingVisibility = true
      document.addEventListener('visibilitychange', () => { if (!hidden() && pending && !timer) timer = setTimeout(flush, Math.max(0, lastFire + GAP - Date.now())) })
    }
    return
  }
  if (busy > 0) { held = true; return }
  const c = pending
  pending = undefined
  if (!c) return
  lastFire = Date.now()
  version = c.version
  seq++
  for (const l of [...listeners]) if (!l.runs || c.tip || !c.runs || c.runs.some((r) => l.runs!.includes(r))) l.fn(c)
}

function open(base: string): () => void {
  if (typeof EventSource === 'undefined') return poll(base)
  if (typeof BroadcastChannel === 'undefined' || typeof navigator === 'undefined' || !navigator.locks) {
    const close = stream(base, receive)
    const beat = setInterval(() => sendWatch(base, hidden() ? [] : watchedRuns()), WATCH_EVERY)
    sendWatch(base, watchedRuns())
    return () => { close(); clearInterval(beat) }
  }
  return shared(base)
}


/**
 * Names the runs the pages show to the server, which then pushes their ticks for the next 5 s (LivePages.watched). A
 * page that redraws from ticks asks for nothing else, so without this its run would stop being watched.
 */
function sendWatch(base: string, runs: string[]): void {
  if (!runs.length) return
  void fetch(`${base}watch?runs=${runs.slice(0, MAX_WATCH_RUNS).map(encodeURIComponent).join(',')}`, LIVE_FETCH).catch(() => {})
}

/** Reads the server's change stream; `onChange` gets each change. Returns the close function. */
function stream(base: string, onChange: (c: LiveChange) => void): () => void {
  const es = new EventSource(`${base}events`)
  es.addEventListener('change', (e) => {
    try {
      const d = JSON.parse((e as MessageEvent<string>).data) as Partial<LiveChange>
      const ticks = d.ticks && typeof d.ticks === 'object' ? d.ticks : undefined
      onChange({ version: String(d.version ?? ''), tip: d.tip !== false, runs: Array.isArray(d.runs) ? d.runs.map(String) : undefined, ticks })
    } catch { onChange({ version: '', tip: true }) }
  })
  return () => es.close()
}

/**
 * What the tabs of one server say to each other: a change for every tab (or, with `to`, for the tab that just joined),
 * a tab joining, the runs a tab shows (`watch`, said when they change: the streaming tab names them all to the server)
 * and a new streaming tab asking every tab for them (`who`). A run's tick goes on that run's own channel
 * (`RunMessage`), to the tabs showing it only: 20 tabs each given every run's points cost more than the requests the
 * ticks save.
 */
type TabMessage = { kind: 'change'; change: LiveChange; to?: string } | { kind: 'hello'; from: string } | { kind: 'watch'; from: string; runs: string[] } | { kind: 'who' }
type RunMessage = { version: string; tick: RunTick }

/**
 * One change stream for all the tabs of one server in this browser. A browser opens at most ~6 HTTP/1.1 connections
 * per host and an EventSource holds one for as long as its page is open, so with one stream per page the seventh tab
 * of `labbook serve` never loaded (bench/live.ts at 20 pages). The tab holding the Web Lock reads the stream and
 * passes each change on over a BroadcastChannel; when it closes, the lock and the stream go to another tab, whose
 * stream's first event (the server's current version, tip moved) refreshes every tab, so nothing in between is missed.
 * A tab that joins asks the streaming tab for the last change, as its own stream's first event would have told it.
 * Without Web Locks (an http:// address other than loopback is not a secure context) each page has its own stream.
 */
function shared(base: string): () => void {
  const name = `labbook-live ${location.origin}${base}`
  const me = Math.random().toString(36).slice(2)
  const channel = new BroadcastChannel(name)
  let closed = false
  let leading = false
  let last: LiveChange | undefined
  let closeStream: (() => void) | undefined
  let release: (() => void) | undefined
  // the runs each other tab shows (the streaming tab names them all to the server)
  const tabs = new Map<string, string[]>()
  // this tab's runs as last told (said again only when they change, or when a new streaming tab asks)
  let told = ''
  const tell = (force = false) => {
    const runs = closed || hidden() ? [] : watchedRuns()
    if (leading || (!force && runs.join(',') === told)) return
    told = runs.join(',')
    channel.postMessage({ kind: 'watch', from: me, runs } satisfies TabMessage)
  }
  channel.onmessage = (e: MessageEvent<TabMessage>) => {
    const m = e.data
    if (m.kind === 'hello') { if (leading && last) channel.postMessage({ kind: 'change', change: { ...last, tip: true }, to: m.from } satisfies TabMessage) }
    else if (m.kind === 'watch') { if (leading) { if (m.runs.length) tabs.set(m.from, m.runs); else tabs.delete(m.from) } }
    else if (m.kind === 'who') tell(true)
    else if (!m.to || m.to === me) receive(m.change)
  }
  const shown = () => tell()
  document.addEventListener('visibilitychange', shown)
  const gone = () => { told = ''; if (!leading) channel.postMessage({ kind: 'watch', from: me, runs: [] } satisfies TabMessage) }
  addEventListener('pagehide', gone)
  channel.postMessage({ kind: 'hello', from: me } satisfies TabMessage)
  // this tab's runs' ticks, each on its run's channel
  const runName = (id: string) => `${name} run ${id}`
  const following = new Map<string, BroadcastChannel>()
  const follow = () => {
    const want = new Set(closed ? [] : watchedRuns())
    for (const [id, ch] of following) if (!want.has(id)) { ch.close(); following.delete(id) }
    for (const id of want) {
      if (following.has(id)) continue
      const ch = new BroadcastChannel(runName(id))
      // (the streaming tab has the ticks from its stream; its own posts reach this other object of the channel too)
      ch.onmessage = (e: MessageEvent<RunMessage>) => { if (!leading) receive({ version: e.data.version, tip: false, runs: [id], ticks: { [id]: e.data.tick } }) }
      following.set(id, ch)
    }
    tell()
  }
  follow()
  listenersChanged = follow
  const posting = new Map<string, BroadcastChannel>()
  let beat: ReturnType<typeof setInterval> | undefined
  void navigator.locks.request(name, () => new Promise<void>((resolve) => {
    if (closed) return resolve()
    leading = true
    // which tab reads the stream for the others (what a look at one tab's cost needs to know, bench/live.ts)
    document.documentElement.dataset.liveStream = 'lead'
    release = resolve
    // every tab's runs, named to the server every WATCH_EVERY (the other tabs do nothing on a clock)
    channel.postMessage({ kind: 'who' } satisfies TabMessage)
    const name = () => {
      const ids = new Set(hidden() ? [] : watchedRuns())
      for (const runs of tabs.values()) for (const id of runs) ids.add(id)
      sendWatch(base, [...ids])
    }
    name()
    beat = setInterval(name, WATCH_EVERY)
    closeStream = stream(base, (c) => {
      const { ticks, ...change } = c
      last = change
      // each tick to the tabs showing its run, before the change naming the other runs (theirs come with their ticks)
      for (const [id, tick] of Object.entries(ticks ?? {})) {
        let ch = posting.get(id)
        if (!ch) { if (posting.size >= MAX_WATCH_RUNS) { for (const x of posting.values()) x.close(); posting.clear() } posting.set(id, (ch = new BroadcastChannel(runName(id)))) }
        ch.postMessage({ version: c.version, tick } satisfies RunMessage)
      }
      channel.postMessage({ kind: 'change', change: ticks ? { ...change, runs: change.runs?.filter((id) => !Object.hasOwn(ticks, id)) } : change } satisfies TabMessage)
      receive(c)
    })
  }))
  return () => {
    gone()
    closed = true
    clearInterval(beat)
    follow()
    listenersChanged = undefined
    document.removeEventListener('visibilitychange', shown)
    removeEventListener('pagehide', gone)
    for (const ch of posting.values()) ch.close()
    channel.close(); closeStream?.(); release?.()
  }
}

function poll(base: string): () => void {
  let last = ''
  const timer = setInterval(() => {
    fetch(`${base}state.json`, { cache: 'no-store' }).then((r) => r.json()).then((s: { version: string }) => {
      if (s.version !== last) { last = s.version; receive({ version: s.version, tip: true }) }
    }, () => {})
  }, 2000)
  return () => clearInterval(timer)
}

/** `path` naming the version last passed on (`?v=`), on a live page; unchanged elsewhere. */
export function atLiveVersion(path: string): string {
  if (!version || !liveBase()) return path
  return `${path}${path.includes('?') ? '&' : '?'}v=${encodeURIComponent(version)}`
}

/** A counter that moves whenever the served data changed (0 forever on a static page): put it in an effect's dependencies to refetch. With `runs`, only changes of those runs (or the tip) count. */
export function useLiveTick(runs?: string[]): number {
  const [tick, setTick] = useState(0)
  const key = runs?.join(',')
  useEffect(() => subscribeLive(() => setTick((t) => t + 1), key === undefined ? undefined : key.split(',')), [key])
  return tick
}

/**
 * The change last passed on to this page's listener of `runs` (undefined before the first): put it in an effect's
 * dependencies to redraw from it (its `ticks`) or refetch.
 */
export function useLiveChange(runs?: string[]): LiveChange | undefined {
  const [change, setChange] = useState<LiveChange>()
  const key = runs?.join(',')
  useEffect(() => subscribeLive(setChange, key === undefined ? undefined : key.split(',')), [key])
  return change
}
