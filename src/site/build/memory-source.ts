/** An in-memory `SiteSource`: for building the site without a repository (tests of the pages, benchmarks). */
import { createHash } from 'node:crypto'
import { LabbookError } from '../../errors.js'
import type { Experiment } from '../../model/experiment.js'
import type { MetricPoint, RunSummary } from '../../model/run.js'
import type { ArtifactEntry, SiteSource } from './source.js'
import { keyed } from '../../model/run.js'

export interface MemoryRun {
  summary: RunSummary
  /** The points, or a function that makes them when asked (a bench's 100,000 fake runs need not all be in memory). */
  history?: MetricPoint[] | (() => MetricPoint[])
  artifacts?: Record<string, Uint8Array | string>
}

export class MemorySource implements SiteSource {
  private runs = new Map<string, MemoryRun>()
  constructor(private experiments: Experiment[], runs: MemoryRun[]) {
    for (const r of runs) this.runs.set(r.summary.id, r)
  }
  async listExperiments(o: { includeDeleted?: boolean } = {}): Promise<Experiment[]> {
    return this.experiments.filter((e) => o.includeDeleted || e.lifecycle !== 'deleted')
  }
  async listRuns(o: { experiment?: string; includeDeleted?: boolean } = {}): Promise<RunSummary[]> {
    return [...this.runs.values()]
      .map((r) => r.summary)
      .filter((r) => (o.includeDeleted || r.lifecycle !== 'deleted') && (!o.experiment || r.experiment === o.experiment))
      .sort((a, b) => b.startTime - a.startTime)
  }
  /** Stands in for git tree ids: a hash of what the fake holds for each run. */
  async runTrees(): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    for (const [id, r] of this.runs) {
      const h = createHash('sha1').update(JSON.stringify(r.summary)).update(typeof r.history === 'function' ? 'made' : String(r.history?.length ?? 0))
      for (const [p, d] of Object.entries(r.artifacts ?? {})) h.update(p).update(d)
      out.set(id, h.digest('hex'))
    }
    return out
  }
  private get(id: string): MemoryRun {
    const r = this.runs.get(id)
    if (!r) throw new LabbookError('RUN_NOT_FOUND', `No run ${id}.`)
    return r
  }
  async metricHistories(id: string): Promise<Record<string, MetricPoint[]>> {
    const out = keyed<MetricPoint[]>()
    const h = this.get(id).history
    for (const p of (typeof h === 'function' ? h() : h) ?? []) (out[p.key] ??= []).push(p)
    for (const k in out) out[k]!.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp)
    return out
  }
  async listArtifacts(id: string, prefix = ''): Promise<ArtifactEntry[]> {
    return Object.entries(this.get(id).artifacts ?? {})
      .filter(([p]) => p.startsWith(prefix))
      .map(([path, d]) => ({ path, size: typeof d === 'string' ? new TextEncoder().encode(d).length : d.length, external: false }))
  }
  async readArtifact(id: string, path: string): Promise<Uint8Array> {
    const d = this.get(id).artifacts?.[path]
    if (d === undefined) throw new LabbookError('ARTIFACT_NOT_FOUND', `No artifact ${path} in run ${id}.`)
    return typeof d === 'string' ? new TextEncoder().encode(d) : d
  }
}
