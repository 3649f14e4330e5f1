/**
 * The one hand-off of data to the site's pages. `loadSiteData(source)` reads a `SiteSource` (a revision of the
 * branch, or the tip plus the journals of runs in progress) into a `SiteContext`; pages get it either from the
 * static build (the driver writes it to a file and names the file in the virtual module `labbook:site-data`, see
 * `siteDataPlugin`) or, rendered on demand, from `Astro.locals.labbook` set per request by the server.
 * Pages read it through `site(Astro)` in site/src/lib/page-context.ts; no global variable carries data.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { decodeSeries, parsePackedRef, type Series, type SeriesFile } from '../browser/charts/series.js'
import type { SiteData } from '../browser/snapshot.js'
import { keyedRun } from '../browser/run-view.js'
import { collectSite, type CollectOptions } from './collect.js'
import type { SiteSource } from './source.js'

/** What a page renders from: the collected data plus a reader for the series files the collector wrote. */
export interface SiteContext {
  data: SiteData
  /** Folder holding `data/…` and `artifacts/…` as the collector wrote them. */
  filesDir: string
  /** Reads one series file of `filesDir` (the first-paint charts). */
  readSeries(file: string): Series
  /** Rendered per request by the live server (`labbook serve`/`ui`): pages keep room for what a run in progress has not logged yet. */
  live?: boolean
}

/** The serialisable part of a `SiteContext`: what the static build writes for its pages. */
export interface SiteContextFile { data: SiteData; filesDir: string }

/** The series of a packed file (`data/runs/<id>/series.bin`: gzip-compressed JSON, one series per metric). */
export function readSeriesPack(dir: string, file: string): SeriesFile[] {
  return JSON.parse(gunzipSync(readFileSync(join(dir, file))).toString('utf8')) as SeriesFile[]
}

/** One series file of a built site, undecoded: `MetricFile.file` or `.full`, a JSON file or a packed ref (`series.bin#<n>`). */
export function readSeriesFile(dir: string, ref: string, pack: (file: string) => SeriesFile[] = (f) => readSeriesPack(dir, f)): SeriesFile {
  const packed = parsePackedRef(ref)
  if (!packed) return JSON.parse(readFileSync(join(dir, ref), 'utf8')) as SeriesFile
  const s = pack(packed.file)[packed.index]
  if (!s) throw new Error(`No series ${packed.index} in ${packed.file}`)
  return s
}

/** Gives a page context its series reader (a page reads one run's series in a row: the last packed file is kept). */
export function siteContext(f: SiteContextFile): SiteContext {
  let last: { file: string; series: SeriesFile[] } | undefined
  const pack = (file: string) => (last?.file === file ? last : (last = { file, series: readSeriesPack(f.filesDir, file) })).series
  return { data: f.data, filesDir: f.filesDir, readSeries: (ref) => decodeSeries(readSeriesFile(f.filesDir, ref, pack)) }
}

/**
 * Reads a site's data from any source: `book.at(rev)` (a revision of the branch), a live book (the tip plus
 * journals), or a fake. Writes the series, table and artifact files into `o.filesDir` as the static site serves them.
 * @example const ctx = await loadSiteData(await book.at('labbook'), { filesDir: '/tmp/files' })
 */
export async function loadSiteData(source: SiteSource, o: CollectOptions): Promise<SiteContext> {
  return siteContext({ data: await collectSite(source, o), filesDir: o.filesDir })
}

/** Writes a context for a static build's pages (read back once by `readSiteData`). */
export function writeSiteData(file: string, ctx: SiteContextFile): void {
  writeFileSync(file, JSON.stringify({ data: ctx.data, filesDir: ctx.filesDir } satisfies SiteContextFile))
}

/**
 * Reads what `writeSiteData` wrote: what the `labbook:site-data` module of a static build evaluates to. The runs'
 * params, tags and metrics come back prototype-less, as the live server's are (a metric named `constructor` is a key).
 */
export function readSiteData(file: string): SiteContext {
  const f = JSON.parse(readFileSync(file, 'utf8')) as SiteContextFile
  f.data.runs = f.data.runs.map(keyedRun)
  return siteContext(f)
}

export const SITE_DATA_MODULE = 'labbook:site-data'

/**
 * The Vite plugin that defines `labbook:site-data` for the pages: the path of the file a static build wrote with
 * `writeSiteData`, or `null` (a server build whose pages get their data per request from `Astro.locals.labbook`).
 */
export function siteDataPlugin(file: string | null) {
  const resolved = '\0' + SITE_DATA_MODULE
  return {
    name: 'labbook-site-data',
    resolveId: (id: string) => (id === SITE_DATA_MODULE ? resolved : undefined),
    load: (id: string) => (id === resolved ? `export default ${JSON.stringify(file)}\n` : undefined),
  }
}
