import fs from 'node:fs'
import { join } from 'node:path'
import { decodeRun } from '../format/yaml.js'
import { numberFromJson } from '../format/numbers.js'
import { RUN_FILE, RUNS_DIR } from '../model/layout.js'
import type { RunSummary } from '../model/run.js'
import { isTreeMode, type ObjectStore } from './objects.js'
import type { TreeView } from './tree-view.js'

/**
 * A cache of parsed run summaries under `.git/labbook/index/`, one JSON file per shard tree id. Keyed by content,
 * it can never be stale: a changed run changes its shard's tree id. Files are written to a temp name and renamed, so
 * concurrent writers at worst both write the same bytes. Missing or damaged files are rebuilt from the branch.
 */
export class SummaryIndex {
  private readonly dir: string
  /** run tree id → summary, shared by every shard in this process. */
  private readonly byRunTree = new Map<string, RunSummary>()
  private readonly byShardTree = new Map<string, RunSummary[]>()

  constructor(gitdir: string, private readonly store: ObjectStore) {
    this.dir = join(gitdir, 'labbook', 'index', 'v2')
  }

  /** Every run summary in the view (deleted ones included), in no particular order. */
  async all(view: TreeView): Promise<RunSummary[]> {
    const shards = (await view.list(RUNS_DIR)).filter((e) => isTreeMode(e.mode))
    // One shard at a time: reads are synchronous underneath, and 256 shards in flight held every blob of a
    // 100,000-run branch in memory at once (1.6 GB).
    const out: RunSummary[] = []
    for (const s of shards) for (const run of await this.shard(s.name, s.oid)) out.push(run)
    return out
  }

  private async shard(name: string, oid: string): Promise<RunSummary[]> {
    const mem = this.byShardTree.get(oid)
    if (mem) return mem
    const file = join(this.dir, `${oid}.json`)
    let runs = this.readFile(file)
    if (!runs) {
      this.loadPrevious(name)
      const entries = (await this.store.readTree(oid)).filter((e) => isTreeMode(e.mode))
      runs = []
      const save: Array<[string, RunSummary]> = []
      for (const e of entries) {
        const run = await this.readRun(e.oid, `${RUNS_DIR}/${name}/${e.name}`)
        if (!run) continue
        runs.push(run)
        save.push([e.oid, run])
      }
      this.writeFile(file, save)
      this.writePointer(name, oid)
    }
    if (this.byShardTree.size > 4096) this.byShardTree.clear()
    this.byShardTree.set(oid, runs)
    return runs
  }

  private async readRun(runTree: string, where: string): Promise<RunSummary | undefined> {
    const cached = this.byRunTree.get(runTree)
    if (cached) return cached
    const entry = (await this.store.readTree(runTree)).find((e) => e.name === RUN_FILE)
    if (!entry) return undefined
    const run = decodeRun((await this.store.readBlob(entry.oid)).toString('utf8'), `${where}/${RUN_FILE}`)
    this.byRunTree.set(runTree, run)
    return run
  }

  /** Seeds the per-run cache from the last index file written for this shard: unchanged runs are not parsed again. */
  private loadPrevious(shardName: string): void {
    try {
      const prev = fs.readFileSync(join(this.dir, 'latest', shardName), 'utf8').trim()
      if (/^[0-9a-f]{40}$/.test(prev)) this.readFile(join(this.dir, `${prev}.json`))
    } catch { /* no previous index */ }
  }

  private readFile(file: string): RunSummary[] | undefined {
    let text: string
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch {
      return undefined
    }
    try {
      const rows = JSON.parse(text) as Array<[string, any]>
      const out: RunSummary[] = []
      for (const [treeOid, raw] of rows) {
        const run = revive(raw)
        this.byRunTree.set(treeOid, run)
        out.push(run)
      }
      return out
    } catch {
      return undefined // damaged: rebuilt by the caller
    }
  }

  private writeFile(file: string, rows: Array<[string, RunSummary]>): void {
    try {
      fs.mkdirSync(this.dir, { recursive: true })
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
      fs.writeFileSync(tmp, JSON.stringify(rows.map(([oid, run]) => [oid, compact(run)]), replacer))
      fs.renameSync(tmp, file)
    } catch { /* the index is an optimisation; a read-only .git still lists runs */ }
  }

  private writePointer(shardName: string, oid: string): void {
    try {
      const dir = join(this.dir, 'latest')
      fs.mkdirSync(dir, { recursive: true })
      const tmp = join(dir, `${shardName}.${process.pid}.tmp`)
      fs.writeFileSync(tmp, oid)
      fs.renameSync(tmp, join(dir, shardName))
    } catch { /* optional */ }
  }
}

function replacer(_k: string, v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return { $n: Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity' }
  return v
}

/**
 * The index stores each metric summary as an array `[value, step, timestamp, min, max, count]`: at 100,000 runs of
 * 10 metrics the files are a quarter smaller and parse faster than with repeated key names.
 */
function compact(run: RunSummary): unknown {
  const metrics: Record<string, unknown[]> = {}
  for (const [k, m] of Object.entries(run.metrics)) metrics[k] = [m.value, m.step, m.timestamp, m.min, m.max, m.count]
  return { ...run, metrics }
}

const num = (v: unknown): number => (typeof v === 'number' ? v : numberFromJson((v as { $n?: unknown })?.$n) ?? NaN)

function revive(raw: any): RunSummary {
  const metrics: RunSummary['metrics'] = {}
  for (const k in raw.metrics) {
    const a = raw.metrics[k]
    metrics[k] = { value: num(a[0]), step: a[1], timestamp: a[2], min: num(a[3]), max: num(a[4]), count: a[5] }
  }
  raw.metrics = metrics
  for (const k in raw.params) {
    const v = raw.params[k]
    if (v !== null && typeof v === 'object') raw.params[k] = num(v)
  }
  return raw as RunSummary
}
