import fs from 'node:fs'
import { join } from 'node:path'
import { LabbookError } from '../errors.js'
import { processAlive, thisProcess } from '../store/process.js'
import { decodeJournalLine, type JournalOp } from '../format/journal.js'
import { decodeRun } from '../format/yaml.js'
import type { MetricPoint, RunStatus, RunSummary } from '../model/run.js'

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

export function journalRoot(gitdir: string): string {
  return join(gitdir, 'labbook', 'journal')
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

  constructor(gitdir: string, readonly runId: string) {
    this.dir = join(journalRoot(gitdir), runId)
  }

  open(owner: Omit<JournalOwner, 'pid' | 'host' | 'started'>, committedPoints: number): void {
    try {
      try {
        fs.mkdirSync(this.dir)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') fs.mkdirSync(this.dir, { recursive: true }) // the journal root is made once
      }
      const full: JournalOwner = { ...thisProcess(), ...owner }
      this.owner = full
      fs.writeFileSync(join(this.dir, 'owner.json'), JSON.stringify(full))
      this.startSegment(committedPoints)
    } catch (e) {
      throw new LabbookError('IO_FAILED', `Cannot write the run journal in ${this.dir}: ${(e as Error).message}`, 'Check permissions and free space of the .git directory.', {}, { cause: e })
    }
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

  /** Appends and fsyncs. Called at most about once a second by the run's flusher, and before every commit. */
  append(text: string, sync = true): void {
    if (this.fd === undefined || text === '') return
    fs.writeSync(this.fd, text)
    this.unsynced = true
    if (sync) this.sync()
  }

  /**
   * Resolves once everything appended so far is on disk (fdatasync). Callers that arrive together share one fdatasync:
   * those that come while one is in flight wait for the next, which starts as soon as it ends (group commit).
   */
  durable(): Promise<void> {
    if (this.fd === undefined || (!this.unsynced && !this.syncing)) return Promise.resolve()
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
    if (this.syncing || this.fd === undefined) {
      this.syncAgain = this.syncing
      return
    }
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
   * After a commit that put everything up to `committedPoints` on the branch: empty the segment, then rename it to
   * the new base (in this order, a crash in between leaves an empty segment, never committed points under a new base),
   * then write back `carry`: what was journaled while the commit was in flight.
   */
  rotate(committedPoints: number, carry = ''): void {
    if (this.fd === undefined) return
    const next = this.segmentPath(committedPoints)
    fs.ftruncateSync(this.fd, 0)
    if (next !== this.segment) {
      fs.renameSync(this.segment, next)
      this.segment = next
    }
    if (carry) this.append(carry)
  }

  private segmentPath(base: number): string {
    return join(this.dir, `${String(base).padStart(12, '0')}.jsonl`)
  }

  private startSegment(base: number): void {
    this.close()
    this.segment = this.segmentPath(base)
    this.fd = fs.openSync(this.segment, 'a')
  }

  /** The run is committed in full: the journal goes away. */
  remove(): void {
    const segment = this.segment
    this.close()
    // The two files it holds, then the directory (no walk of it); anything else there: removed with it.
    try {
      if (segment) fs.unlinkSync(segment)
      fs.unlinkSync(join(this.dir, 'owner.json'))
      fs.rmdirSync(this.dir)
    } catch {
      fs.rmSync(this.dir, { recursive: true, force: true })
    }
  }

  /** Closes the segment (after any fdatasync in flight, so the number is not reused under it). */
  close(): void {
    const fd = this.fd
    this.fd = undefined
    if (!this.syncing) for (const w of this.nextWaiters.splice(0)) w.resolve() // whoever closes has committed or synced
    if (fd === undefined) return
    if (!this.syncing) fs.closeSync(fd)
    else {
      const wait = setInterval(() => {
        if (this.syncing) return
        clearInterval(wait)
        fs.close(fd, () => {})
      }, 5)
    }
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

/** What a journal directory holds, decoded (recovery has its own loop; the live view reads through this). */
export interface JournalContents {
  /** The run as it was when its writer opened it (`start` op), if journaled. */
  start?: RunSummary
  /** Edits in order (param, tag, untag, name, description, resume, dataset). */
  ops: JournalOp[]
  /** Points in order; `index` counts points from the first segment's base (points committed when it started). */
  points: Array<MetricPoint & { index: number }>
  ended?: { status: RunStatus; endTime: number }
}

const readCache = new Map<string, { key: string; contents: JournalContents }>()

/**
 * Reads every segment of a journal through the format's decoder; a torn last line (a crash mid-write) ends its
 * segment. Unchanged journals (same segments, sizes and mtimes) come from a small cache: the live view reads them on
 * every request.
 */
export function readJournal(dir: string): JournalContents {
  const segments = fs.readdirSync(dir).filter((f) => /^\d+\.jsonl$/.test(f)).sort()
  let key = ''
  for (const seg of segments) {
    try {
      const st = fs.statSync(join(dir, seg))
      key += `${seg}:${st.size}:${st.mtimeMs};`
    } catch { key += `${seg}:gone;` }
  }
  const hit = readCache.get(dir)
  if (hit && hit.key === key) return hit.contents
  const contents = parseSegments(dir, segments)
  if (readCache.size > 256) readCache.clear()
  readCache.set(dir, { key, contents })
  return contents
}

function parseSegments(dir: string, segments: string[]): JournalContents {
  const out: JournalContents = { ops: [], points: [] }
  for (const seg of segments) {
    let index = parseInt(seg, 10)
    let text: string
    try {
      text = fs.readFileSync(join(dir, seg), 'utf8')
    } catch {
      continue // rotated away while we listed: its points are on the branch now
    }
    for (const line of text.split('\n')) {
      if (!line) continue
      const entry = decodeJournalLine(line)
      if (!entry) break
      if (entry.kind === 'point') out.points.push({ ...entry.point, index: index++ })
      else if (entry.kind === 'op') {
        const op = entry.op
        if (op.op === 'start') out.start ??= decodeRun(op.run)
        else if (op.op === 'end') out.ended = { status: op.status, endTime: op.endTime }
        else out.ops.push(op)
      }
    }
  }
  return out
}
