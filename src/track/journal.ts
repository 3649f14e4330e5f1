import fs from 'node:fs'
import { join } from 'node:path'
import { LabbookError } from '../errors.js'
import { processAlive, testCrashPoint, thisProcess } from '../store/process.js'
import { decodeJournalLine, type JournalOp } from '../format/journal.js'
import { KeyTable, scanPointLine, scanned } from '../format/jsonl.js'
import { decodeRun } from '../format/yaml.js'
import { addToSummary } from '../model/metric.js'
import { keyed, type MetricPoint, type MetricSummary, type RunStatus, type RunSummary } from '../model/run.js'

/** Who writes a journal: enough to tell, after a crash, whether that process is still alive. */
export interface JournalOwner {
  pid: number
  host: string
  /** Start time of the process (from /proc when available), so a reused pid is not mistaken for the writer. */
  started: string
  runId: string
  experiment: string
  branch: string
  /**
   * Its writer was a server for a client that may come back (MLflow's stores keep such runs RUNNING): recovery
   * commits what the branch lacks and leaves the run RUNNING instead of ending it KILLED.
   */
  resumable?: boolean
}

/** Where rotate() writes a segment's replacement before renaming it over the segment (readers list segments only). */
const REPLACEMENT = 'rotate.tmp'
/** Appends, into an emptied file (a replacement left by a crash is overwritten). */
const REPLACE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_APPEND

/** Every journal's first segment of a new run: base 0 (segments are named by their base, 12 digits). */
export const FIRST_SEGMENT = `${'0'.repeat(12)}.jsonl`

/**
 * Spare journals (journal-pool.ts) plug in here when the write path loads them, so readers (`labbook ls`) never load
 * that module: `take` hands out a spare for a new run, `release` drops this process's spares on close.
 */
export const spareHooks: { take?: (gitdir: string) => string | undefined; release?: (gitdir: string) => Promise<void> } = {}

/** Where spare journals wait (journal-pool.ts). */
export function spareRoot(gitdir: string): string {
  return join(gitdir, 'labbook', 'journal-spare')
}

export function journalRoot(gitdir: string): string {
  return join(gitdir, 'labbook', 'journal')
}

/**
 * Journals holding an open descriptor, least recently used first. Each open run holds its segment open, and a server
 * whose clients leave runs open (MLflow's own k6 benchmark creates 23,525 runs in 30 s and ends none) ran out of file
 * descriptors (EMFILE) at the process limit. Beyond OPEN_LIMIT, the least recently used journals with nothing in
 * flight (everything written and fdatasynced) close their descriptor ("parked") and reopen it on their next write.
 */
const openJournals = new Map<Journal, true>()
let openLimit = 512

/** @internal tests: how many journals may hold a descriptor at once (parked beyond it). Returns the previous limit. */
export function setOpenJournalLimit(n: number): number {
  const was = openLimit
  openLimit = Math.max(1, n)
  return was
}

/** @internal how many journals hold a descriptor now. */
export function openJournalCount(): number {
  return openJournals.size
}

function touchOpen(j: Journal): void {
  openJournals.delete(j)
  openJournals.set(j, true)
  if (openJournals.size <= openLimit) return
  // the oldest first; a busy one (an fdatasync or rotation in flight) goes to the back, and a call tries a few at
  // most: when thousands rotate at once (a commit of every open run) a full scan per touch was quadratic
  let tries = 0
  for (const other of openJournals.keys()) {
    if (openJournals.size <= openLimit || tries++ >= 8) break
    if (other !== j && !other.park()) { openJournals.delete(other); openJournals.set(other, true) }
  }
}

/**
 * The write-ahead log of one open run: `.git/labbook/journal/<run>/` holds owner.json and segments `<base>.jsonl`,
 * where base is the number of points already committed when the segment started. Appends are fsynced. After each
 * commit a new segment starts and older ones are removed, so a crash replays at most what the branch lacks.
 */
