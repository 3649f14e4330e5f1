/**
 * What a run's page is drawn from, one shape for every way it is drawn (site/src/islands/RunPage.tsx `RunView`): the
 * static build's rendered pages and `labbook serve`'s live pages (server-side, from the site data), and the run-page
 * shell (in the browser, from `data/runs/<id>.json` and `data/runs/<id>/page.json`, which the build writes with these
 * same functions). Pure: no Node imports.
 */
import type { RunSummary } from '../../model/run.js'
import { runDuration } from '../../model/run.js'
import { commitUrl } from './links.js'
import type { ImageSeries } from './image-steps.js'
import type { MetricFile, ModelRef, RunDetail, RunPageData, RunRow } from './snapshot.js'

/** `data/runs/<id>.json`: a run's table row, its metric files and image series. */
export type RunJson = RunRow & { metricFiles: MetricFile[]; imageSeries?: ImageSeries[] }

/** A run's row with its full metric summaries (step, min, max, count): `data/runs/<id>.json` keeps them; the table's columns keep the value. */
export function tableRun(r: RunSummary, children?: number): RunRow {
  const { description: _d, ...rest } = r
  const t: RunRow = { ...rest, duration: runDuration(r) }
  if (children) t.children = children
  const url = commitUrl(r.source?.remote, r.source?.commit)
  if (url) t.commitUrl = url
  return t
}

/** A run's `data/runs/<id>.json`. */
export function runJson(r: RunSummary, d: RunDetail, children?: number): RunJson {
  return { ...tableRun(r, children), metricFiles: d.metrics, ...(d.imageSeries ? { imageSeries: d.imageSeries } : {}) }
}

/** Re-exported from its owner, src/model/run.ts (the site's pages import it from here). */
export { keyedRun } from '../../model/run.js'

/** Run names by id: a Map, or a view over the site's runs (a page must not build a map of 10,000 runs for itself). */
export interface RunNames { get(id: string): string | undefined; has(id: string): boolean }

/** What a run's page shows besides its `RunJson`: its details and the names around it (`data/runs/<id>/page.json`). */
export function runPageData(modelRefs: Record<string, ModelRef[]>, r: RunSummary, d: RunDetail, names: RunNames, experimentName: string | undefined): RunPageData {
  const { metrics: _m, imageSeries: _i, ...detail } = d
  const name = (id: string) => ({ id, name: names.get(id) ?? '', exists: names.has(id) })
  return {
    ...detail,
    experimentName: experimentName ?? null,
    parent: r.parent ? name(r.parent) : null,
    childLinks: d.children.map(name),
    modelRefs: modelRefs[r.id] ?? [],
  }
}
