import fs from 'node:fs'
import { isLabbookError, LabbookError } from '../errors.js'
import { decodeExperiment, decodeRun } from '../format/yaml.js'
import type { Experiment } from '../model/experiment.js'
import { ARTIFACTS_DIR, EXPERIMENTS_DIR, METRICS_DIR, RUN_FILE, RUNS_DIR, runDir } from '../model/layout.js'
import type { MetricPoint, RunSummary } from '../model/run.js'
import { isTreeMode, type ObjectStore, type TreeEntry } from '../store/objects.js'
import type { DamagedRun, SummaryIndex } from '../store/summary-index.js'
import type { TreeView } from '../store/tree-view.js'
import { hasLfsObject, lfsObjectPath } from '../store/lfs-store.js'
import { decodeExternal, externalObjectPath } from './artifacts.js'
import type { MetricSample } from '../model/book.js'
import type { SeriesColumns } from './history.js'
import type { ArtifactContent, ArtifactEntry } from '../model/artifact.js'
import { artifactPath } from '../model/path.js'
import type { ModelRecord } from '../model/registry.js'
import type { BookReader, ListRunsOptions } from '../model/book.js'
import { readRegistry } from '../registry/read.js'
import { searchRuns } from '../query/index.js'
import { queryColumns, queryTable, type QueryRunsOptions } from './query-runs.js'
import { keyed } from '../model/run.js'

export type { ArtifactContent } from '../model/artifact.js'

// Metric histories and LFS downloads are imported when first read: a listing never loads them (issue 17).
const historyModule = () => import('./history.js')

export type { ListRunsOptions }

const experimentCache = new Map<string, Experiment>()

/** Read access to one revision of the branch. Every method reads git objects only, never a checkout. */
export class LabbookReader implements BookReader {
  constructor(
    readonly objects: ObjectStore,
    protected readonly index: SummaryIndex,
    readonly gitdir: string,
    /** Resolves the view to read; null while the branch does not exist. */
    protected readonly view: () => Promise<TreeView | null>,
  ) {}

  async listExperiments(o: { includeDeleted?: boolean } = {}): Promise<Experiment[]> {
    const view = await this.view()
    if (!view) return []
    return (await readExperiments(view)).filter((e) => o.includeDeleted || e.lifecycle === 'active')
  }

  /** The registered models on this revision, with their versions and aliases (src/registry). */
  async listModels(): Promise<ModelRecord[]> {
    const view = await this.view()
    return view ? readRegistry(view) : []
  }

  /** By id, then by exact name. */
  async getExperiment(idOrName: string): Promise<Experiment> {
    const all = await this.listExperiments({ includeDeleted: true })
    const found = all.find((e) => e.id === idOrName) ?? all.find((e) => e.name === idOrName)
    if (!found) throw new LabbookError('EXPERIMENT_NOT_FOUND', `No experiment with id or name ${JSON.stringify(idOrName)}.`, 'List them with `labbook experiments`.', { experiment: idOrName })
    return found
  }