export class Journal {
  readonly dir: string
  private fd: number | undefined
  private segment = ''
  /** What owner.json holds, as this writer wrote it. */
  private owner: JournalOwner | undefined
  private syncing = false
  private syncAgain = false
  /** Bytes written since the last fdatasync started. */
  private unsynced = false
  /** Callers of durable() waiting for the next fdatasync. */
  private nextWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = []
  /** A rotation in flight (rotate()): appends wait in `held`, fdatasyncs and durable() for its end. */
  private rotating: Promise<void> | undefined
  /** Text appended while a rotation was in flight, written after it (in memory until then: durable() waits). */
  private held = ''
  /** The rotation's new file, carry written, while its rename is under way (writeHeldNow). */
  private renaming: number | undefined
  /** The descriptor was closed to stay under the open limit (touchOpen); the segment reopens on the next write. */
  private parked = false

  constructor(private readonly gitdir: string, readonly runId: string) {
    this.dir = join(journalRoot(gitdir), runId)
  }

  /**
   * Makes the journal: owner.json, the first segment and `first` in it (the run's start op; not fsynced: durable()
   * does that). A new run (nothing committed) takes a spare journal made ahead of need (journal-pool.ts): owner.json
   * and `first` go into the spare, then one rename puts it in place, complete.
   */
  open(owner: Omit<JournalOwner, 'pid' | 'host' | 'started'>, committedPoints: number, first = ''): void {
    const full: JournalOwner = { ...thisProcess(), ...owner }
    if (committedPoints === 0 && this.openSpare(full, first)) return
    try {
      try {
        fs.mkdirSync(this.dir)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') fs.mkdirSync(this.dir, { recursive: true }) // the journal root is made once
      }
      this.owner = full
      fs.writeFileSync(join(this.dir, 'owner.json'), JSON.stringify(full))
      this.startSegment(committedPoints)
      if (first) this.append(first, false)
    } catch (e) {
      throw new LabbookError('IO_FAILED', `Cannot write the run journal in ${this.dir}: ${(e as Error).message}`, 'Check permissions and free space of the .git directory.', {}, { cause: e })
    }
  }

  /** open() through a spare; false (nothing visible changed) when none is ready or this run's directory exists. */
  private openSpare(owner: JournalOwner, first: string): boolean {
    if (fs.existsSync(this.dir)) return false
    const spare = spareHooks.take?.(this.gitdir)
    if (!spare) return false
    let fd: number | undefined
    try {
      fs.writeFileSync(join(spare, 'owner.json'), JSON.stringify(owner))
      testCrashPoint('spare-owner')
      fd = fs.openSync(join(spare, FIRST_SEGMENT), 'a')
      if (first) fs.writeSync(fd, first)
      testCrashPoint('spare-claimed')
      try {
        fs.renameSync(spare, this.dir)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
        fs.mkdirSync(journalRoot(this.gitdir), { recursive: true }) // the journal root is made once
        fs.renameSync(spare, this.dir)
      }
    } catch {
      if (fd !== undefined) fs.closeSync(fd)
      fs.rmSync(spare, { recursive: true, force: true }) // never visible: the ordinary way makes the journal instead
      return false
    }
    testCrashPoint('spare-renamed')
    this.close()
    this.owner = owner
    this.segment = join(this.dir, FIRST_SEGMENT) // the open fd follows the directory's rename
    this.fd = fd
    this.unsynced = first !== ''
    touchOpen(this)
    return true
  }

  /** Marks the journal's owner record resumable (see JournalOwner.resumable). */
  markResumable(): void {
    const path = join(this.dir, 'owner.json')
    try {
      const owner = this.owner ?? (JSON.parse(fs.readFileSync(path, 'utf8')) as JournalOwner)
      if (owner.resumable) return
      const next = { ...owner, resumable: true }
      fs.writeFileSync(path + '.tmp', JSON.stringify(next))
      fs.renameSync(path + '.tmp', path)
      this.owner = next
    } catch (e) {
      throw new LabbookError('IO_FAILED', `Cannot update the run journal in ${this.dir}: ${(e as Error).message}`, 'Check permissions and free space of the .git directory.', {}, { cause: e })
    }
  }

