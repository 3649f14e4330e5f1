/**
 * What pages render from, passed explicitly: `site(Astro)` is the request's context when a server renders on demand
 * (`Astro.locals.labbook`, set per request), else the static build's (the file the driver named in the virtual
 * module `labbook:site-data`, see labbook-lib/site/build/site-data.ts). No content store, no globals.
 */
import { statSync } from 'node:fs'
import staticFile from 'labbook:site-data'
import { readSiteData, type SiteContext } from 'labbook-lib/site/build/site-data.js'
import type { SiteData } from 'labbook-lib/site/browser/snapshot.js'
import { joinBase } from 'labbook-lib/site/browser/display.js'

export type { SiteContext }

let staticContext: { ctx: SiteContext; stamp: string } | undefined

/** The site's data for this render. Pass `Astro` (or nothing in `getStaticPaths`, which only static builds call). */
export function site(astro?: { locals: App.Locals }): SiteContext {
  const live = astro?.locals.labbook
  if (live) return live
  if (!staticFile) throw new Error('No labbook data: build this site with `labbook site build` (or buildSite()), not with `astro build`.')
  // Node keeps the pages' bundle of a build in its module cache, so a second build in one process (a bench, a
  // server that rebuilds) runs this module again without re-evaluating it: reload when the file changed.
  const st = statSync(staticFile, { bigint: true })
  const stamp = `${st.mtimeNs}:${st.size}:${st.ino}`
  if (staticContext?.stamp !== stamp) staticContext = { ctx: readSiteData(staticFile), stamp }
  return staticContext.ctx
}

const indexes = new WeakMap<SiteData, { runById: Map<string, SiteData['runs'][number]>; runsByExperiment: Map<string, SiteData['runs']> }>()
/** Lookups built once per data (pages render 10,000 times; a scan per page would be quadratic). */
export function lookups(data: SiteData) {
  let ix = indexes.get(data)
  if (!ix) {
    const runById = new Map(data.runs.map((r) => [r.id, r]))
    const runsByExperiment = new Map<string, SiteData['runs']>()
    for (const r of data.runs) (runsByExperiment.get(r.experiment) ?? runsByExperiment.set(r.experiment, []).get(r.experiment)!).push(r)
    indexes.set(data, (ix = { runById, runsByExperiment }))
  }
  return ix
}

/** Link to a page or file inside the site, under the base it is built or served with. */
export const href = (path: string): string => joinBase(import.meta.env.BASE_URL, path)
