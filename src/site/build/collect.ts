/** Reads a revision through the library and prepares everything the site needs: the summaries and the static data files. */
import { DRAWN_POINTS } from '../../model/minmax.js'
import { createHash } from 'node:crypto'
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { Experiment } from '../../model/experiment.js'
import { ARTIFACTS_DIR, DIFF_ARTIFACT, LOG_ARTIFACT, runDir } from '../../model/layout.js'
import type { MetricPoint, RunSummary } from '../../model/run.js'
import { artifactKind, artifactOutPath, hrefOf, textPreview } from './artifact-files.js'
import { encodeSeries, packedSeriesRef } from '../browser/charts/series.js'
import { renderMarkdown } from './markdown.js'
import { imageSeries, seriesPaths } from '../browser/image-steps.js'
import { modelViews } from './model-views.js'
import { bestRun, commitSteps, eligibleValue, judgeExperiment, metricGoal, type JudgeConfig, type GroupScore } from '../../judge/index.js'
import type { CodeHistory } from './code-commits.js'
import { commitUrl, lfsDownloadUrl } from '../browser/links.js'
import { encodeTable, type TableData } from '../browser/table-data.js'
import { runJson as runJsonOf, runPageData, tableRun, type RunJson } from '../browser/run-view.js'
import { STATIC_ROWS, type ArtifactView, type CommitView, type ExperimentView, type GroupView, type JudgeData, type MetricFile, type Problem, type RunDetail, type SiteData } from '../browser/snapshot.js'

export { tableRun }
import type { SiteSource } from './source.js'

export interface CollectOptions {
  /** Folder that receives `data/` and `artifacts/` (copied into the site output). */
  filesDir: string
  title?: string
  rev?: string
  commit?: string | null
  /** Points per line in the drawing series; longer histories also get a full file. @default 1500 */
  maxPoints?: number
  /** Artifacts larger than this stay out of the site (linked on the remote's LFS host when it has download URLs, else listed). @default 20 MB */
  maxArtifactBytes?: number
  /** Bytes of text shown inline per artifact preview. @default 8192 */
  previewBytes?: number
  /** Runs read at the same time. @default 8 */
  concurrency?: number
  /** Goals, primary metrics and seed params (labbook.config.yaml, read by `loadConfig`). @default {} */
  judge?: JudgeConfig
  /** Subject, author, date and history order of the code commits (from git, `readCodeHistory`). @default run start order, no subjects */
  codeHistory?: (ids: string[]) => Promise<CodeHistory>
  /** Git tree id of each run folder (`SiteSource.runTrees`): with it every run gets a key (`SiteData.runKeys`). */
  trees?: Map<string, string>
  /** Keys of the previous build's runs: a run whose key is unchanged is not read again (`SiteData.reused`). */
  previous?: Record<string, string>
  /**
   * Runs that get a page of their own, rendered at build time (readable without JavaScript, first-paint charts): the
   * newest `STATIC_ROWS` of each experiment (the ones its no-JS table links), newest first, at most this many. Every
   * other run's page is a copy of the shared run-page shell (`runs/index.html`), which renders it in the browser from
   * `data/runs/<id>.json` and `data/runs/<id>/page.json`. @default 1000
   */
  fullPages?: number
  /**
   * Commits the remote has (src/sync/published.ts `publishedCommits`): large LFS artifacts link at the last commit
   * that changed them on a remote ref, not at the built revision (a merge made by the build's own `labbook pull` is
   * on no host, and a link at it would 404). @default links name the built revision
   */
  published?: { commitFor(path: string): Promise<string | undefined>; has(commit: string): Promise<boolean> }
}

const SAFE_ID = /^[A-Za-z0-9_-]{1,100}$/

async function everyAsync<T>(items: T[], fn: (t: T) => Promise<boolean>): Promise<boolean> {
  for (const t of items) if (!(await fn(t))) return false
  return true
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!)
  }))
}

async function put(root: string, rel: string, data: string | Uint8Array): Promise<void> {
  const file = join(root, rel)
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, data)
}

/**
 * Collects a site's data from any `SiteSource` (a `Labbook`, a `book.at(rev)` view, or a fake).
 * One broken run is reported in `problems` and skipped; the others still make it.
 * @example const data = await collectSite(await book.at('labbook'), { filesDir: '/tmp/files' })
 */