  /**
   * Appends and fsyncs. Called at most about once a second by the run's flusher, and before every commit. `fed`: the
   * text as the reader parses it (lines before the points, the points as numbers, lines after); when this process's
   * live view has read the segment up to here, it gets them as parsed (feedReader) instead of parsing them again.
   */
  append(text: string, sync = true, fed?: JournalFeed): void {
    if (text === '') return
    this.unpark()
    if (this.fd === undefined) return
    if (this.rotating) {
      this.held += text // written and fsynced when the rotation ends; durable() waits for that
      this.unsynced = true
      return
    }
    const name = fed && this.segment.slice(this.dir.length + 1)
    const reader = name && readerAt(this.dir, name)
    const written = fs.writeSync(this.fd, text)
    if (reader) feedReader(this.dir, name, reader, this.fd, text, written, fed!)
    this.unsynced = true
    if (sync) this.sync()
  }

  /** Whether this process's live view has read the segment to its end: what is appended next can be fed to it. */
  readHere(): boolean {
    return readerAt(this.dir, this.segment.slice(this.dir.length + 1)) !== undefined
  }

  /**
   * Resolves once everything appended so far is on disk (fdatasync). Callers that arrive together share one fdatasync:
   * those that come while one is in flight wait for the next, which starts as soon as it ends (group commit).
   */
  durable(): Promise<void> {
    if (this.fd === undefined || (!this.unsynced && !this.syncing && !this.rotating)) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.nextWaiters.push({ resolve, reject })
      this.sync()
    })
  }

  /**
   * fdatasync in the thread pool, at most one in flight: a server with 20 open runs must not stall its event loop
   * for 20 fsyncs every second. A killed process loses nothing written (the page cache outlives it); the fsync is
   * for the machine going down.
   */
  private sync(): void {
    if (this.rotating) return // its end syncs
    if (this.syncing || this.fd === undefined) {
      this.syncAgain = this.syncing
      return
    }
    testCrashPoint('journal-sync')
    this.syncing = true
    this.unsynced = false
    const fd = this.fd
    const waiters = this.nextWaiters
    this.nextWaiters = []
    fs.fdatasync(fd, (err) => {
      this.syncing = false
      for (const w of waiters) {
        if (err) w.reject(new LabbookError('IO_FAILED', `Cannot sync the run journal in ${this.dir}: ${err.message}`, 'Check free space of the .git directory.', {}, { cause: err }))
        else w.resolve()
      }
      if (this.syncAgain || this.nextWaiters.length > 0) {
        this.syncAgain = false
        if (this.fd === undefined) for (const w of this.nextWaiters.splice(0)) w.resolve() // closed: a commit or removal took over
        else this.sync()
      }
    })
  }

  /**
   * After a commit that put everything up to `committedPoints` on the branch, the segment starts again from there
   * with `carry`: what was journaled after the commit's snapshot. Resolves once done; a run's commits are serial and
   * each awaits its rotation, so rotations of one journal never overlap.
   *
   * Off the event loop (thread pool): the carry goes into `rotate.tmp` (fdatasynced when not empty), which is renamed
   * to the segment's name, and the descriptor moves to it. A commit that added no points (a new run's first commit, an
   * edit) keeps the name: the rename replaces the segment. A commit that added points names the new segment by the new
   * base (segments are named by it), and the old one is removed after the rename. Meanwhile appends wait in memory
   * (`held`, written after) and durable() waits for them. A kill at any point leaves the old segment whole, or the new
   * one (beside the old, which readers then skip: newestSegment), each complete for what was acknowledged. On the event
   * loop, a truncation in place waits on ext4 for the filesystem journal, behind every concurrent fdatasync (~3 ms per
   * new run at 20 concurrent creates), and so does creating a file (~0.7 ms); and emptying the old segment before the
   * carry was written back, as a rotation to a new base did until 2026-12-02, lost the carry to a kill in between.
   */
  rotate(committedPoints: number, carry = ''): Promise<void> {
    this.unpark()
    if (this.fd === undefined) return Promise.resolve()
    if (this.rotating) return this.rotating.then(() => this.rotate(committedPoints, carry))
    const work = this.replaceSegment(this.fd, carry, this.segmentPath(committedPoints))
    this.rotating = work
    return work
  }

  /** rotate(): the segment replaced by (or moved on to) `target`, a file holding `carry`, in the thread pool. */
  private async replaceSegment(old: number, carry: string, target: string): Promise<void> {
    const segment = this.segment
    const rebase = target !== segment
    const tmp = join(this.dir, REPLACEMENT)
    let fresh: number | undefined
    let failure: unknown
    try {
      fresh = await new Promise<number>((resolve, reject) => fs.open(tmp, REPLACE_FLAGS, 0o644, (e, fd) => (e ? reject(e) : resolve(fd))))
      if (carry) {
        const bytes = Buffer.from(carry)
        await new Promise<void>((resolve, reject) => fs.write(fresh!, bytes, 0, bytes.length, null, (e) => (e ? reject(e) : resolve())))
        await new Promise<void>((resolve, reject) => fs.fdatasync(fresh!, (e) => (e ? reject(e) : resolve())))
      }
      testCrashPoint(rebase ? 'journal-rebase' : 'journal-replace')
      this.renaming = fresh
      await fs.promises.rename(tmp, target)
      testCrashPoint(rebase ? 'journal-rebase-renamed' : 'journal-replace-renamed')
    } catch (e) {
      failure = e
    }
    this.renaming = undefined
    this.rotating = undefined
    const held = this.held
    this.held = ''
    if (failure !== undefined || this.fd !== old) {
      // not moved (the old segment holds everything, carry included), or closed meanwhile (committed or removed)
      if (fresh !== undefined) fs.close(fresh, () => {})
      if (failure !== undefined) fs.unlink(tmp, () => {})
    } else {
      this.fd = fresh
      this.segment = target
      this.closeWhenIdle(old)
      if (rebase) {
        testCrashPoint('journal-rebased')
        fs.unlink(segment, () => { /* superseded by the new segment either way (readers skip it) */ })
      } else testCrashPoint('journal-replaced')
    }
    if (this.fd === undefined) return
    try {
      if (held) fs.writeSync(this.fd, held)
    } catch (e) {
      const err = new LabbookError('IO_FAILED', `Cannot write the run journal in ${this.dir}: ${(e as Error).message}`, 'Check permissions and free space of the .git directory.', {}, { cause: e })
      for (const w of this.nextWaiters.splice(0)) w.reject(err)
      throw err
    }
    if (held || this.unsynced || this.nextWaiters.length > 0) {
      this.unsynced = true
      this.sync()
    }
  }

  /**
   * The process is exiting ('exit' handlers run, nothing asynchronous will): what waits in memory for a rotation in
   * flight is written now, into the segment being replaced and, once the rename is under way, into the new file too
   * (carry written): whichever of them readers take (newestSegment) holds it after what it held.
   */
  writeHeldNow(): void {
    if (!this.rotating || !this.held || this.fd === undefined) return
    const held = this.held
    this.held = ''
    try {
      fs.writeSync(this.fd, held)
      if (this.renaming !== undefined) fs.writeSync(this.renaming, held)
    } catch { /* exiting: nothing left to tell */ }
  }

  private segmentPath(base: number): string {
    return join(this.dir, `${String(base).padStart(12, '0')}.jsonl`)
  }

  private startSegment(base: number): void {
    this.close()
    this.segment = this.segmentPath(base)
    this.fd = fs.openSync(this.segment, 'a')
    touchOpen(this)
  }

  /**
   * Closes the descriptor of a journal with nothing in flight (all written and fdatasynced, no rotation, nobody
   * waiting) to stay under the open limit; false when busy or not open. The next write reopens it (unpark).
   */
  park(): boolean {
    if (this.fd === undefined || this.parked || this.syncing || this.rotating || this.unsynced || this.held || this.nextWaiters.length > 0) return false
    const fd = this.fd
    this.fd = undefined
    this.parked = true
    openJournals.delete(this)
    fs.closeSync(fd)
    return true
  }

  /** Reopens a parked journal's segment (append mode: it goes on where it was); otherwise marks it recently used. */
  private unpark(): void {
    if (!this.parked) {
      if (this.fd !== undefined) touchOpen(this)
      return
    }
    try {
      this.fd = fs.openSync(this.segment, 'a')
    } catch (e) {
      throw new LabbookError('IO_FAILED', `Cannot reopen the run journal in ${this.dir}: ${(e as Error).message}`, 'Check permissions of the .git directory, and the open-files limit (ulimit -n).', {}, { cause: e })
    }
    this.parked = false
    touchOpen(this)
  }

  /**
   * The run is committed in full: the journal goes away. The two files it holds, then the directory (no walk of it);
   * anything else there: removed with it. Through the thread pool: the unlinks and the rmdir wait for the
   * filesystem's journal (on ext4 behind a concurrent fdatasync's commit), and the group commit that calls this runs
   * in the background of the event loop the next run's start and end are waiting on.
   */
  async remove(): Promise<void> {
    const segment = this.segment
    this.close()
    try {
      if (segment) await fs.promises.unlink(segment)
      await fs.promises.unlink(join(this.dir, 'owner.json'))
      await fs.promises.rmdir(this.dir)
    } catch {
      await fs.promises.rm(this.dir, { recursive: true, force: true })
    }
  }

  /** Closes the segment (after any fdatasync in flight, so the number is not reused under it). */
  close(): void {
    const fd = this.fd
    this.fd = undefined
    this.parked = false
    openJournals.delete(this)
    if (!this.syncing) for (const w of this.nextWaiters.splice(0)) w.resolve() // whoever closes has committed or synced
    if (fd === undefined) return
    if (!this.syncing && !this.rotating) fs.closeSync(fd)
    else this.closeWhenIdle(fd)
  }

  /** Closes a descriptor in the thread pool once no fdatasync or rotation is in flight (its number is not reused under one). */
  private closeWhenIdle(fd: number): void {
    const busy = () => this.syncing || this.rotating !== undefined
    if (!busy()) {
      fs.close(fd, () => {})
      return
    }
    const wait = setInterval(() => {
      if (busy()) return
      clearInterval(wait)
      fs.close(fd, () => {})
    }, 5)
  }
}

