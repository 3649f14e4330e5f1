/**
 * A run's buffers: the points and operations logged since the last journal write, and the journaled text not yet
 * committed. Pure memory; the journal (journal.ts) and the commit (run-commit.ts) take from here.
 */
import { pointPrefix, pointTimestamp, pointValueStep } from '../format/jsonl.js'
import { addToSummary } from '../model/metric.js'
import { keyed, type MetricSummary } from '../model/run.js'
import type { SeriesColumns } from './history.js'
import { SeriesLog } from './live-series.js'

/** Points buffered in memory before a synchronous journal write, whatever the clock says. */
export const BUFFER_POINTS = 100_000
/** A kept series nobody asked for in this long (ms) is dropped (see PointBuffer.startSeries). */
const SERIES_IDLE_MS = 30_000

/** Per metric key: its line prefix, the step a point without one gets, and the running summary. */
export interface KeyState {
  prefix: string
  nextStep: number
  summary: MetricSummary | undefined
  /** Every point of the key, in columns, while the buffer keeps the run's series (see `series`). */
  log: SeriesLog | undefined
}

export class PointBuffer {
  readonly keys = new Map<string, KeyState>()
  /** Points not yet journaled, as chunk text. */
  pending = ''
  pendingPoints = 0
  /** Param/tag/... operations not yet journaled, as journal lines. */
  pendingOps = ''
  /** Journaled, not yet committed chunk text. */
  private uncommitted: string[] = []
  private uncommittedPoints = 0
  private lastTs = -1
  private lastTsText = ''
  /** Whether the run's series may be kept (`startSeries`): asked by the host, and not yet dropped for good. */
  private keepable: boolean
  /** Whether every point logged is also kept in its key's SeriesLog (see `series`). */
  private keeping = false
  /** When `series` was last asked for (Date.now()): a series nobody reads for SERIES_IDLE_MS is dropped. */
  private lastRead = 0

  /**
   * Starts from the summaries of the points already on the branch (a writer attaching to an existing run). With
   * `keepSeries`, the run's series can be kept in columns while someone reads it (`startSeries`, `series`).
   */
  constructor(initial: Record<string, MetricSummary>, keepSeries = false) {
    for (const [k, s] of Object.entries(initial)) this.keys.set(k, { prefix: pointPrefix(k), nextStep: s.step + 1, summary: { ...s }, log: undefined })
    this.keepable = keepSeries
  }

  /** A new key's state (the caller validated the key). */
  addKey(key: string): KeyState {
    // one shape whether or not the series is kept (the hot path reads `log` on every point)
    const st: KeyState = { prefix: pointPrefix(key), nextStep: 0, summary: undefined, log: this.keeping ? new SeriesLog() : undefined }
    this.keys.set(key, st)
    return st
  }

  /** Appends one validated point; returns true every 4096 points, when the caller should consider a journal write. */
  add(st: KeyState, value: number, step: number, timestamp: number): boolean {
    if (step >= st.nextStep) st.nextStep = step + 1
    st.summary = addToSummary(st.summary, value, step, timestamp)
    if (st.log !== undefined && !st.log.push(step, value, timestamp)) this.stopSeries()
    // The clock moves once per ms while a hot loop logs hundreds of points: its text is reused.
    if (timestamp !== this.lastTs) {
      this.lastTs = timestamp
      this.lastTsText = pointTimestamp(timestamp)
    }
    this.pending += st.prefix + pointValueStep(value, step) + this.lastTsText
    return (++this.pendingPoints & 4095) === 0
  }

  /** The metric summaries, uncommitted points included (copies). */
  summaries(): Record<string, MetricSummary> {
    const metrics: Record<string, MetricSummary> = keyed()
    for (const [k, st] of this.keys) if (st.summary) metrics[k] = { ...st.summary }
    return metrics
  }

  /**
   * Keeps the run's series from now on, starting from `seed`: every point logged so far (as a read of the branch and
   * the journal gives them, per metric). False (nothing kept) when the seed does not hold exactly the points logged
   * so far (points came in while it was read: the caller reads again) or the process's budget is spent.
   */
  startSeries(seed: Map<string, SeriesColumns>): boolean {
    if (!this.keepable || this.keeping) return this.keeping
    for (const k of seed.keys()) if (!this.keys.has(k)) return false
    for (const [k, st] of this.keys) if ((seed.get(k)?.value.length ?? 0) !== (st.summary?.count ?? 0)) return false
    for (const [k, st] of this.keys) {
      const log = new SeriesLog()
      st.log = log
      const s = seed.get(k)
      for (let i = 0; s && i < s.value.length; i++) {
        if (!log.push(s.step[i]!, s.value[i]!, s.time[i]!)) { this.stopSeries(); return false }
      }
    }
    this.keeping = true
    this.lastRead = Date.now()
    return true
  }

  /**
   * Every point logged so far, per metric in name order, as a fresh read of the run would give them (views: read
   * only); undefined while the buffer keeps no series (`startSeries`).
   */
  series(): Map<string, SeriesColumns> | undefined {
    if (!this.keeping) return undefined
    this.lastRead = Date.now()
    const out = new Map<string, SeriesColumns>()
    for (const k of [...this.keys.keys()].sort()) {
      const log = this.keys.get(k)!.log!
      if (log.len > 0) out.set(k, log.view())
    }
    return out
  }

  /** Whether the buffer may keep the run's series (`startSeries`). */
  get keepsSeries(): boolean {
    return this.keepable
  }

  /** Stops keeping the series and gives its room back; `forGood`: never again (the run's end is committed). */
  stopSeries(forGood = false): void {
    if (forGood) this.keepable = false
    this.keeping = false
    for (const st of this.keys.values()) {
      st.log?.release()
      st.log = undefined
    }
  }

  /** What the next journal write holds: operations, then points ('' when nothing is pending). */
  journalText(): string {
    return this.pendingOps + this.pending
  }

  /** The pending text reached the journal: its points wait for the next commit. */
  journaled(): void {
    if (this.keeping && Date.now() - this.lastRead > SERIES_IDLE_MS) this.stopSeries() // nobody watches it any more
    if (this.pending !== '') {
      this.uncommitted.push(this.pending)
      this.uncommittedPoints += this.pendingPoints
    }
    this.pending = ''
    this.pendingOps = ''
    this.pendingPoints = 0
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