export async function collectSite(src: SiteSource, o: CollectOptions): Promise<SiteData> {
  const maxPoints = o.maxPoints ?? DRAWN_POINTS
  const maxArtifact = o.maxArtifactBytes ?? 20 * 1024 * 1024
  const previewBytes = o.previewBytes ?? 8192
  const sum = await summarizeSite(src, o)
  const { runs, children, problems, models, modelRefs } = sum
  const expViews = sum.experiments
  for (const e of expViews) await put(o.filesDir, `data/experiments/${e.id}/runs.json`, JSON.stringify(experimentTable(sum, e.id)))
  await put(o.filesDir, 'data/judge.json', JSON.stringify(sum.judgeData))


  // A run's output (page, data files, artifacts) is made from its folder on the branch (its tree id) and a few
  // things around it; with the same key the previous build's output is reused. RUNNING runs have no key.
  const names = new Map(runs.map((r) => [r.id, r.name]))
  const expNames = new Map(expViews.map((e) => [e.id, e.name]))
  const runKeys: Record<string, string> = {}
  const reused: string[] = []
  const rev = o.commit ?? o.rev
  const full = fullPageRuns(sum, o.fullPages ?? 1000)
  for (const r of runs) {
    const tree = o.trees?.get(r.id)
    if (!tree || r.status === 'RUNNING') continue
    const kids = (children.get(r.id) ?? []).map((c) => [c, names.get(c) ?? ''])
    const around = [full.has(r.id) ? 'page' : 'shell', o.title ?? 'labbook', expNames.get(r.experiment) ?? null, r.parent ? (names.get(r.parent) ?? null) : null, kids, modelRefs[r.id] ?? null, models.length > 0, maxPoints, maxArtifact, previewBytes, o.judge ?? {}]
    const key = createHash('sha256').update(JSON.stringify([tree, around])).digest('hex').slice(0, 32)
    const prev = o.previous?.[r.id]
    // Links to large LFS artifacts name commits (the built revision, or commits the remote has): such a run's key
    // carries them (`key@c1,c2`), and the run is reused while each still resolves.
    const links = prev?.startsWith(`${key}@`) ? prev.slice(key.length + 1).split(',') : undefined
    if (prev === key || (links && (await everyAsync(links, async (c) => c === rev || !!(await o.published?.has(c)))))) { runKeys[r.id] = prev!; reused.push(r.id) }
    else runKeys[r.id] = key
  }
  const reuse = new Set(reused)

  // Pages rendered at build time need their details in the pages' data; shell runs' go to their page.json only.
  const details: Record<string, RunDetail> = {}
  const shells: string[] = []
  await pool(runs.filter((r) => !reuse.has(r.id)), o.concurrency ?? 8, async (run) => {
    let d: RunDetail
    try {
      const sink = packingSink(o.filesDir)
      const linked = new Set<string>()
      const linkAt = o.published && ((path: string) => o.published!.commitFor(path))
      d = await collectRun(src, run, sink, { maxPoints, maxArtifact, previewBytes, children: children.get(run.id) ?? [], rev, linkAt, linked })
      await sink.pack(run.id, d.metrics)
      if (runKeys[run.id] && linked.size) runKeys[run.id] += `@${[...linked].sort().join(',')}`
    } catch (e) {
      problems.push({ run: run.id, message: `Run ${run.id}: ${(e as Error).message}` })
      d = { metrics: [], artifacts: [], children: children.get(run.id) ?? [] }
      delete runKeys[run.id]
    }
    await put(o.filesDir, `data/runs/${run.id}.json`, JSON.stringify(runJson(sum, run, d)))
    // Every run has one, so the shell (runs/?id=<id>) shows any run.
    await put(o.filesDir, `data/runs/${run.id}/page.json`, JSON.stringify(runPageData(sum.modelRefs, run, d, names, expNames.get(run.experiment))))
    if (full.has(run.id)) details[run.id] = d
    else shells.push(run.id)
  })

  return {
    title: o.title ?? 'labbook',
    rev: o.rev ?? 'labbook',
    commit: o.commit ?? null,
    generatedAt: Date.now(),
    experiments: expViews,
    runs,
    details,
    commits: sum.commits,
    models,
    modelRefs,
    problems,
    judge: o.judge ?? {},
    runKeys,
    reused,
    shells,
  }
}