/** The owner of a run's journal, if the run has one. */
export function journalOwner(gitdir: string, runId: string): JournalOwner | undefined {
  try {
    return JSON.parse(fs.readFileSync(join(journalRoot(gitdir), runId, 'owner.json'), 'utf8'))
  } catch {
    return undefined
  }
}

/** Whether the process that wrote a journal is still running (same host, same pid, same start time). */
export function ownerAlive(owner: JournalOwner): boolean {
  return processAlive(owner)
}

/** Points a writer appends, as numbers (PointBuffer): point i is `key[i]`, `value[i]`, `step[i]`, timestamp `time[i]`. */
export interface PendingPoints { key: string[]; value: number[]; step: number[]; time: number[] }

/**
 * A journal write as its reader would parse it: `lead` (journal lines: ops), then the point lines of `points`, then
 * `tail` (journal lines: the `labbook run` mark); the text written is exactly their concatenation.
 */
export interface JournalFeed { lead: string; points: PendingPoints; tail: string }

/** What a journal directory holds, decoded (recovery has its own loop; the live view reads through this). */
export interface JournalContents {
  /** The run as it was when its writer opened it (`start` op), if journaled. */
  start?: RunSummary
  /** Edits in order (param, tag, untag, name, description, resume, dataset). */
  ops: JournalOp[]
  /** Points in order, in columns (`journalPoints` makes objects of them). */
  points: JournalPoints
  ended?: { status: RunStatus; endTime: number }
  /** `summarize(points)`, kept up to date as the journal grows (the live view's summaries cost nothing per read). */
  pointSummaries: Record<string, MetricSummary>
}

