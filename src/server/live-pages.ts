/**
 * The site of `labbook serve` / `labbook ui`, rendered per request: the static build's pages (the live renderer, see
 * src/site/build/renderer.ts) fed with the branch plus the journals of runs in progress, and the site's data files
 * (`data/…`, `artifacts/…`) computed on demand in the same shapes the static build writes (src/site/collect.ts).
 * Everything is cached per live version (branch tip + journal generation): a page nobody changed costs a lookup.
 */
import { createHash } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import type { RunSummary } from '../model/run.js'
import { artifactKind, artifactOutPath, safePreviewType } from '../site/build/artifact-files.js'
import { collectRun, experimentTable, runJson, summarizeSite, type RunFileSink, type SiteSummaries } from '../site/build/collect.js'
import { withScriptHashes } from '../site/build/csp.js'
import { readCodeHistory, type CodeHistory } from '../site/build/code-commits.js'
import type { JudgeConfig } from '../judge/index.js'
import type { Renderer } from '../site/build/renderer.js'
import type { RunDetail, SiteData } from '../site/browser/snapshot.js'
import type { SiteSource } from '../site/build/source.js'
import { decodeSeries, type SeriesFile } from '../site/browser/charts/series.js'
import { encodeTail, type RunTick, type TailJson } from '../site/browser/live-tick.js'
import { tableRun } from '../site/browser/run-view.js'
import type { SeriesColumns } from '../track/history.js'
import { keyed } from '../model/run.js'
import { DRAWN_POINTS } from '../model/minmax.js'
import { LabbookError } from '../errors.js'
import { sendJson } from './http.js'
import { liveMeta } from './live.js'
import { serveStatic } from '../site/build/static.js'

/** What the live pages read: the site's source (a `Labbook`: branch + journals) and its change counter. */
export interface LivePagesOptions {
  source: SiteSource
  /**
   * One moment of `source` (`LiveReader.snapshot()`): each version's pages and data are read from one, so a run
   * page's metrics table and its charts count the same points. Without it, `source` is read as it goes.
   */
  snapshot?: () => Promise<SiteSource>
  /** The live channel's version (`LiveChannel.version()`): tip + journal generation. */
  version: () => Promise<string>
  /** The renderer, once built (`ensureRenderer` + `loadRenderer`); pages answer "being prepared" until then. */
  renderer: Promise<Renderer>
  title: string
  /** The branch shown, named in the footer. */
  branch?: string
  /** The repository's git dir: code commits get their subject, author and history order, as in the static build. */
  gitdir?: string
  judge?: JudgeConfig
  /** Points per drawn line, as the static build. @default 1500 */
  maxPoints?: number
  /** Artifacts larger than this are listed, not served (as the static build). @default 20 MB */
  maxArtifactBytes?: number
  /** How long after a page last asked for a run the run counts as watched (`watched`), ms. @default 5000 */
  watchMs?: number
  /**
   * One moment of the book for the ticks pushed to pages (`ticks`): a `LiveSnapshot` (`book.snapshot()`). Without it
   * nothing is pushed and pages ask for what they draw.
   */
  tickSource?: () => Promise<TickSource>
}

/** What `ticks` reads: a run and its series in progress (LiveReader). */
export interface TickSource {
  getRun(id: string): Promise<RunSummary>
  liveMetricColumns(id: string): Promise<Map<string, SeriesColumns> | undefined>
}

interface RunFiles { detail: RunDetail; files: Map<string, () => string | Promise<string>> }
interface Snapshot { version: string; source: Promise<SiteSource>; summaries: Promise<SiteSummaries>; data?: Promise<SiteData> }

/** How long after a page last asked for a run (its page, its JSON, its series) the run counts as watched, ms. */
const WATCH_MS = 5000
const PAGE_CACHE = 200
const RUN_CACHE = 64
/** Snapshots kept after a newer one: a page asking for the version its event named (`?v=`) gets that one. */
const SNAPSHOTS = 4

/**
 * Serves the site under `/` from the live data.
 * @example const pages = new LivePages({ source: book, version: () => live.version(), renderer, title: 'repo' })
 */
export class LivePages {
  private readonly snaps = new Map<string, Snapshot>()
  private readonly runs = new Map<string, { key: string; files: Promise<RunFiles> }>()
  private readonly pages = new Map<string, { key: string; status: number; body: Buffer }>()
  private readonly code = new Map<string, Promise<CodeHistory>>()
  private renderer: Renderer | undefined
  private failed: Error | undefined
  /** When a page last asked for each run, and for a page showing every run (home, experiments, compare, models). */
  private readonly asked = new Map<string, number>()
  private askedAll = -Infinity
  /** Per run a tick was pushed for: how many points of each metric it held (the next tick sends those past them). */
  private readonly sent = new Map<string, Map<string, number>>()