  /** Run summaries, newest first. Reads only run.yaml files, through the summary index. */
  async listRuns(o: ListRunsOptions = {}): Promise<RunSummary[]> {
    const view = await this.view()
    if (!view) return []
    let runs = await this.index.all(view)
    if (o.experiment !== undefined) {
      const exp = await this.getExperiment(o.experiment)
      runs = runs.filter((r) => r.experiment === exp.id)
    }
    if (!o.includeDeleted) runs = runs.filter((r) => r.lifecycle === 'active')
    return runs.slice().sort((a, b) => b.startTime - a.startTime || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
  }

  /**
   * listRuns, then filter, order and limit (what `searchRuns(await listRuns(o), filter, o)` gives), answered from the
   * listing table (src/store/listing.ts): only the runs picked are parsed in full, so a fresh clone of 100,000 runs
   * answers `ls --filter … --limit 50` without building 100,000 run objects, and the next call reads one file.
   * @example await book.queryRuns({ filter: 'metrics.acc > 0.9', orderBy: ['metrics.acc DESC'], limit: 10 })
   */
  async queryRuns(o: Omit<QueryRunsOptions, 'experimentId'> & { experiment?: string } = {}): Promise<RunSummary[]> {
    // $LABBOOK_LISTING=full: the way before the listing table (benches measure it as their same-run reference)
    if (process.env.LABBOOK_LISTING === 'full') return this.queryAll(o)
    const view = await this.view()
    if (!view) return []
    const experimentId = o.experiment === undefined ? undefined : (await this.getExperiment(o.experiment)).id
    const q = { ...o, experimentId }
    const table = await this.index.listing(view, queryColumns(q))
    const runs = queryTable(table, q)
    this.index.saveListing(table) // after the answer (the next event-loop turn, or close())
    return runs
  }

  /** queryRuns the way it was before the listing table: every run materialised, then searchRuns (tests compare). */
  protected async queryAll(o: Omit<QueryRunsOptions, 'experimentId'> & { experiment?: string }): Promise<RunSummary[]> {
    let runs = await this.listRuns({ experiment: o.experiment, includeDeleted: o.includeDeleted })
    if (o.commit) runs = runs.filter((r) => r.source.commit?.startsWith(o.commit!))
    if ((o.filter === undefined || (typeof o.filter !== 'string' && o.filter.type === 'all')) && !(o.orderBy && o.orderBy.length > 0)) {
      const offset = o.offset ?? 0
      return o.limit !== undefined ? runs.slice(offset, offset + o.limit) : runs.slice(offset)
    }
    return searchRuns(runs, o.filter, o)
  }

  /**
   * Runs whose run.yaml cannot be read (listed runs skip them): the path on the branch and why.
   * @example for (const d of await book.damagedRuns()) console.warn(`${d.path}: ${d.message}`)
   */
  async damagedRuns(): Promise<DamagedRun[]> {
    const view = await this.view()
    if (!view) return []
    // after queryRuns the listing table knows them; reading every shard again would double a cold listing
    const runs = await view.entry(RUNS_DIR)
    const table = this.index.listingInMemory(runs?.oid)
    if (table) return table.damaged
    await this.index.all(view)
    return this.index.damaged
  }

  /**
   * The git tree id of every run folder at this revision (run id → tree id): one read per shard. A run's tree id
   * changes exactly when its files do, so caches of what is made from a run (the site's pages) key on it.
   * @example const trees = await (await book.at('labbook')).runTrees()
   */
  async runTrees(): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    const view = await this.view()
    if (!view) return out
    for (const shard of await view.list(RUNS_DIR)) {
      if (!isTreeMode(shard.mode)) continue
      for (const e of await this.objects.readTree(shard.oid)) if (isTreeMode(e.mode)) out.set(e.name, e.oid)
    }
    return out
  }

  async getRun(id: string): Promise<RunSummary> {
    const view = await this.view()
    const text = view && (await view.readText(`${runDir(id)}/${RUN_FILE}`))
    if (!text) throw runNotFound(id)
    return decodeRun(text, `${runDir(id)}/${RUN_FILE}`)
  }

  /**
   * A run by id, unique id prefix (≥ 4 characters) or name. Names need not be unique (as in MLflow): a name held by
   * several runs gives the newest (an active one before deleted ones); `resolveRunName` also says which others.
   */
  async resolveRun(ref: string): Promise<RunSummary> {
    return (await this.resolveRunName(ref)).run
  }

  /**
   * `resolveRun` plus the other runs a name could have meant (newest first), so a face can say which one it took.
   * @example const { run, others } = await book.resolveRunName('baseline')
   */
  async resolveRunName(ref: string): Promise<{ run: RunSummary; others: RunSummary[] }> {
    const view = await this.view()
    if (view && /^[\w-]+$/.test(ref) && (await view.entry(`${runDir(ref)}/${RUN_FILE}`))) return { run: await this.getRun(ref), others: [] }
    const runs = await this.listRuns({ includeDeleted: true })
    const byPrefix = ref.length >= 4 ? runs.filter((r) => r.id.startsWith(ref)) : []
    if (byPrefix.length === 1) return { run: byPrefix[0]!, others: [] }
    if (byPrefix.length > 1) {
      throw new LabbookError('RUN_AMBIGUOUS', `${JSON.stringify(ref)} matches ${byPrefix.length} runs: ${byPrefix.slice(0, 10).map((r) => `${r.id} (${r.name})`).join(', ')}${byPrefix.length > 10 ? ', …' : ''}.`,
        'Use a longer id prefix or the full id.', { candidates: byPrefix.map((r) => r.id) })
    }
    // listRuns is newest first; active runs win over deleted ones of the same name.
    const named = runs.filter((r) => r.name === ref).sort((a, b) => Number(a.lifecycle !== 'active') - Number(b.lifecycle !== 'active'))
    if (named.length === 0) throw runNotFound(ref)
    return { run: named[0]!, others: named.slice(1) }
  }

