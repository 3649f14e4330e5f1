/** The registry as the site shows it: one page per registered model, joined to the runs its versions came from. */
import { aliasesOf, liveVersions, type ModelRecord } from '../../model/registry.js'
import type { RunSummary } from '../../model/run.js'
import { metricGoal, type Goal, type JudgeConfig } from '../../judge/index.js'
import { renderMarkdown } from './markdown.js'
import type { ExperimentView, ModelRef, ModelVersionView, ModelView } from '../browser/snapshot.js'
import { keyed } from '../../model/run.js'

/** How many primary metrics of a source run a version row shows. */
const METRICS_SHOWN = 3

/** A 32-bit FNV-1a of the UTF-8 bytes, as 8 hex digits (enough to keep two sanitised names apart). */
function fnv(s: string): string {
  let h = 0x811c9dc5
  for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0
  return h.toString(16).padStart(8, '0')
}

/**
 * The folder of a model's page: the name itself when it is a plain URL segment, else the name with every run of other
 * characters as `-` plus a hash of the name. Unique among `taken` (compared case-insensitively, for case-insensitive
 * file systems).
 * @example modelSlug('iris', new Set()) // 'iris'; modelSlug('a/b c', new Set()) // 'a-b-c-1f3e…'
 */
export function modelSlug(name: string, taken: Set<string>): string {
  let slug = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/.test(name) && !name.includes('..') && !/\.$/.test(name)
    ? name
    : `${name.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'model'}-${fnv(name)}`
  for (let i = 2; taken.has(slug.toLowerCase()); i++) slug = `${slug.replace(/~\d+$/, '')}~${i}`
  taken.add(slug.toLowerCase())
  return slug
}

export interface ModelViewsInput {
  records: readonly ModelRecord[]
  /** The runs in the site (active runs of active experiments). */
  runs: readonly RunSummary[]
  experiments: readonly ExperimentView[]
  judge?: JudgeConfig
}

/**
 * Builds the model pages' data and, per source run, the versions registered from it.
 * @example const { models, modelRefs } = modelViews({ records: await book.listModels(), runs, experiments })
 */
export function modelViews(o: ModelViewsInput): { models: ModelView[]; modelRefs: Record<string, ModelRef[]> } {
  const runById = new Map(o.runs.map((r) => [r.id, r]))
  const expById = new Map(o.experiments.map((e) => [e.id, e]))
  const taken = new Set<string>()
  const modelRefs = keyed<ModelRef[]>()
  const goals = new Map<string, Goal | undefined>()
  const goalOf = (exp: string, key: string, tags?: Record<string, string>) => {
    const k = `${exp}\u0000${key}`
    if (!goals.has(k)) goals.set(k, metricGoal(key, { config: o.judge, tags }).goal)
    return goals.get(k)
  }
  const models = o.records.map((rec): ModelView => {
    const m = rec.model
    const slug = modelSlug(m.name, taken)
    const live = liveVersions(rec)
    const byId = new Map(live.map((v) => [v.id, v]))
    const versions = [...live].reverse().map((v): ModelVersionView => {
      const view: ModelVersionView = {
        version: v.version, stage: v.stage, status: v.status, aliases: aliasesOf(rec, v), createdAt: v.createdAt,
        source: v.source, tags: v.tags ?? {},
      }
      for (const f of ['user', 'description', 'modelId', 'renumberedFrom', 'runId'] as const) if (v[f] !== undefined && v[f] !== '') (view as unknown as Record<string, unknown>)[f] = v[f]
      const run = v.runId ? runById.get(v.runId) : undefined
      if (run) {
        const exp = expById.get(run.experiment)
        const keys = (exp?.primaryMetrics ?? []).filter((k) => run.metrics[k]).slice(0, METRICS_SHOWN)
        view.run = {
          id: run.id, name: run.name, status: run.status, experiment: run.experiment,
          metrics: keys.map((key) => {
            const goal = goalOf(run.experiment, key, exp?.tags)
            return { key, value: run.metrics[key]!.value, ...(goal ? { goal } : {}) }
          }),
        }
        ;(modelRefs[run.id] ??= []).push({ name: m.name, slug, version: v.version, stage: v.stage, aliases: view.aliases })
      }
      return view
    })
    const view: ModelView = {
      name: m.name, slug, createdAt: m.createdAt, updatedAt: m.updatedAt, tags: m.tags ?? {},
      aliases: rec.aliases.filter((a) => byId.has(a.versionId)).map((a) => ({ alias: a.alias, version: byId.get(a.versionId)!.version })),
      versions,
    }
    if (m.description) {
      view.descriptionHtml = renderMarkdown(m.description)
      // plain text for the index: Markdown's emphasis and code marks dropped, links as their text
      const first = m.description.trim().split('\n')[0]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[*_`#>]+/g, '').trim()
      view.summary = first.length > 140 ? `${first.slice(0, 139)}…` : first
    }
    return view
  })
  for (const refs of Object.values(modelRefs)) refs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version - b.version))
  return { models, modelRefs }
}