  constructor(private readonly o: LivePagesOptions) {
    o.renderer.then((r) => {
      this.renderer = r
      // the first render loads the pages' modules (Plot, React): seconds on a busy machine, so not in a user's request
      void this.page('/').then(() => this.page('/runs/-/')).catch(() => {})
    }, (e: Error) => (this.failed = e))
  }

  /**
   * Whether an open page looks at run `id`: it asked for the run (page, JSON, series) or for a page of every run within
   * the last `watchMs`. An open page asks at least once a second while its run changes (live-channel.ts).
   */
  watched(id: string): boolean {
    const now = performance.now(), ms = this.o.watchMs ?? WATCH_MS
    return now - this.askedAll < ms || now - (this.asked.get(id) ?? -Infinity) < ms
  }

  /** Runs an open page shows, as its live channel names them (`/live/watch`): watched as if the page had asked. */
  noteWatched(ids: string[]): void {
    const now = performance.now()
    for (const id of ids) { this.asked.delete(id); this.asked.set(id, now) }
    this.trimAsked(now)
  }

  private trimAsked(now: number): void {
    if (this.asked.size > 4096) for (const [k, t] of this.asked) if (now - t >= (this.o.watchMs ?? WATCH_MS)) this.asked.delete(k)
  }

  /**
   * What the change event naming `ids` (runs whose journals moved) pushes to the pages (src/site/browser/live-tick.ts):
   * for each run an open page watches and still in progress, its row and each metric's points past those the last
   * tick sent, all read from one moment of the book. A page following the stream redraws from these alone.
   */
  async ticks(ids: string[]): Promise<Record<string, RunTick>> {
    const out = keyed<RunTick>()
    const want = ids.filter((id) => this.watched(id))
    for (const id of this.sent.keys()) if (!this.watched(id)) this.sent.delete(id)
    if (!want.length || !this.o.tickSource) return out
    const src = await this.o.tickSource()
    for (const id of want) {
      const cols = await src.liveMetricColumns(id)
      if (!cols) { this.sent.delete(id); continue }
      const run = await src.getRun(id)
      const before = this.sent.get(id), now = new Map<string, number>()
      const series = keyed<TailJson>()
      for (const [k, c] of cols) {
        const n = c.value.length
        series[k] = encodeTail(c, Math.min(before?.get(k) ?? n, n), this.o.maxPoints ?? DRAWN_POINTS)
        now.set(k, n)
      }
      this.sent.set(id, now)
      out[id] = { run: tableRun(run), series, maxPoints: this.o.maxPoints ?? DRAWN_POINTS }
    }
    return out
  }

  private note(path: string): void {
    if (path.startsWith('/_astro/') || path.startsWith('/artifacts/')) return
    const now = performance.now()
    const run = /^\/(?:data\/)?runs\/([\w-]{1,100})(?:\/|\.json)/.exec(path)?.[1]
    if (!run || run === '-') { this.askedAll = now; return }
    this.trimAsked(now)
    this.asked.set(run, now)
  }

