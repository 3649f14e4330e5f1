/**
 * One run writer's side of its journal (journal.ts): when buffered text goes to disk (about once a second, or every
 * BUFFER_POINTS points), the `labbook run` mark written after it, and what a rotation carries into the next segment.
 * The Run owns the buffers (point-buffer.ts) and hands their text here; with `journal: false` (recovery) nothing is
 * written and only the flush clock runs.
 */
import { encodeOp, type JournalOp } from '../format/journal.js'
import { Journal, type JournalOwner, type PendingPoints } from './journal.js'
import './journal-pool.js' // spare journals plug into journal.ts (spareHooks) with the write path
import { BUFFER_POINTS } from './point-buffer.js'

const NO_POINTS: PendingPoints = { key: [], value: [], step: [], time: [] }

/** The longest a logged point waits in memory before its journal write (ms). */
const FLUSH_INTERVAL_MS = 1000

export class RunJournal {
  private readonly journal: Journal
  private lastFlush = Date.now()
  /** Asked at every journal write for an op that says how far an outside source is (`labbook run`'s metrics file). */
  private mark: (() => JournalOp | undefined) | undefined
  /** The last such op written: a rotated journal starts with it again, so recovery always finds it. */
  private lastMark = ''
  /** What reached the journal while a commit was in flight: it is not on the branch, so the next segment keeps it. */
  private sinceSnapshot: string[] = []

  constructor(gitdir: string, runId: string, readonly enabled: boolean) {
    this.journal = new Journal(gitdir, runId)
  }

  /** Creates the journal with its owner header and the run's start line. */
  begin(owner: Omit<JournalOwner, 'pid' | 'host' | 'started'>, committedPoints: number, startLine: string): void {
    if (!this.enabled) return
    this.journal.open(owner, committedPoints, startLine)
  }

  setMark(mark: () => JournalOp | undefined): void {
    this.mark = mark
  }

  /** Whether buffered data is due for a journal write: many points waiting, or a second since the last write. */
  due(pendingPoints: number): boolean {
    return pendingPoints >= BUFFER_POINTS || Date.now() - this.lastFlush >= FLUSH_INTERVAL_MS
  }

  /**
   * Writes the buffers' journal text (`ops`, then the point lines `points`, together not empty) and the mark after
   * it; fsync when `sync`. `cols`: the points as numbers, when kept (handed to this process's live view with the
   * text).
   */
  write(ops: string, points: string, cols: PendingPoints | undefined, sync: boolean): void {
    let tail = ''
    const mark = this.mark?.()
    // After the points: everything before it in the journal is what the mark says was taken in.
    if (mark) tail = this.lastMark = encodeOp(mark)
    if (this.enabled) {
      const text = ops + points + tail
      // points the buffer did not keep (nobody read here at the last write) go as text only; a reader parses them
      this.journal.append(text, sync, cols || points === '' ? { lead: ops, points: cols ?? NO_POINTS, tail } : undefined)
      this.sinceSnapshot.push(text)
    }
    this.lastFlush = Date.now()
  }

  /** Whether this process's live view reads the journal to its end (what is written next can be handed to it as parsed). */
  readHere(): boolean {
    return this.enabled && this.journal.readHere()
  }

  /** Resolves once everything written is on disk (concurrent callers share one fdatasync). */
  durable(): Promise<void> {
    return this.enabled ? this.journal.durable() : Promise.resolve()
  }

  /** A commit took its snapshot: what is written from now on is not in it. */
  snapshotTaken(): void {
    this.sinceSnapshot = []
  }

  /** The commit landed: start a new segment from `committedPoints`, carrying what was written while it was in flight. */
  rotate(committedPoints: number): Promise<void> {
    return this.enabled ? this.journal.rotate(committedPoints, this.sinceSnapshot.join('') || this.lastMark) : Promise.resolve()
  }

  markResumable(): void {
    if (this.enabled) this.journal.markResumable()
  }

  /** Removes the journal (the branch has everything); `force` also when this writer kept none (recovery). */
  async remove(force = false): Promise<void> {
    if (this.enabled || force) await this.journal.remove()
  }

  /** The process is exiting: text waiting for a rotation in flight is written now (Journal.writeHeldNow). */
  writeHeldNow(): void {
    if (this.enabled) this.journal.writeHeldNow()
  }

  close(): void {
    if (this.enabled) this.journal.close()
  }
}
