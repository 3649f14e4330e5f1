/**
 * A run's buffers: the points and operations logged since the last journal write, and the journaled text not yet
 * committed. Pure memory; the journal (journal.ts) and the commit (run-commit.ts) take from here.
 */
import { pointPrefix, pointTimestamp, pointValueStep } from '../format/jsonl.js'
import { addToSummary } from '../model/metric.js'
import { keyed, type MetricSummary } from '../model/run.js'
import type { PendingPoints } from './journal.js'

/** Points buffered in memory before a synchronous journal write, whatever the clock says. */
export const BUFFER_POINTS = 100_000

/** Per metric key: the key, its line prefix, the step a point without one gets, and the running summary. */
export interface KeyState {
  key: string
  prefix: string
  nextStep: number
  summary: MetricSummary | undefined
}

export class PointBuffer {
  readonly keys = new Map<string, KeyState>()
  /** Points not yet journaled, as chunk text. */
  pending = ''
  pendingPoints = 0
  /**
   * The pending points as numbers, in the order of `pending`'s lines, kept only while this process's live view reads
   * the run's journal (`wanted`, asked at the first point after each journal write): handed with the text to the journal, which gives them to the live view as
   * parsed (Journal.append's `fed`), so `labbook serve` does not parse again the points it has just written. A
   * process nobody reads in (a training script, `labbook run`) keeps none.
   */
  private cols: PendingPoints | undefined
  /** Param/tag/... operations not yet journaled, as journal lines. */
  pendingOps = ''
  /** Journaled, not yet committed chunk text. */
  private uncommitted: string[] = []
  private uncommittedPoints = 0
  private lastTs = -1
  private lastTsText = ''

  /** Starts from the summaries of the points already on the branch (a writer attaching to an existing run). */
  constructor(initial: Record<string, MetricSummary>, private readonly wanted: () => boolean = () => false) {
    for (const [k, s] of Object.entries(initial)) this.keys.set(k, { key: k, prefix: pointPrefix(k), nextStep: s.step + 1, summary: { ...s } })
  }

  /** A new key's state (the caller validated the key). */
  addKey(key: string): KeyState {
    const st: KeyState = { key, prefix: pointPrefix(key), nextStep: 0, summary: undefined }
    this.keys.set(key, st)
    return st
  }

  /** Appends one validated point; returns true every 4096 points, when the caller should consider a journal write. */
  add(st: KeyState, value: number, step: number, timestamp: number): boolean {
    if (step >= st.nextStep) st.nextStep = step + 1
    st.summary = addToSummary(st.summary, value, step, timestamp)
    // The clock moves once per ms while a hot loop logs hundreds of points: its text is reused.
    if (timestamp !== this.lastTs) {
      this.lastTs = timestamp
      this.lastTsText = pointTimestamp(timestamp)
    }
    this.pending += st.prefix + pointValueStep(value, step) + this.lastTsText
    if (this.pendingPoints === 0) this.cols = this.wanted() ? { key: [], value: [], step: [], time: [] } : undefined
    const c = this.cols
    if (c) { c.key.push(st.key); c.value.push(value); c.step.push(step); c.time.push(timestamp) }
    return (++this.pendingPoints & 4095) === 0
  }

  /** The metric summaries, uncommitted points included (copies). */
  summaries(): Record<string, MetricSummary> {
    const metrics: Record<string, MetricSummary> = keyed()
    for (const [k, st] of this.keys) if (st.summary) metrics[k] = { ...st.summary }
    return metrics
  }

  /** What the next journal write holds: operations, then points ('' when nothing is pending). */
  journalText(): string {
    return this.pendingOps + this.pending
  }

  /**
   * The points of the next journal write (journalText's point lines), as numbers, valid until `journaled()`; undefined
   * when they were not kept (nobody read the journal here at the last write).
   */
  pendingColumns(): PendingPoints | undefined {
    return this.cols
  }

  /** The pending text reached the journal: its points wait for the next commit. */
  journaled(): void {
    if (this.pending !== '') {
      this.uncommitted.push(this.pending)
      this.uncommittedPoints += this.pendingPoints
    }
    this.pending = ''
    this.pendingOps = ''
    this.pendingPoints = 0
    this.cols = undefined
  }

  /** Whether points were journaled that no commit took yet. */
  get hasUncommitted(): boolean {
    return this.uncommittedPoints > 0 || this.uncommitted.length > 0
  }

  /** Takes the journaled points for a commit; `putBack` returns them if the commit fails. */
  takeUncommitted(): { text: string; points: number; parts: string[] } {
    const parts = this.uncommitted
    const points = this.uncommittedPoints
    this.uncommitted = []
    this.uncommittedPoints = 0
    return { text: parts.join(''), points, parts }
  }

  putBack(taken: { points: number; parts: string[] }): void {
    this.uncommitted = taken.parts.concat(this.uncommitted)
    this.uncommittedPoints += taken.points
  }
}