  /** One metric's full history, sorted by step then timestamp. */
  async metricHistory(id: string, key: string): Promise<MetricPoint[]> {
    return (await this.metricHistories(id, key))[key] ?? []
  }

  async metricHistories(id: string, onlyKey?: string): Promise<Record<string, MetricPoint[]>> {
    const out = keyed<MetricPoint[]>()
    const { seriesPoints } = await historyModule()
    for (const [k, s] of await this.metricColumns(id, onlyKey)) out[k] = seriesPoints(k, s)
    return out
  }

  /**
   * Each metric's history as columns (no object per point), sorted by step then timestamp; chunks parsed once per process.
   * @example const loss = (await book.metricColumns(run.id, 'loss')).get('loss')?.value
   */
  async metricColumns(id: string, onlyKey?: string): Promise<Map<string, SeriesColumns>> {
    const { dir, chunks } = await this.metricChunks(id)
    const { historyColumns } = await historyModule()
    return historyColumns(this.objects, chunks, dir, onlyKey)
  }

  /** @internal The run's metric chunks in name order (the order their points are read in), and their folder. */
  async metricChunks(id: string): Promise<{ dir: string; chunks: TreeEntry[] }> {
    const view = await this.view()
    const dir = runDir(id)
    if (!view || !(await view.entry(`${dir}/${RUN_FILE}`))) throw runNotFound(id)
    const chunks = (await view.list(`${dir}/${METRICS_DIR}`)).filter((e) => !isTreeMode(e.mode)).sort((a, b) => (a.name < b.name ? -1 : 1))
    return { dir: `${dir}/${METRICS_DIR}`, chunks }
  }

  /**
   * Each metric downsampled to at most `maxPoints` as the site draws it (src/model/minmax.ts), with its total.
   * Kept under .git/labbook/series by the metrics folder's tree id, so a long history is read once per clone.
   * @example const { total, points } = (await book.metricSample(run.id, 1500)).loss!
   */
  async metricSample(id: string, maxPoints: number): Promise<Record<string, MetricSample>> {
    const view = await this.view()
    const dir = runDir(id)
    if (!view || !(await view.entry(`${dir}/${RUN_FILE}`))) throw runNotFound(id)
    const folder = await view.entry(`${dir}/${METRICS_DIR}`)
    if (!folder || !isTreeMode(folder.mode)) return {}
    const { readStoredSample, historySample, samplePath, storeSample } = await historyModule()
    const file = samplePath(this.gitdir, folder.oid, maxPoints)
    const stored = readStoredSample(file)
    if (stored) return stored
    const { chunks } = await this.metricChunks(id)
    const out = await historySample(this.objects, chunks, `${dir}/${METRICS_DIR}`, maxPoints)
    // short histories are read faster than a cache file: keep only what was downsampled
    if (Object.values(out).some((m) => m.total > maxPoints)) storeSample(file, out)
    return out
  }

