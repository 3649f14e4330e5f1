/** The data the build driver (`labbook-lib/site/build`) hands to the pages, in-process: no content store, no re-parsing. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SiteData } from 'labbook-lib/site/snapshot.js'
import type { SeriesFile } from 'labbook-lib/site/charts/series.js'
import { decodeSeries, type Series } from 'labbook-lib/site/charts/series.js'
import { joinBase } from 'labbook-lib/site/format.js'

export interface SiteContext { data: SiteData; filesDir: string; base: string }

export function site(): SiteContext {
  const ctx = (globalThis as { __LABBOOK_SITE__?: SiteContext }).__LABBOOK_SITE__
  if (!ctx) throw new Error('No labbook data: build this site with `labbook site build` (or buildSite()), not with `astro build`.')
  return ctx
}

const indexes = new WeakMap<SiteData, { runById: Map<string, SiteData['runs'][number]>; runsByExperiment: Map<string, SiteData['runs']> }>()
/** Lookups built once per build (pages render 10,000 times; a scan per page would be quadratic). */
export function lookups(data: SiteData = site().data) {
  let ix = indexes.get(data)
  if (!ix) {
    const runById = new Map(data.runs.map((r) => [r.id, r]))
    const runsByExperiment = new Map<string, SiteData['runs']>()
    for (const r of data.runs) (runsByExperiment.get(r.experiment) ?? runsByExperiment.set(r.experiment, []).get(r.experiment)!).push(r)
    indexes.set(data, (ix = { runById, runsByExperiment }))
  }
  return ix
}

/** Link to a page or file inside the site, under the configured base. */
export const href = (path: string): string => joinBase(site().base, path)

/** Reads a series file the collector wrote (for first-paint charts). */
export function readSeries(file: string): Series {
  return decodeSeries(JSON.parse(readFileSync(join(site().filesDir, file), 'utf8')) as SeriesFile)
}