/** The runs whose page is rendered at build time (see `CollectOptions.fullPages`); runs are newest first. */
export function fullPageRuns(s: Pick<SiteSummaries, 'runs'>, max: number): Set<string> {
  const perExp = new Map<string, number>()
  const out = new Set<string>()
  for (const r of s.runs) {
    if (out.size >= max) break
    const n = perExp.get(r.experiment) ?? 0
    if (n >= STATIC_ROWS) continue
    perExp.set(r.experiment, n + 1)
    out.add(r.id)
  }
  return out
}

/**
 * The static build's sink: artifacts and full histories as files under `filesDir`; the drawing series of a run
 * gathered into one gzip-compressed file, `data/runs/<id>/series.bin` (a JSON array of the per-metric series), which
 * `pack` writes and points the metric files at (`series.bin#<n>`, see `packedSeriesRef`).
 */
function packingSink(filesDir: string): RunFileSink & { pack(runId: string, metrics: MetricFile[]): Promise<void> } {
  const drawn = new Map<string, string>()
  return {
    put: async (rel, text) => { if (/\/m\/\d+\.json$/.test(rel)) drawn.set(rel, await text()); else await put(filesDir, rel, await text()) },
    artifact: (src, id, path, rel, wantBytes) => copyArtifact(src, id, path, join(filesDir, rel), wantBytes),
    async pack(runId, metrics) {
      if (!metrics.length) return
      const file = `data/runs/${runId}/series.bin`
      await put(filesDir, file, gzipSync('[' + metrics.map((m) => drawn.get(m.file)!).join(',') + ']', { level: 9 }))
      metrics.forEach((m, i) => { m.file = packedSeriesRef(file, i) })
    },
  }
}

/** Everything the pages show except per-run details: what `collectSite` and the live server (per change) share. */
export interface SiteSummaries extends Pick<SiteData, 'experiments' | 'runs' | 'commits' | 'models' | 'modelRefs' | 'problems'> {
  /** Child run ids per parent id. */
  children: Map<string, string[]>
  runsByExperiment: Map<string, RunSummary[]>
  /** `data/judge.json`. */
  judgeData: JudgeData
}

/**
 * Reads the experiments, run summaries, code commits and registry of a source and judges them (no metric series,
 * no artifacts). Only `judge` and `codeHistory` of the options matter here.
 * @example const { experiments, runs } = await summarizeSite(book, { filesDir: '', judge: loadConfig(repo) })
 */
export async function summarizeSite(src: SiteSource, o: Pick<CollectOptions, 'judge' | 'codeHistory'>): Promise<SiteSummaries> {
  const problems: Problem[] = []
  const withDeleted = await src.listExperiments({ includeDeleted: true })
  // Runs of a deleted experiment are hidden with it, as in MLflow.
  const deletedExperiments = new Set(withDeleted.filter((e) => e.lifecycle === 'deleted').map((e) => e.id))
  const experiments = withDeleted.filter((e) => e.lifecycle !== 'deleted').filter((e) => {
    if (SAFE_ID.test(e.id)) return true
    problems.push({ message: `Experiment id ${JSON.stringify(e.id)} is not usable in a URL; skipped.` })
    return false
  })
  for (const d of (await src.damagedRuns?.()) ?? []) problems.push({ message: `${d.path} skipped: ${d.message}` })
  const allRuns = (await src.listRuns()).filter((r) => r.lifecycle !== 'deleted' && !deletedExperiments.has(r.experiment))
  const runs = allRuns.filter((r) => {
    if (SAFE_ID.test(r.id)) return true
    problems.push({ message: `Run id ${JSON.stringify(r.id)} is not usable in a URL; skipped.` })
    return false
  })
  runs.sort((a, b) => b.startTime - a.startTime || (a.id < b.id ? 1 : -1))
  const children = new Map<string, string[]>()
  for (const r of runs) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r.id])

  const byExp = new Map<string, RunSummary[]>()
  for (const r of runs) byExp.set(r.experiment, [...(byExp.get(r.experiment) ?? []), r])
  const expViews: ExperimentView[] = []
  const known = new Map(experiments.map((e) => [e.id, e]))
  // Runs whose experiment record is missing still show, under their experiment id.
  for (const id of byExp.keys()) if (!known.has(id) && SAFE_ID.test(id)) known.set(id, { id, name: id, lifecycle: 'active', createdAt: 0, tags: {} })
  for (const e of known.values()) {
    if (e.lifecycle === 'deleted') continue
    expViews.push(experimentView(e, byExp.get(e.id) ?? [], o.judge ?? {}))
  }
  expViews.sort((a, b) => (b.lastActivity ?? 0) - (a.lastActivity ?? 0) || a.name.localeCompare(b.name))
  const judgeData: JudgeData = { config: o.judge ?? {}, experiments: Object.fromEntries([...known.values()].map((e) => [e.id, e.tags ?? {}])) }

  let registry: Awaited<ReturnType<NonNullable<SiteSource['listModels']>>> = []
  try {
    registry = (await src.listModels?.()) ?? []
  } catch (e) {
    problems.push({ message: `The model registry could not be read: ${(e as Error).message}` })
  }
  const { models, modelRefs } = modelViews({ records: registry, runs, experiments: expViews, judge: o.judge })
  const commits = await commitViews(runs, expViews, known, o)
  return { experiments: expViews, runs, children, runsByExperiment: byExp, commits, models, modelRefs, judgeData, problems }
}