  async listArtifacts(id: string, prefix?: string): Promise<ArtifactEntry[]> {
    const view = await this.view()
    const dir = runDir(id)
    if (!view || !(await view.entry(`${dir}/${RUN_FILE}`))) throw runNotFound(id)
    const base = prefix ? `${dir}/${ARTIFACTS_DIR}/${artifactPath(prefix)}` : `${dir}/${ARTIFACTS_DIR}`
    const files = await view.files(base)
    const out: ArtifactEntry[] = []
    for (const f of files) {
      const data = await this.objects.readBlob(f.oid)
      const pointer = decodeExternal(data)
      const path = prefix ? `${artifactPath(prefix)}/${f.path}` : f.path
      out.push(pointer ? { path, size: pointer.size, external: true, sha256: pointer.sha256, pointer: pointer.kind } : { path, size: data.length, external: false })
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  }

  /** Whether this clone holds a listed artifact's bytes (always, for blobs on the branch). */
  hasArtifactContent(a: ArtifactEntry): boolean {
    if (!a.external || !a.sha256) return true
    if (a.pointer === 'v1' && fs.existsSync(externalObjectPath(this.gitdir, a.sha256))) return true
    return hasLfsObject(this.gitdir, { oid: a.sha256, size: a.size })
  }

  /** An artifact's whole content in memory. Prefer `openArtifact` for large files. */
  async readArtifact(id: string, path: string): Promise<Uint8Array> {
    const c = await this.openArtifact(id, path)
    if (c.bytes) return c.bytes
    try {
      return fs.readFileSync(c.file)
    } catch (e) {
      throw new LabbookError('IO_FAILED', `Cannot read ${c.file}: ${(e as Error).message}`, 'Check permissions of .git/lfs.', { id, path }, { cause: e })
    }
  }

  /**
   * Where an artifact's bytes are, without loading a large one: a Git LFS object missing from this clone is
   * downloaded by its oid first (`remote` first, then git-lfs's default remote, then the others).
   */
  async openArtifact(id: string, path: string, o: { remote?: string } = {}): Promise<ArtifactContent> {
    const view = await this.view()
    const p = artifactPath(path)
    const data = view && (await view.readBytes(`${runDir(id)}/${ARTIFACTS_DIR}/${p}`))
    if (!data) {
      if (view && !(await view.entry(`${runDir(id)}/${RUN_FILE}`))) throw runNotFound(id)
      throw new LabbookError('ARTIFACT_NOT_FOUND', `Run ${id} has no artifact ${JSON.stringify(p)}.`, 'List them with `labbook show RUN`.', { id, path: p })
    }
    const ref = decodeExternal(data)
    if (!ref) return { size: data.length, bytes: data }
    const pointer = { oid: ref.sha256, size: ref.size }
    const found = (file: string) => ({ size: ref.size, file, sha256: ref.sha256 })
    if (ref.kind === 'v1') {
      // Format 1 kept the bytes in .git/labbook/objects; `gc --migrate-artifacts` moved them to LFS under the same sha256.
      const v1 = externalObjectPath(this.gitdir, ref.sha256)
      if (fs.existsSync(v1)) return found(v1)
    }
    if (hasLfsObject(this.gitdir, pointer)) return found(lfsObjectPath(this.gitdir, ref.sha256))
    try {
      const { fetchLfsObject } = await import('../store/lfs-transfer.js')
      await fetchLfsObject(this.gitdir, pointer, o.remote)
    } catch (e) {
      if (ref.kind === 'v1' && isLabbookError(e, 'ARTIFACT_NOT_FOUND')) {
        throw new LabbookError('ARTIFACT_NOT_FOUND', `Artifact ${p} of run ${id} (${ref.size} bytes, sha256 ${ref.sha256.slice(0, 12)}…) was logged by labbook format 1 into .git/labbook/objects of the machine that logged it, and this clone does not have it.`,
          'On that machine, run `labbook gc --migrate-artifacts` and `labbook push`; then any clone can read it.', { id, path: p, sha256: ref.sha256 }, { cause: e })
      }
      if (isLabbookError(e, 'ARTIFACT_NOT_FOUND')) throw new LabbookError('ARTIFACT_NOT_FOUND', `Artifact ${p} of run ${id}: ${e.message}`, e.hint, { id, path: p, sha256: ref.sha256 }, { cause: e })
      throw e
    }
    return found(lfsObjectPath(this.gitdir, ref.sha256))
  }
}

export function runNotFound(id: string): LabbookError {
  return new LabbookError('RUN_NOT_FOUND', `No run ${JSON.stringify(id)} on the branch.`, 'List runs with `labbook ls --all`; ids can be shortened to a unique prefix of 4+ characters.', { id })
}

export async function readExperiments(view: TreeView): Promise<Experiment[]> {
  const entries = (await view.list(EXPERIMENTS_DIR)).filter((e) => !isTreeMode(e.mode) && e.name.endsWith('.yaml'))
  const out: Experiment[] = []
  for (const e of entries) {
    let exp = experimentCache.get(e.oid)
    if (!exp) {
      exp = decodeExperiment((await view.store.readBlob(e.oid)).toString('utf8'), `${EXPERIMENTS_DIR}/${e.name}`)
      if (experimentCache.size > 10_000) experimentCache.clear()
      experimentCache.set(e.oid, exp)
    }
    out.push({ ...exp, tags: keyed(exp.tags) })
  }
  return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
}