/**
 * Journaled points in columns: point i is key `keys[key[i]]`, `value[i]`, `step[i]`, timestamp `time[i]`, and
 * `index[i]` counts points from the segment's base (points committed when it started).
 * An append-only view: this read holds points [0, count); a later read of the same segment writes past `count` in the
 * same arrays (or moves to larger ones), never below, so what a reader was handed stays one moment while the live
 * view extends its series by the points past what it saw (src/track/live-series.ts), without a copy of the journal.
 */
export interface JournalPoints {
  readonly keys: readonly string[]
  readonly key: Uint32Array
  readonly value: Float64Array
  readonly step: Float64Array
  readonly time: Float64Array
  readonly index: Float64Array
  readonly count: number
  /** Which append-only log the arrays belong to: two views of one log agree below the smaller count. */
  readonly log: object
}

/** Points [from, count) of a journal as objects. */
export function journalPoints(p: JournalPoints, from = 0): Array<MetricPoint & { index: number }> {
  const out: Array<MetricPoint & { index: number }> = new Array(Math.max(0, p.count - from))
  for (let i = from; i < p.count; i++) out[i - from] = { key: p.keys[p.key[i]!]!, value: p.value[i]!, step: p.step[i]!, timestamp: p.time[i]!, index: p.index[i]! }
  return out
}