/** An experiment's `data/experiments/<id>/runs.json`: its table's rows, newest first, in columns (src/site/browser/table-data.ts). */
export function experimentTable(s: SiteSummaries, experimentId: string): TableData {
  return encodeTable((s.runsByExperiment.get(experimentId) ?? []).map((r) => tableRun(r, s.children.get(r.id)?.length)), experimentId)
}

/** A run's `data/runs/<id>.json`: its table row, metric files and image series. */
export function runJson(s: SiteSummaries, r: RunSummary, d: RunDetail): RunJson {
  return runJsonOf(r, d, s.children.get(r.id)?.length)
}

/** Where `collectRun` puts a run's files: the static build writes them under a folder; the live server keeps them in memory. */
export interface RunFileSink {
  /** A data file (relative path); `text` may be called later, or never (a long history's full file is made when fetched). */
  put(rel: string, text: () => string | Promise<string>): Promise<void>
  /** Puts an artifact's bytes at `rel`; returns the bytes when `wantBytes`. */
  artifact(src: SiteSource, id: string, path: string, rel: string, wantBytes: boolean): Promise<Uint8Array | undefined>
}

function experimentView(e: Experiment, runs: RunSummary[], config: JudgeConfig): ExperimentView {
  const j = judgeExperiment(runs, { config, tags: e.tags })
  const first = j.primary[0]
  const spark: number[] = []
  let last: number | undefined
  for (const r of [...runs].reverse()) {
    last = Math.max(last ?? 0, r.endTime ?? r.startTime)
    const v = first ? eligibleValue(r, first.key) : undefined
    if (v !== undefined) spark.push(v)
  }
  const view: ExperimentView = {
    id: e.id, name: e.name, description: e.description, tags: e.tags ?? {}, runCount: runs.length, lastActivity: last ?? e.updatedAt ?? e.createdAt,
    primaryMetrics: j.primary.map((p) => p.key), spark: spark.slice(-60),
  }
  if (first) { view.primaryMetric = first.key; view.goal = first.goal }
  if (j.best) view.best = { id: j.best.run.id, name: j.best.run.name, value: j.best.value }
  if (first && j.bestGroup && j.bestGroup.values.length > 1) view.bestGroup = groupView(j.bestGroup, first.key)
  return view
}

/** A scored group for the pages (only called for groups with eligible members). */
export function groupView(s: GroupScore<RunSummary>, key: string): GroupView {
  const st = s.stats!
  return {
    label: s.group.label, n: st.n, mean: st.mean, std: st.std, min: st.min, max: st.max, ...(st.ci ? { ci: st.ci } : {}),
    best: { id: s.best!.id, name: s.best!.name, value: s.best!.metrics[key]!.value },
    runs: s.group.runs.map((r) => r.id),
  }
}

