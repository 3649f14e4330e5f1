/**
 * Group commit of run starts and ends. `startRun` returns once the run is in its journal and `end()` once its end
 * is fdatasynced there (the journal is the durability: a killed process's journal is committed by the next
 * `Labbook.open()` or `labbook recover`); the branch commit happens here, in the background, for every run that
 * started or ended within `delayMs`, as ONE commit (runs are independent directories). So a loop of
 * create → log → end costs a journal append and an fdatasync per run, not two commits and a note each.
 * `flush()` (and `Labbook.close()`, `flush()`) commits what is pending at once. Readers in this process and in
 * others see pending runs through their journals (live.ts), so nothing acknowledged is ever invisible.
 */

/** What the group commit needs of a run writer (Run implements it). */
export interface DeferredCommit {
  readonly id: string
  /** Queues the run's commit; `gather` lets it join the other runs' edits in one branch commit. */
  commit(o?: { gather?: boolean }): Promise<void>
  /** After its commit reached the branch: an ended run drops its journal and counts itself into its git note. */
  committed(): Promise<void>
}

/** How long a start or end waits for others to share its commit. @default 20 ms; LABBOOK_COMMIT_DELAY_MS */
export const DEFAULT_COMMIT_DELAY_MS = 20
/** A failed group commit is retried this much later (the journals keep everything meanwhile). */
const RETRY_MS = 1000

export class GroupCommit {
  private readonly pending = new Map<string, DeferredCommit>()
  private readonly inFlight = new Set<string>()
  private timer?: NodeJS.Timeout
  private running?: Promise<void>

  constructor(readonly delayMs: number = commitDelayFromEnv()) {}

  /** Whether a run's start or end is acknowledged but not yet on the branch. */
  has(id: string): boolean {
    return this.pending.has(id) || this.inFlight.has(id)
  }

  get size(): number {
    return this.pending.size + this.inFlight.size
  }

  /** Schedules a run's commit (a run added twice before the commit is committed once, in its latest state). */
  add(run: DeferredCommit): void {
    this.pending.set(run.id, run)
    // Referenced: a script that ends its runs and returns still commits them before Node exits.
    this.schedule(this.delayMs, true)
  }

  /** Commits everything pending now; rejects with the first failure (those runs stay pending, their journals intact). */
  async flush(): Promise<void> {
    while (this.running) await this.running.catch(() => {})
    if (this.pending.size === 0) return
    clearTimeout(this.timer)
    this.timer = undefined
    const runs = [...this.pending.values()]
    this.pending.clear()
    for (const r of runs) this.inFlight.add(r.id)
    const work = (async () => {
      // queued in one tick with `gather`: the store makes one commit of all of them
      const results = await Promise.allSettled(runs.map((r) => r.commit({ gather: true })))
      const done = runs.filter((_, i) => results[i]!.status === 'fulfilled')
      await Promise.allSettled(done.map((r) => r.committed()))
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [[runs[i]!, r.reason] as const] : []))
      for (const [r] of failed) if (!this.pending.has(r.id)) this.pending.set(r.id, r)
      if (failed.length > 0) {
        // Unreferenced: a branch that cannot move (checked out, locked) must not keep the process alive; the
        // journals have the data and the next open recovers it.
        this.schedule(RETRY_MS, false)
        throw failed[0]![1]
      }
    })()
    this.running = work
    try {
      await work
    } finally {
      this.running = undefined
      for (const r of runs) this.inFlight.delete(r.id)
    }
  }

  /** Stops the timer (pending runs stay in their journals for `flush()` or recovery). */
  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule(ms: number, ref: boolean): void {
    if (this.timer) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.flush().catch(() => { /* retried; flush() and close() report it */ })
    }, ms)
    if (!ref) this.timer.unref()
  }
}

function commitDelayFromEnv(): number {
  const v = Number(process.env.LABBOOK_COMMIT_DELAY_MS)
  return process.env.LABBOOK_COMMIT_DELAY_MS && Number.isFinite(v) && v >= 0 ? v : DEFAULT_COMMIT_DELAY_MS
}