/** A segment's points as growable columns, appended in place (see JournalPoints). */
class PointLog {
  readonly table = new KeyTable()
  key = new Uint32Array(64)
  value = new Float64Array(64)
  step = new Float64Array(64)
  time = new Float64Array(64)
  index = new Float64Array(64)
  count = 0

  push(k: number, value: number, step: number, time: number, index: number): void {
    const i = this.count
    if (i === this.value.length) this.grow(i * 2)
    this.key[i] = k; this.value[i] = value; this.step[i] = step; this.time[i] = time; this.index[i] = index
    this.count = i + 1
  }

  /** Room for `n` more points in one move (at least doubling): a read of many lines copies the columns once, not once per doubling. */
  reserve(n: number): void {
    if (this.count + n > this.value.length) this.grow(Math.max(this.count + n, this.value.length * 2))
  }

  /** Larger arrays, points copied: views handed out keep the old ones (still right below their count). */
  private grow(size: number): void {
    const n = this.count
    const key = new Uint32Array(size); key.set(this.key.subarray(0, n)); this.key = key
    const value = new Float64Array(size); value.set(this.value.subarray(0, n)); this.value = value
    const step = new Float64Array(size); step.set(this.step.subarray(0, n)); this.step = step
    const time = new Float64Array(size); time.set(this.time.subarray(0, n)); this.time = time
    const index = new Float64Array(size); index.set(this.index.subarray(0, n)); this.index = index
  }

  view(): JournalPoints {
    return { keys: this.table.keys, key: this.key, value: this.value, step: this.step, time: this.time, index: this.index, count: this.count, log: this }
  }
}

/** One segment as parsed so far: only bytes after `offset` are read again (segments are append-only between rotations). */
interface SegmentState {
  ino: number
  size: number
  mtimeMs: number
  /** Bytes of complete lines parsed. */
  offset: number
  /** The segment's first bytes (up to HEAD_BYTES): a rotation that truncated and rewrote it under the same name differs here. */
  head: Buffer
  /** Index of the next point. */
  next: number
  /** A line that is no JSON (a torn write) ended the segment: what follows is not read (as recovery does). */
  stopped: boolean
  start?: RunSummary
  ops: JournalOp[]
  /** Shared by the states of one segment, each owning its first `count` points. */
  log: PointLog
  count: number
  ended?: { status: RunStatus; endTime: number }
  sums: Record<string, MetricSummary>
}

const HEAD_BYTES = 64
const readCache = new Map<string, { name: string | undefined; seg: SegmentState | undefined; contents: JournalContents }>()

/**
 * The journal's segment: the one with the highest base. A rotation makes the new segment before it removes the old
 * (Journal.rotate), so a kill between the two leaves both, and the new one holds all the old one had that the branch
 * lacks; older segments are superseded. Undefined when there is none.
 */
export function newestSegment(dir: string): string | undefined {
  let newest: string | undefined
  let base = -1
  for (const f of fs.readdirSync(dir)) {
    if (!/^\d+\.jsonl$/.test(f)) continue
    const n = parseInt(f, 10)
    if (n > base) [base, newest] = [n, f]
  }
  return newest
}

/**
 * Reads a journal's segment (newestSegment) through the format's decoder; a torn last line (a crash mid-write) ends
 * it. Incremental: the live view reads journals on every request while writers append to them, so the segment's
 * parsed entries are kept and only the bytes appended since are parsed (point lines straight into columns, no object
 * per point); a segment that was rotated (other name, inode, size or first bytes) is parsed again from its start. An
 * unchanged journal returns the same object.
 */
export function readJournal(dir: string): JournalContents {
  return readJournalUpTo(dir, Infinity)
}

/**
 * Parses up to `maxBytes` more of a journal's segment into readJournal's cache (the same state, so the next
 * readJournal parses only what is left) and says whether nothing is left. The live channel (src/server/live.ts) calls it
 * in slices on its tick, yielding between them: a server taking log calls at 100,000 points a second otherwise parsed
 * a second of them in one synchronous read when a page asked, holding those log calls for hundreds of ms.
 */
