import fs from 'node:fs'
import { join } from 'node:path'
import { isLabbookError } from '../errors.js'
import { checkRoot, decodeRun } from '../format/yaml.js'
import { compactRun, eachSummaryLine, type CompactRun, encodeSummaryLine, reviveRun, summaryReplacer } from '../format/summaries.js'
import { readShard } from './summaries.js'
import { RECENT_FILE, ROOT_FILE, RUN_FILE, RUNS_DIR, SUMMARIES_FILE } from '../model/layout.js'
import type { RunSummary } from '../model/run.js'
import type { DamagedRun } from '../model/book.js'
import { isTreeMode, type ObjectStore } from './objects.js'
import type { TreeView } from './tree-view.js'
import { ListingBuilder, ListingFile, ListingTable, ListingWriteError, type ColumnName } from './listing.js'
import type { ScannedLine } from '../format/summary-scan.js'

/** Format-2 shards read concurrently by `all()` (their summary files are bounded: ~1/256 of the runs each). */
const SHARD_WINDOW = 64

export type { DamagedRun }

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
  /** Parsed summary files of format-2 branches, by blob id. */
  private readonly byBlob = new Map<string, Map<string, RunSummary | null>>()
  private readonly formats = new Map<string, number>()
  /** Damaged run.yaml files met while reading, by run tree id (they are skipped, never fatal). */
  private readonly damagedByRunTree = new Map<string, DamagedRun>()
  private readonly damagedByShard = new Map<string, DamagedRun[]>()
  /** The damaged runs of the view `all()` last read. */
  damaged: DamagedRun[] = []
  private readonly listingDir: string
  /** The listing table last used (one per process is what a command needs). */
  private table: ListingTable | undefined

  constructor(gitdir: string, private readonly store: ObjectStore) {
    this.dir = join(gitdir, 'labbook', 'index', 'v2')
    this.listingDir = join(gitdir, 'labbook', 'listing')
  }

  /**
   * The listing table of the view's runs (src/store/listing.ts): from memory, else from its file under
   * `.git/labbook/listing/` (keyed by the runs tree id, so never stale), else built from the branch. Call
   * saveListing after using it: what it computed (the columns a query named) goes to the file. `names`: the columns
   * the query reads, computed while the branch's summary lines are parsed when the table is built (one pass).
   */
  async listing(view: TreeView, names: readonly ColumnName[] = []): Promise<ListingTable> {
    const runs = await view.entry(RUNS_DIR)
    const key = runs && isTreeMode(runs.mode) ? runs.oid : 'empty'
    if (this.table?.key === key) return this.table
    let table = key === 'empty' ? undefined : ListingTable.load(this.listingDir, key)
    table ??= await this.buildListing(view, key, names)
    this.table = table
    return table
  }

  /**
   * Writes the listing table's file if it holds something the file does not (best effort), after the caller's
   * answer: on the next turn of the event loop, or at flushListing (Labbook.close), whichever comes first. So
   * `labbook ls` prints first, and a query never waits for the file.
   */
  saveListing(table: ListingTable): void {
    if (!table.dirty || table.key === 'empty') return
    this.unsaved = table
    this.saveTimer ??= setImmediate(() => this.flushListing())
  }

  /** Writes the listing file saveListing scheduled, now. */
  flushListing(): void {
    if (this.saveTimer) clearImmediate(this.saveTimer)
    this.saveTimer = undefined
    const table = this.unsaved
    this.unsaved = undefined
    if (table?.dirty) table.save(this.listingDir)
  }

  private unsaved: ListingTable | undefined
  private saveTimer: NodeJS.Immediate | undefined

  /** The listing table of a view if it is in memory already (so asking costs nothing). */
  listingInMemory(key: string | undefined): ListingTable | undefined {
    return this.table && this.table.key === key ? this.table : undefined
  }

  private async buildListing(view: TreeView, key: string, names: readonly ColumnName[]): Promise<ListingTable> {
    // The lines go to the listing file as they are read (ListingFile), not kept in memory; when the disk refuses
    // them partway, the table is built again in memory (the file is a cache: losing it loses nothing).
    const file = ListingFile.create(this.listingDir, key)
    if (!file) return this.buildListingInto(view, key, names, undefined)
    try {
      return await this.buildListingInto(view, key, names, file)
    } catch (e) {
      file.discard()
      if (!(e instanceof ListingWriteError)) throw e
      return this.buildListingInto(view, key, names, undefined)
    }
  }

  private async buildListingInto(view: TreeView, key: string, names: readonly ColumnName[], file: ListingFile | undefined): Promise<ListingTable> {
    // each line's named fields go into the builder (its place, order keys, the named columns) and the line is dropped
    const b = new ListingBuilder(names, file)
    const fromRun = (run: RunSummary) => {
      const bytes = Buffer.from(encodeSummaryLine(run))
      b.add(compactRun(run), bytes, 0, bytes.length - 1)
    }
    if ((await this.formatOf(view)) < 2) {
      for (const run of await this.all(view)) fromRun(run)
      return b.finish(key, this.damaged)
    }
    // Format 2: every shard tree in one round trip to `git cat-file`, then every summary file in one more (a fresh
    // clone's objects are packed: the round trips, not the bytes, are what costs).
    const shards = (await view.list(RUNS_DIR)).filter((e) => isTreeMode(e.mode))
    const trees = await Promise.all(shards.map((s) => this.store.readTree(s.oid)))
    const blob = (entries: typeof trees[number], name: string) => {
      const e = entries.find((x) => x.name === name)
      return e && !isTreeMode(e.mode) ? this.store.readBlobParts(e.oid) : Promise.resolve([])
    }
    // Every file is asked for at once (one write to `git cat-file`), then each shard is parsed as soon as its files
    // are in, in shard order, while git still inflates and sends the later ones (before, every file was awaited
    // first: git and the parse took turns). A failed read behind the shard being parsed is held (handled) until its
    // turn comes, then thrown as before.
    const files: Array<Promise<Buffer[][]> | undefined> = trees.map((entries) => Promise.all([blob(entries, SUMMARIES_FILE), blob(entries, RECENT_FILE)]))
    // handled one by one (Promise.all would hold every shard's bytes until the last is in)
    for (const f of files) f!.catch(() => {})
    const damaged: DamagedRun[] = []
    // each line read for the columns named (src/format/summary-scan.ts: most lines without JSON.parse)
    const scan = b.scanner()
    for (let k = 0; k < shards.length; k++) {
      // recent.jsonl's lines win over summaries.jsonl's; a tombstone removes the run
      const byId = new Map<string, { line: ScannedLine; bytes: readonly Buffer[]; start: number; end: number } | null>()
      const shardFiles = await files[k]!
      files[k] = undefined // a settled promise keeps its value: drop it, so the shard's bytes go once written
      for (const bytes of shardFiles) {
        eachSummaryLine(bytes, (text, start, end) => {
          const line = scan(text)
          if (line) byId.set(line.id, line.values && { line, bytes, start, end })
        })
      }
      for (const e of trees[k]!) {
        if (!isTreeMode(e.mode)) continue
        const r = byId.get(e.name)
        if (r) {
          b.addScanned(r.line, r.bytes, r.start, r.end)
          continue
        }
        // a run directory no line covers: its run.yaml, as branchShard reads it
        const run = await this.readRun(e.oid, `${RUNS_DIR}/${shards[k]!.name}/${e.name}`).catch(() => undefined)
        if (run) fromRun(run)
        else if (this.damagedByRunTree.has(e.oid)) damaged.push(this.damagedByRunTree.get(e.oid)!)
      }
    }
    return b.finish(key, damaged)
  }

  /** Every run summary in the view (deleted ones included), in no particular order. */
  async all(view: TreeView): Promise<RunSummary[]> {
    const shards = (await view.list(RUNS_DIR)).filter((e) => isTreeMode(e.mode))
    const onBranch = (await this.formatOf(view)) >= 2
    // Format 2 reads SHARD_WINDOW shards at a time: their trees and summary files go to `git cat-file` as one
    // request each round (a fresh clone's objects are all packed), so a listing waits for ~3 round trips per window
    // instead of 3 per shard. Format 1 stays one shard at a time: its run.yaml blobs of 256 shards in flight held
    // every blob of a 100,000-run branch in memory at once (1.6 GB).
    const out: RunSummary[] = []
    const damaged: DamagedRun[] = []
    const window = onBranch ? SHARD_WINDOW : 1
    for (let i = 0; i < shards.length; i += window) {
      const part = shards.slice(i, i + window)
      const lists = await Promise.all(part.map((s) => (onBranch ? this.branchShard(s.name, s.oid) : this.shard(s.name, s.oid))))
      for (let k = 0; k < part.length; k++) {
        for (const run of lists[k]!) out.push(run)
        damaged.push(...(this.damagedByShard.get(part[k]!.oid) ?? []))
      }
    }
    this.damaged = damaged
    return out
  }

  /** Format 2: the shard's summary files on the branch; this cache is not used (run dirs no line covers are read). */
  private async branchShard(name: string, oid: string): Promise<RunSummary[]> {
    const mem = this.byShardTree.get(oid)
    if (mem) return mem
    const { runs, uncovered } = await readShard(this.store, oid, this.byBlob)
    const damaged: DamagedRun[] = []
    for (const e of uncovered) {
      const run = await this.readRun(e.oid, `${RUNS_DIR}/${name}/${e.name}`).catch(() => undefined)
      if (run) runs.push(run)
      else if (this.damagedByRunTree.has(e.oid)) damaged.push(this.damagedByRunTree.get(e.oid)!)
    }
    this.damagedByShard.set(oid, damaged)
    if (this.byShardTree.size > 4096) this.byShardTree.clear()
    this.byShardTree.set(oid, runs)
    return runs
  }

  private async formatOf(view: TreeView): Promise<number> {
    const e = await view.entry(ROOT_FILE)
    if (!e) return 1
    let v = this.formats.get(e.oid)
    if (v === undefined) {
      try {
        v = checkRoot((await this.store.readBlob(e.oid)).toString('utf8'))
      } catch (err) {
        if (isLabbookError(err, 'FORMAT_TOO_NEW')) throw err
        v = 1
      }
      this.formats.set(e.oid, v)
    }
    return v
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
      const save: Array<[string, RunSummary | null, DamagedRun?]> = []
      const damaged: DamagedRun[] = []
      for (const e of entries) {
        const run = await this.readRun(e.oid, `${RUNS_DIR}/${name}/${e.name}`)
        if (!run) {
          const d = this.damagedByRunTree.get(e.oid)
          if (d) { damaged.push(d); save.push([e.oid, null, d]) }
          continue
        }
        runs.push(run)
        save.push([e.oid, run])
      }
      this.damagedByShard.set(oid, damaged)
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
    let run: RunSummary
    try {
      run = decodeRun((await this.store.readBlob(entry.oid)).toString('utf8'), `${where}/${RUN_FILE}`)
    } catch (e) {
      // One damaged run.yaml never hides the others: remembered with its path, skipped (labbook doctor lists it).
      this.damagedByRunTree.set(runTree, { path: `${where}/${RUN_FILE}`, message: (e as Error).message })
      return undefined
    }
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
      const rows = JSON.parse(text) as Array<[string, CompactRun | null, DamagedRun?]>
      const out: RunSummary[] = []
      const damaged: DamagedRun[] = []
      for (const [treeOid, raw, problem] of rows) {
        if (raw === null) {
          if (problem) { damaged.push(problem); this.damagedByRunTree.set(treeOid, problem) }
          continue
        }
        const run = reviveRun(raw)
        this.byRunTree.set(treeOid, run)
        out.push(run)
      }
      const shardOid = /([0-9a-f]{40})\.json$/.exec(file)?.[1]
      if (shardOid) this.damagedByShard.set(shardOid, damaged)
      return out
    } catch {
      return undefined // damaged: rebuilt by the caller
    }
  }

  private writeFile(file: string, rows: Array<[string, RunSummary | null, DamagedRun?]>): void {
    try {
      fs.mkdirSync(this.dir, { recursive: true })
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
      fs.writeFileSync(tmp, JSON.stringify(rows.map(([oid, run, d]) => (run ? [oid, compactRun(run)] : [oid, null, d])), summaryReplacer))
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