  /** Answers a GET/HEAD of the site; false when nothing is at `path` (the caller answers 404). */
  async handle(path: string, search: string, res: ServerResponse, head: boolean): Promise<boolean> {
    this.note(path)
    // `?v=<version>`: the version a change event named; answered from that snapshot while it is kept (the page's
    // table and its charts, fetched apart, then show one moment)
    const v = /[?&]v=([^&]*)/.exec(search)?.[1]
    const asked = v === undefined ? undefined : safeDecode(v)
    if (path.startsWith('/data/')) return this.data(path.slice(1), res, asked)
    if (path.startsWith('/artifacts/')) return this.artifact(path.slice(1), res, head)
    const r = this.renderer
    if (!r) {
      if (path.startsWith('/_astro/')) return false
      const msg = this.failed ? `The live pages could not be prepared: ${this.failed.message}` : 'Preparing the live pages (first start of this labbook version: Astro compiles them once, under a minute)… this page reloads itself.'
      const html = `<!doctype html><meta charset="utf-8"><meta name="color-scheme" content="light dark">${this.failed ? '' : '<meta http-equiv="refresh" content="3">'}<title>labbook</title><p>${escapeHtml(msg)}</p>\n`
      res.writeHead(this.failed ? 500 : 503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '3' })
      res.end(head ? undefined : html)
      return true
    }
    if (path.startsWith('/_astro/')) return serveStatic(r.clientDir, path, res, { head })
    if (!path.endsWith('/') && !/\.[a-z]+$/i.test(path)) {
      // as a static host does: /runs/x → /runs/x/ (relative links then resolve)
      res.writeHead(301, { location: path + '/' + search })
      res.end()
      return true
    }
    const page = await this.page(path, asked)
    res.writeHead(page.status, { 'content-type': 'text/html; charset=utf-8', 'content-length': page.body.length, 'cache-control': 'no-cache' })
    res.end(head ? undefined : page.body)
    return true
  }

  /** A rendered page, from the cache when nothing changed since. */
  async page(path: string, asked?: string): Promise<{ status: number; body: Buffer }> {
    const snap = await this.at(asked)
    const version = snap.version
    const m = /^\/runs\/([\w-]{1,100})\/$/.exec(path)
    // A run page shows its run, its parent's and children's names and what the tip holds (experiments, models): while
    // other runs log (every journal write is a new version) its render is reused.
    const key = m ? await runPageKey(snap, m[1]!, version) : version
    const hit = this.pages.get(path)
    if (hit && hit.key === key) return hit
    const r = await this.o.renderer
    const data = await this.siteData(snap)
    let files: RunFiles['files'] | undefined
    if (m && data.runs.some((x) => x.id === m[1])) {
      const f = await this.runFiles(snap, m[1]!)
      data.details[m[1]!] = f.detail
      files = f.files
    }
    const readSeries = (file: string) => {
      const text = files?.get(file)?.()
      if (typeof text !== 'string') throw new LabbookError('IO_FAILED', `No series ${file} for this page.`)
      return decodeSeries(JSON.parse(text) as SeriesFile)
    }
    const out = await r.render(`http://labbook.localhost${path}`, { data, filesDir: '', live: true, readSeries })
    const run = m ? (await snap.summaries).runs.find((x) => x.id === m[1]) : undefined
    const body = Buffer.from(liveMeta(withScriptHashes(out.body), run && pageShape(await snap.summaries, run)))
    const page = { key, status: out.status, body }
    this.pages.delete(path)
    this.pages.set(path, page)
    if (this.pages.size > PAGE_CACHE) this.pages.delete(this.pages.keys().next().value!)
    return page
  }

  /** The snapshot a request reads: the version it asked for while kept, else the current one. */
  private async at(asked: string | undefined): Promise<Snapshot> {
    const kept = asked === undefined ? undefined : this.snaps.get(asked)
    return kept ?? this.snapshot(await this.o.version())
  }

  private snapshot(version: string): Snapshot {
    const hit = this.snaps.get(version)
    if (hit) return hit
    const source = this.o.snapshot ? this.o.snapshot() : Promise.resolve(this.o.source)
    const summaries = source.then((src) => summarizeSite(src, { judge: this.o.judge, codeHistory: this.o.gitdir ? (ids) => this.codeHistory(ids) : undefined }))
    summaries.catch(() => this.snaps.delete(version))
    const snap: Snapshot = { version, source, summaries }
    this.snaps.set(version, snap)
    if (this.snaps.size > SNAPSHOTS) this.snaps.delete(this.snaps.keys().next().value!)
    return snap
  }

  /** Code commits never change: their subjects and order are read from git once per set of ids (three git processes). */
  private codeHistory(ids: string[]): Promise<CodeHistory> {
    const k = [...ids].sort().join(',')
    let h = this.code.get(k)
    if (!h) {
      if (this.code.size > 50) this.code.clear()
      this.code.set(k, (h = readCodeHistory(this.o.gitdir!, ids)))
    }
    return h
  }

  private siteData(snap: Snapshot): Promise<SiteData> {
    snap.data ??= snap.summaries.then((s) => ({
      title: this.o.title, rev: this.o.branch ?? 'labbook', commit: null, generatedAt: Date.now(),
      experiments: s.experiments, runs: s.runs, details: {}, commits: s.commits, models: s.models, modelRefs: s.modelRefs, problems: s.problems, judge: this.o.judge ?? {},
    }))
    // each render gets its own details (the run page puts its run's in)
    return snap.data.then((d) => ({ ...d, details: {} }))
  }

  /** A run's details and data files, recomputed only when its summary changed. */
  private async runFiles(snap: Snapshot, id: string): Promise<RunFiles> {
    const s = await snap.summaries
    const run = s.runs.find((r) => r.id === id)
    if (!run) throw new LabbookError('RUN_NOT_FOUND', `No run ${id}.`)
    const key = JSON.stringify(run)
    const hit = this.runs.get(id)
    if (hit && hit.key === key) return hit.files
    const files = snap.source.then((src) => this.collect(src, run, s.children.get(id) ?? []))
    files.catch(() => this.runs.delete(id))
    this.runs.delete(id)
    this.runs.set(id, { key, files })
    if (this.runs.size > RUN_CACHE) this.runs.delete(this.runs.keys().next().value!)
    return files
  }

  private async collect(source: SiteSource, run: RunSummary, children: string[]): Promise<RunFiles> {
    const files = new Map<string, () => string | Promise<string>>()
    const sink: RunFileSink = {
      async put(rel, make) {
        let memo: string | Promise<string> | undefined
        files.set(rel, () => (memo ??= make()))
      },
      // Artifacts are read from the book when fetched; only text (previews, log, diff) is read here.
      artifact: async (src, id, path, _rel, wantBytes) => (wantBytes && artifactKind(path) === 'text' ? src.readArtifact(id, path) : undefined),
    }
    const detail = await collectRun(source, run, sink, {
      maxPoints: this.o.maxPoints ?? DRAWN_POINTS, maxArtifact: this.o.maxArtifactBytes ?? 20 * 1024 * 1024, previewBytes: 8192, children, sampled: true,
    })
    return { detail, files }
  }

  private async data(rel: string, res: ServerResponse, asked?: string): Promise<boolean> {
    const snap = await this.at(asked)
    const s = await snap.summaries
    if (rel === 'data/judge.json') return json(res, s.judgeData)
    let m = /^data\/experiments\/([\w-]{1,100})\/runs\.json$/.exec(rel)
    if (m) return s.experiments.some((e) => e.id === m![1]) ? json(res, experimentTable(s, m[1]!)) : false
    m = /^data\/runs\/([\w-]{1,100})\.json$/.exec(rel)
    if (m) {
      const run = s.runs.find((r) => r.id === m![1])
      if (!run) return false
      const f = await this.runFiles(snap, run.id)
      return json(res, { ...runJson(s, run, f.detail), page: pageShape(s, run) })
    }
    m = /^data\/runs\/([\w-]{1,100})\/m\/\d+(\.full)?\.json$/.exec(rel)
    if (m) {
      if (!s.runs.some((r) => r.id === m![1])) return false
      const make = (await this.runFiles(snap, m[1]!)).files.get(rel)
      if (!make) return false
      sendJson(res, 200, await make())
      return true
    }
    return false
  }

  /** `artifacts/<run>/<path>` as the static build names them (off the allow-list: `<name>.txt`, a download). */
  private async artifact(rel: string, res: ServerResponse, head: boolean): Promise<boolean> {
    let parts: string[]
    try { parts = rel.split('/').map(decodeURIComponent) } catch { return false }
    const [, id, ...segs] = parts
    if (!id || !/^[\w-]{1,100}$/.test(id) || !segs.length) return false
    const snap = this.snapshot(await this.o.version())
    if (!(await snap.summaries).runs.some((r) => r.id === id)) return false
    const want = segs.join('/')
    const list = await this.o.source.listArtifacts(id)
    const entry = list.find((a) => artifactOutPath(id, a.path) === ['artifacts', id, ...segs].join('/'))
    if (!entry || entry.size > (this.o.maxArtifactBytes ?? 20 * 1024 * 1024)) return false
    const bytes = await this.o.source.readArtifact(id, entry.path)
    const type = safePreviewType(want)
    res.writeHead(200, {
      'content-type': type ?? 'application/octet-stream', 'content-length': bytes.byteLength, 'cache-control': 'no-cache',
      ...(type ? {} : { 'content-disposition': 'attachment' }),
    })
    res.end(head ? undefined : bytes)
    return true
  }
}