export function readJournalAhead(dir: string, maxBytes: number): boolean {
  partial = false
  readJournalUpTo(dir, maxBytes)
  return !partial
}

/** Set by readSegment when it stopped at its byte budget with complete lines left to parse. */
let partial = false

function readJournalUpTo(dir: string, maxBytes: number): JournalContents {
  let name = newestSegment(dir)
  const hit = readCache.get(dir)
  let seg: SegmentState | undefined
  if (name !== undefined) {
    try {
      seg = readSegment(join(dir, name), parseInt(name, 10), hit?.name === name ? hit.seg : undefined, maxBytes)
    } catch {
      name = undefined // rotated away while we listed: its points are on the branch now
    }
  }
  if (hit && hit.name === name && hit.seg === seg) return hit.contents
  const contents = contentsOf(seg)
  if (readCache.size > 256) readCache.clear()
  readCache.set(dir, { name, seg, contents })
  return contents
}

/** The segment's state after reading what was appended since `old` (a new state when anything changed). */
function readSegment(path: string, base: number, old: SegmentState | undefined, maxBytes = Infinity): SegmentState {
  const st = fs.statSync(path)
  if (old && old.ino === st.ino && old.size === st.size && old.mtimeMs === st.mtimeMs) return old
  const fd = fs.openSync(path, 'r')
  try {
    const head = Buffer.alloc(Math.min(HEAD_BYTES, st.size))
    const got = fs.readSync(fd, head, 0, head.length, 0)
    const same = old && old.ino === st.ino && st.size >= old.offset && head.subarray(0, old.head.length).equals(old.head) && got >= old.head.length
    // a read that failed half-way after `old` may have written past old.count: nobody was handed those points
    if (same) old.log.count = old.count
    const seg: SegmentState = same
      // points are appended in place to the shared log (handed-out views end at their count), the small parts copied
      ? { ...old, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ops: old.ops.slice(), sums: copySums(old.sums) }
      : { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, offset: 0, head: Buffer.alloc(0), next: base, stopped: false, ops: [], log: new PointLog(), count: 0, sums: keyed<MetricSummary>() }
    if (seg.stopped || st.size <= seg.offset) return seg
    const more = st.size - seg.offset > maxBytes
    // a slice (readJournalAhead): the state is not marked as read up to this size, so the next read goes on from offset
    if (more) seg.size = -1
    const buf = Buffer.alloc(more ? maxBytes : st.size - seg.offset)
    const n = fs.readSync(fd, buf, 0, buf.length, seg.offset)
    const end = buf.lastIndexOf(10, n - 1) + 1 // complete lines only: a line being written is read next time
    if (more && end > 0) partial = true
    if (end === 0) return seg
    seg.log.reserve(Math.ceil(end / 48)) // a point line is 40–80 bytes: at most one more move below
    parseLines(seg, buf, 0, end)
    seg.count = seg.log.count
    seg.offset += end
    if (seg.head.length < HEAD_BYTES) seg.head = Buffer.from(head.subarray(0, Math.min(got, seg.offset)))
    return seg
  } finally {
    fs.closeSync(fd)
  }
}

/** Parses the complete lines of buf[a, end) into the segment's state; a line that is no JSON stops the segment there. */
function parseLines(seg: SegmentState, buf: Buffer, a: number, end: number): void {
  const log = seg.log
  while (a < end && !seg.stopped) {
    const b = buf.indexOf(10, a)
    if (b < 0 || b >= end) break // not a complete line (callers pass whole lines)
    if (b > a) {
      if (scanPointLine(buf, a, b)) addPoint(seg, log.table.of(buf, scanned.keyStart, scanned.keyEnd), scanned.value, scanned.step, scanned.time)
      else {
        const entry = decodeJournalLine(buf.toString('utf8', a, b))
        if (!entry) { seg.stopped = true; break }
        if (entry.kind === 'point') addPoint(seg, log.table.name(entry.point.key), entry.point.value, entry.point.step, entry.point.timestamp)
        else if (entry.kind === 'op') {
          const op = entry.op
          if (op.op === 'start') seg.start ??= decodeRun(op.run)
          else if (op.op === 'end') seg.ended = { status: op.status, endTime: op.endTime }
          else seg.ops.push(op)
        }
      }
    }
    a = b + 1
  }
}

