/**
 * The live channel of `labbook serve` / `labbook ui`: Server-Sent Events saying "something changed" (branch tip or a
 * run's journal). The pages and data files themselves are rendered per request (live-pages.ts). Pages served live
 * carry a `<meta name="labbook-live">` naming the channel; the static build has none, so its islands never look for one.
 */
import type { ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import { journalGenerations, readJournalsAhead } from '../track/live.js'
import type { Book } from './book.js'
import { ApiError } from './errors.js'
import { MAX_WATCH_RUNS } from '../site/browser/live-tick.js'
import { sendJson } from './http.js'

/** Where the live channel and data live, under the site root. */
export const LIVE_PREFIX = '/live/'
/** Run ids as `/live/watch` takes them (the site's run-page rule). */
const RUN_ID = /^[\w-]{1,100}$/

export interface LiveOptions {
  book: Book
  /** How often to look for changes while someone listens, ms. @default 250 */
  interval?: number
  /**
   * Whether an open page looks at this run (LivePages.watched): only those runs' new points are parsed ahead on the
   * tick. With 20 runs logging and the pages on others, parsing them all cost serve 1.43x its CPU per point logged
   * (bench/live.ts, pages on ended runs). @default every run
   */
  watched?: (run: string) => boolean
  /**
   * What an event pushes for the runs it names (LivePages.ticks: each watched run's row and new points, see
   * src/site/browser/live-tick.ts), so the pages showing them redraw without a request. @default nothing pushed
   */
  ticks?: (runs: string[]) => Promise<Record<string, unknown>>
  /**
   * The runs whose data differ between two commits of the branch when nothing else does (`LiveReader.runsChanged`):
   * a tip move that only carries runs in progress further (a group commit moving their journaled points onto the
   * branch) is named as those runs, not as "the branch moved", so the pages on them redraw from their ticks and no
   * other page asks for anything. @default every tip move is "the branch moved"
   */
  runsChanged?: (from: string, to: string) => Promise<string[] | undefined>
  /** `GET /live/watch?runs=<id>,…`: the runs the open pages show (a page that redraws from ticks asks for nothing else). */
  watch?: (runs: string[]) => void
  /**
   * How the channel yields to logging: while this process uses more than `busy` cores (its CPU time over about the
   * last second, as when clients log through it as fast as it takes points), an event goes out at most every `every`
   * ms instead of every `interval`. Each event makes every open page redraw: 20 pages redrawing up to once a second
   * took half of what a saturated `serve` logged (bench/live.ts). CPU time, not the event loop's utilization: on a
   * machine full of loggers and browser tabs a callback waits for a core, and the loop of a serve using 0.2 cores
   * looked busy. The journals are still parsed ahead on every look, and nothing is lost: an event names every run
   * that moved since the last one and its ticks carry every point since. `false`: never paced. `load`: where the
   * cores used come from (an embedder that knows its own load; the tests, which step it); by default this process's
   * CPU time (processLoad).
   * @default { busy: 0.5, every: 2000 }
   */
  pace?: { busy: number; every: number; load?: () => number } | false
}

/**
 * The cores this process used over about the last second, as each call sees it: its CPU time since the previous
 * call over the time since, weighed into a running figure by how long that was (a call a second after the last
 * replaces it).
 * @example const load = processLoad(); setInterval(() => console.log(load()), 250)
 */
export function processLoad(): () => number {
  let last: { used: number; at: number } | undefined
  let cores = 0
  return () => {
    const u = process.cpuUsage()
    const now = { used: u.user + u.system, at: performance.now() }
    if (last && now.at > last.at) {
      const lately = (now.used - last.used) / 1000 / (now.at - last.at)
      cores += (lately - cores) * Math.min(1, (now.at - last.at) / 1000)
    }
    last = now
    return cores
  }
}

/** LiveOptions.pace's default. */
export const LIVE_PACE = { busy: 0.5, every: 2000 }

/**
 * Watches the branch tip and the journals only while at least one page listens (an idle server runs no timer),
 * and tells every listener when either moved.
 * @example const live = new LiveChannel({ book }); live.handle(res, '/live/events')
 */
export class LiveChannel {
  private readonly listeners = new Set<ServerResponse>()
  private timer: NodeJS.Timeout | undefined
  private last = ''
  /** What `last` was made of: the tip and each run's journal generation (which runs an event names). */
  private lastTip: string | undefined
  private lastGens = new Map<string, string>()
  /** When `last` was read (performance.now()). */
  private lastAt = 0
  private checking = false
  /** The cores this process used lately (LiveOptions.pace.load, processLoad by default). */
  private readonly load: () => number
  /** When the last event went out (performance.now()). */
  private sentAt = 0

  constructor(private readonly o: LiveOptions) {
    this.load = (o.pace && o.pace.load) || processLoad()
  }

  /** Whether an event may go out now (LiveOptions.pace): always, unless this process is busy and one went out lately. */
  private due(): boolean {
    const pace = this.o.pace === undefined ? LIVE_PACE : this.o.pace
    return !pace || this.load() <= pace.busy || performance.now() - this.sentAt >= pace.every
  }

  /** Answers `/live/…` (`query`: the request's); false when the path is not the channel's. */
  async handle(res: ServerResponse, path: string, query?: URLSearchParams): Promise<boolean> {
    const rest = path.slice(LIVE_PREFIX.length)
    if (rest === 'events') return this.subscribe(res), true
    if (rest === 'watch') {
      const ids = (query?.get('runs') ?? '').split(',').filter((id) => RUN_ID.test(id))
      if (ids.length > MAX_WATCH_RUNS) throw new ApiError('INVALID_PARAMETER_VALUE', `A page watches at most ${MAX_WATCH_RUNS} runs; ${ids.length} were named.`)
      this.o.watch?.(ids)
      res.writeHead(204, { 'cache-control': 'no-store' })
      return res.end(), true
    }
    if (rest === 'state.json') return sendJson(res, 200, JSON.stringify({ version: await this.version() })), true
    throw new ApiError('ENDPOINT_NOT_FOUND', `Nothing at ${path}.`)
  }

  /** The change counter pages compare: branch tip plus journal generation. */
  async version(): Promise<string> {
    return (await this.read()).version
  }

  /**
   * The version the pages are told about: while the channel watches (someone listens), the one it last announced,
   * if read within the last interval; so every page refreshing after one event is answered from one snapshot
   * (live-pages.ts), not one per request while writers keep appending. Otherwise read now.
   */
  async current(): Promise<string> {
    if (this.timer && this.last && performance.now() - this.lastAt < 2 * (this.o.interval ?? 250)) return this.last
    return this.version()
  }

  private async read(): Promise<{ version: string; tip: string; gens: Map<string, string> }> {
    // journals first, then the tip (as LiveReader.listRuns): a commit landing in between moves the tip, never hides
    const gens = journalGenerations(this.o.book.gitdir, this.o.book.branch)
    const tip = (await this.o.book.tip()) ?? ''
    let all = ''
    for (const [id, g] of gens) all += `${id}/${g}`
    return { version: `${tip}|${hash(all)}`, tip, gens }
  }

  private subscribe(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' })
    res.write('retry: 2000\n\n')
    this.listeners.add(res)
    const done = () => {
      this.listeners.delete(res)
      if (this.listeners.size === 0) this.stop()
    }
    // the request itself closes as soon as its (empty) body is read; the response closes when the page goes away
    res.on('close', done)
    res.on('error', done)
    this.read().then((r) => {
      this.remember(r)
      res.write(`event: change\ndata: ${JSON.stringify({ version: r.version, tip: true })}\n\n`)
    }, () => {}) // a journal rotated away mid-look: the next tick looks again
    if (!this.timer) {
      let beats = 0
      this.timer = setInterval(() => {
        // a comment now and then keeps proxies from closing an idle stream
        if (++beats % Math.round(15_000 / (this.o.interval ?? 250)) === 0) for (const l of this.listeners) l.write(': keep-alive\n\n')
        this.check().catch(() => {}) // as above: the next tick looks again
      }, this.o.interval ?? 250)
      this.timer.unref()
    }
  }

  private async check(): Promise<void> {
    if (this.checking) return
    this.checking = true
    try {
      const due = this.due()
      const r = await this.read()
      const before = { tip: this.lastTip, gens: this.lastGens, version: this.last }
      if (r.version === before.version) return this.remember(r)
      // which runs' journals moved (a page on one run refetches only when its run or the tip moved)
      const runs: string[] = []
      for (const [id, g] of r.gens) if (before.gens.get(id) !== g) runs.push(id)
      for (const id of before.gens.keys()) if (!r.gens.has(id)) runs.push(id)
      // the pages this event sends refreshing read these journals: their new points parsed now, in slices between
      // log calls, not in one synchronous read when the first page asks
      const watched = this.o.watched ?? (() => true)
      const isLive = (id: string) => r.gens.has(id) && watched(id)
      await readJournalsAhead(this.o.book.gitdir, runs.filter(isLive))
      // paced (LiveOptions.pace): nothing said yet; the next event is made against the last one said, so it names
      // every run that moved meanwhile
      if (!due) return
      this.remember(r)
      this.sentAt = performance.now()
      const tip = r.tip !== before.tip && !(await this.onlyRunsIn(before.tip, r, before.gens, runs))
      // and what those pages draw, pushed: they need not ask (a tick that cannot be made leaves them to ask)
      const live = runs.filter(isLive)
      const ticks = live.length && this.o.ticks ? await this.o.ticks(live).catch(() => undefined) : undefined
      const data = { version: r.version, tip, runs, ...(ticks && Object.keys(ticks).length ? { ticks } : {}) }
      const msg = `event: change\ndata: ${JSON.stringify(data)}\n\n`
      for (const l of this.listeners) l.write(msg)
    } finally {
      this.checking = false
    }
  }

  /**
   * Whether the tip's move from `from` changed only runs in progress (journaled before or now: their pages follow them
   * by ticks, and a run whose journal went is named as such); those are added to `runs`. A run added or removed, an
   * experiment, a model, a run with no journal (edited from elsewhere): the branch moved.
   */
  private async onlyRunsIn(from: string | undefined, r: { tip: string; gens: Map<string, string> }, gensBefore: Map<string, string>, runs: string[]): Promise<boolean> {
    if (!from || !r.tip || !this.o.runsChanged) return false
    const moved = await this.o.runsChanged(from, r.tip).catch(() => undefined)
    if (!moved || moved.some((id) => !r.gens.has(id) && !gensBefore.has(id))) return false
    for (const id of moved) if (!runs.includes(id)) runs.push(id)
    return true
  }

  private remember(r: { version: string; tip: string; gens: Map<string, string> }): void {
    this.last = r.version
    this.lastTip = r.tip
    this.lastGens = r.gens
    this.lastAt = performance.now()
  }

  private stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Ends every stream (server shutdown). */
  close(): void {
    this.stop()
    for (const l of this.listeners) l.end()
    this.listeners.clear()
  }
}

/**
 * The `<meta>` that tells a page's islands where the live channel is (inserted into pages served live); on a run page
 * also the `page` key its run JSON carries (live-pages.ts pageShape; a hash, nothing to escape), so the page knows
 * when what it shows is older than the run.
 */
export function liveMeta(html: string, page?: string): string {
  const key = page && /^[\w-]+$/.test(page) ? `<meta name="labbook-page" content="${page}">` : ''
  return html.replace(/<head>/i, `<head><meta name="labbook-live" content="${LIVE_PREFIX}">${key}`)
}

function hash(s: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(36)
}