/**
 * What a run page's render depends on besides the template: the run, its parent's and children's names, its
 * experiment's name, the models that name it (and whether there are models: the nav). Not the tip: while 20 runs log
 * and commit, a page whose run did not change is not rendered again.
 */
async function runPageKey(snap: Snapshot, id: string, version: string): Promise<string> {
  const s = await snap.summaries
  const run = s.runs.find((r) => r.id === id)
  return run ? pageKeyOf(s, run, run) : version
}

function pageKeyOf(s: SiteSummaries, run: RunSummary, shown: unknown): string {
  const related = [run.parent ?? '', ...(s.children.get(run.id) ?? [])].map((r) => s.runs.find((x) => x.id === r)?.name ?? '')
  const exp = s.experiments.find((e) => e.id === run.experiment)?.name
  return JSON.stringify([shown, related, exp, s.models.length > 0, s.modelRefs[run.id] ?? []])
}

/**
 * What a live run page shows besides its metrics' numbers (those the page sets from the run JSON itself), as a short
 * hash sent in the run JSON (`page`): the page refetches itself only when this changes, not on every commit of any
 * run (with 20 runs logging, 20 open run pages re-rendered on every tip move cost the server more than the logging).
 */
function pageShape(s: SiteSummaries, run: RunSummary): string {
  const { metrics, ...rest } = run
  return hash(pageKeyOf(s, run, [rest, Object.keys(metrics).sort()]))
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 16)
}

function json(res: ServerResponse, v: unknown): true {
  sendJson(res, 200, JSON.stringify(v))
  return true
}

function safeDecode(s: string): string | undefined {
  try { return decodeURIComponent(s) } catch { return undefined }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