/** @internal What the live view's reader took as parsed from a writer in this process (feedReader), in points: the tests read it. */
export const journalFeedWork = { fed: 0 }

/**
 * The reader's state of `segment` when this process's live view has read it to its end (the next bytes written can be
 * handed to it as parsed, feedReader); undefined otherwise (nobody reads it here, a slice left, a torn line ended it).
 */
function readerAt(dir: string, name: string): SegmentState | undefined {
  const hit = readCache.get(dir)
  const seg = hit?.seg
  return seg && hit.name === name && !seg.stopped && seg.size === seg.offset ? seg : undefined
}

/**
 * A writer in this process appended `text` (what `fed` says, exactly) to the segment `old` was read from: the
 * reader's state moves past them as if it had parsed them, without parsing. `labbook serve` writes the journals of
 * every run an MLflow client logs to, and its live view read each of those points back from the file: 10% of its
 * main thread at 20 open pages (bench/live.ts, 2026-12-02). The state after is what readSegment makes of the same
 * file (same inode, size, mtime, first bytes and entries), so the next read finds nothing to parse; when the file is
 * not where `old` left it (another write came between), nothing is fed and the next read parses as always.
 */
function feedReader(dir: string, name: string, old: SegmentState, fd: number, text: string, written: number, fed: JournalFeed): void {
  // the file as the reader left it plus this write (`written` bytes, as write() said), nothing else (a write it was not
  // handed came between: it reads)
  const st = fs.fstatSync(fd)
  if (st.ino !== old.ino || st.size - written !== old.offset) return
  old.log.count = old.count // as readSegment: a read that failed half-way may have written past it
  const seg: SegmentState = { ...old, size: st.size, mtimeMs: st.mtimeMs, ops: old.ops.slice(), sums: copySums(old.sums) }
  // the head holds min(HEAD_BYTES, offset) bytes: below HEAD_BYTES it is the whole segment so far, and these follow it
  if (seg.head.length < HEAD_BYTES) seg.head = Buffer.concat([old.head, Buffer.from(text.slice(0, HEAD_BYTES))]).subarray(0, HEAD_BYTES)
  const lines = (t: string) => { if (t) { const b = Buffer.from(t); parseLines(seg, b, 0, b.length) } }
  lines(fed.lead)
  if (!seg.stopped) {
    const p = fed.points, n = p.key.length, log = seg.log, sums = seg.sums
    log.reserve(n)
    // a metric's summary is looked up once per run of its points (a batch is mostly one metric), not per point
    let key: string | undefined, k = 0, sum: MetricSummary | undefined
    for (let i = 0; i < n; i++) {
      if (p.key[i] !== key) {
        if (key !== undefined) sums[key] = sum!
        k = log.table.name((key = p.key[i]!))
        sum = sums[key]
      }
      // `+ 0`: the text spells a step or time of -0 as 0, and that is what a parse gives
      const value = p.value[i]!, step = p.step[i]! + 0, time = p.time[i]! + 0
      log.push(k, value, step, time, seg.next++)
      sum = addToSummary(sum, value, step, time)
    }
    if (key !== undefined) sums[key] = sum!
    journalFeedWork.fed += n
    lines(fed.tail)
  }
  seg.count = seg.log.count
  seg.offset = st.size
  readCache.set(dir, { name, seg, contents: contentsOf(seg) })
}

function addPoint(seg: SegmentState, k: number, value: number, step: number, time: number): void {
  seg.log.push(k, value, step, time, seg.next++)
  const key = seg.log.table.keys[k]!
  seg.sums[key] = addToSummary(seg.sums[key], value, step, time)
}

/** What a read hands out for the segment's state (none: an empty journal). */
function contentsOf(s: SegmentState | undefined): JournalContents {
  if (!s) return { ops: [], points: new PointLog().view(), pointSummaries: keyed<MetricSummary>() }
  // the state's ops and sums are copied by the next read before it changes them: no copy here
  return { start: s.start, ops: s.ops, points: { ...s.log.view(), count: s.count }, ended: s.ended, pointSummaries: s.sums }
}

function copySums(sums: Record<string, MetricSummary>): Record<string, MetricSummary> {
  const out = keyed<MetricSummary>()
  for (const k of Object.keys(sums)) out[k] = { ...sums[k]! }
  return out
}