async function commitViews(runs: RunSummary[], exps: ExperimentView[], known: Map<string, Experiment>, o: Pick<CollectOptions, 'judge' | 'codeHistory'>): Promise<CommitView[]> {
  const goalOf = new Map(exps.map((e) => [e.id, e]))
  const by = new Map<string, CommitView>()
  const runsOf = new Map<string, RunSummary[]>()
  for (const r of runs) {
    const sha = r.source?.commit
    if (!sha || !/^[0-9a-f]{7,64}$/i.test(sha)) continue
    let c = by.get(sha)
    if (!c) by.set(sha, (c = { sha, runs: 0, firstTime: r.startTime, lastTime: r.startTime, experiments: [], url: commitUrl(r.source.remote, sha), best: {}, changes: {} }))
    c.runs++
    c.firstTime = Math.min(c.firstTime, r.startTime)
    c.lastTime = Math.max(c.lastTime, r.startTime)
    if (!c.experiments.includes(r.experiment)) c.experiments.push(r.experiment)
    const list = runsOf.get(sha) ?? []
    if (!list.length) runsOf.set(sha, list)
    list.push(r)
  }
  for (const c of by.values()) {
    for (const exp of c.experiments) {
      const e = goalOf.get(exp)
      if (!e?.primaryMetric || !e.goal) continue
      const top = bestRun(runsOf.get(c.sha)!.filter((r) => r.experiment === exp), e.primaryMetric, e.goal)
      if (top) c.best[exp] = { id: top.id, name: top.name, value: top.metrics[e.primaryMetric]!.value, metric: e.primaryMetric }
    }
  }
  // History order from git when it knows every commit (parents before children); else the order of their first runs.
  const history = o.codeHistory ? await o.codeHistory([...by.keys()]) : undefined
  for (const [sha, h] of history?.info ?? []) Object.assign(by.get(sha)!, { subject: h.subject, author: h.author, date: h.date })
  const order = history && history.order.length === by.size ? history.order : [...by.values()].sort((a, b) => a.firstTime - b.firstTime).map((c) => c.sha)
  // Change detection per experiment: each commit's best group against the previous commit's, src/judge's rule.
  const byExp = new Map<string, RunSummary[]>()
  for (const r of runs) if (r.source?.commit && by.has(r.source.commit)) (byExp.get(r.experiment) ?? byExp.set(r.experiment, []).get(r.experiment)!).push(r)
  for (const [exp, mine] of byExp) {
    const e = goalOf.get(exp)
    if (!e?.primaryMetric || !e.goal) continue
    const minEffect = metricGoal(e.primaryMetric, { config: o.judge, tags: known.get(exp)?.tags ?? {} }).minEffect
    for (const step of commitSteps(mine, (r) => r.source?.commit, order, e.primaryMetric, e.goal, { config: o.judge, minEffect })) {
      if (!step.best) continue
      const v = step.verdict
      by.get(step.commit)!.changes[exp] = {
        metric: e.primaryMetric, goal: e.goal, group: groupView(step.best, e.primaryMetric),
        ...(step.previous ? { previous: step.previous } : {}),
        ...(v ? { verdict: v.verdict, reason: v.reason, ...(v.diff !== undefined ? { diff: v.diff } : {}), ...(v.ci ? { ci: v.ci } : {}) } : {}),
      }
    }
  }
  // Newest first.
  return order.map((sha) => by.get(sha)!).reverse()
}

/** Copies one artifact into the site; a large one (a file in the LFS store) is copied file to file, never loaded. Returns the bytes when `wantBytes`, for previews. */
async function copyArtifact(src: SiteSource, id: string, path: string, dest: string, wantBytes: boolean): Promise<Uint8Array | undefined> {
  await mkdir(dirname(dest), { recursive: true })
  const content = src.openArtifact ? await src.openArtifact(id, path) : { bytes: await src.readArtifact(id, path) }
  if (content.bytes) {
    await writeFile(dest, content.bytes)
    return content.bytes
  }
  await copyFile(content.file!, dest)
  return wantBytes ? readFile(content.file!) : undefined
}

/** One run's page details and data files (series, artifacts) into `sink`. */
export async function collectRun(src: SiteSource, run: RunSummary, sink: RunFileSink, o: {
  maxPoints: number; maxArtifact: number; previewBytes: number; children: string[]; rev?: string; sampled?: boolean
  /** The commit a large LFS artifact links at (default `rev`); the commits linked are added to `linked`. */
  linkAt?: (path: string) => Promise<string | undefined>; linked?: Set<string>
}): Promise<RunDetail> {
  const metrics: MetricFile[] = []
  const keys = Object.keys(run.metrics).sort()
  if (keys.length) {
    // Pages served live draw the sample (kept by the source, see track/history.ts) and read a long history in full
    // only when its full file is fetched; the static build writes every file, so it reads everything once.
    const sampled = o.sampled && src.metricSample ? await src.metricSample(run.id, o.maxPoints) : undefined
    const hist: Record<string, MetricPoint[]> = sampled ? {} : await src.metricHistories(run.id)
    let i = 0
    for (const key of keys) {
      const file = `data/runs/${run.id}/m/${i}.json`
      const pts = sampled ? sampled[key]?.points ?? [] : hist[key] ?? []
      const total = sampled ? sampled[key]?.total ?? 0 : pts.length
      const enc = encodeSeries(key, pts, o.maxPoints)
      enc.n = total
      const mf: MetricFile = { key, file, total }
      if (total > o.maxPoints) {
        mf.full = `data/runs/${run.id}/m/${i}.full.json`
        enc.full = mf.full
        await sink.put(mf.full, sampled
          ? async () => JSON.stringify(encodeSeries(key, (await src.metricHistories(run.id, key))[key] ?? [], Infinity, true))
          : () => JSON.stringify(encodeSeries(key, pts, Infinity, true)))
      }
      await sink.put(file, () => JSON.stringify(enc))
      metrics.push(mf)
      i++
    }
  }
  const artifacts: ArtifactView[] = []
  const detail: RunDetail = { metrics, artifacts, children: o.children }
  if (run.description) detail.descriptionHtml = renderMarkdown(run.description)
  let previews = 0
  for (const a of await src.listArtifacts(run.id)) {
    const view: ArtifactView = { path: a.path, size: a.size, external: a.external, kind: artifactKind(a.path) }
    artifacts.push(view)
    if (a.size > o.maxArtifact) {
      if (a.external) {
        const file = `${runDir(run.id)}/${ARTIFACTS_DIR}/${a.path}`
        const at = o.linkAt ? await o.linkAt(file) : o.rev
        view.remoteHref = lfsDownloadUrl(run.source.remote, at, file)
        if (view.remoteHref && at) o.linked?.add(at)
      }
      continue
    }
    const out = artifactOutPath(run.id, a.path)
    const bytes = await sink.artifact(src, run.id, a.path, out, !a.external || (view.kind === 'text' && previews < 10))
    view.href = hrefOf(out)
    if (!bytes) continue
    if (a.path === LOG_ARTIFACT || a.path === DIFF_ARTIFACT) {
      const t = textPreview(bytes.length > 65536 ? bytes.subarray(bytes.length - 65536) : bytes, 65536)
      if (t) detail[a.path === LOG_ARTIFACT ? 'log' : 'diff'] = { text: t.text, truncated: bytes.length > 65536 }
    } else if (view.kind === 'text' && previews < 10) {
      const t = textPreview(bytes, o.previewBytes)
      if (t) { view.preview = t.text; view.truncated = t.truncated; previews++ }
    }
  }
  artifacts.sort((a, b) => a.path.localeCompare(b.path))
  // Images logged at several steps get one step slider instead of a preview each.
  const series = imageSeries(artifacts.filter((a) => a.href && a.kind === 'image').map((a) => a.path))
  if (series.length) {
    const hrefs = new Map(artifacts.map((a) => [a.path, a.href]))
    detail.imageSeries = series.map((s) => ({ key: s.key, images: s.images.map((im) => ({ ...im, href: hrefs.get(im.path)! })) }))
    const inSeries = seriesPaths(series, artifacts.map((a) => a.path))
    for (const a of artifacts) if (inSeries.has(a.path)) a.inSeries = true
  }
  return detail
}
