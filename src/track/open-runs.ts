/**
 * The timers of a Labbook's open runs: a journal write about once a second, a commit every commitInterval, a last
 * journal write when the process exits, and packing once enough loose objects piled up. The runs' buffers are in
 * point-buffer.ts, their commits in run-commit.ts.
 */
import { scriptPath } from '../package-files.js'
import { autoPack, packInBackground } from '../store/pack.js'
import type { ObjectStore } from '../store/objects.js'
import type { Run } from './run.js'

/** Loose objects this process writes before it packs the branch in the background (C git's gc.auto is 6,700). */
export const PACK_EVERY_OBJECTS = 2000
/** How often open runs' buffers go to their journals (fdatasync). */
const FLUSH_EVERY_MS = 1000

export class OpenRuns implements Iterable<Run> {
  /** By id: a server holding tens of thousands of open runs looks one up per request. */
  private readonly runs = new Map<string, Run>()
  private flushTimer?: NodeJS.Timeout
  private commitTimer?: NodeJS.Timeout
  private readonly onExit = () => this.flushAll(true)
  private packedAt = 0

  constructor(
    private readonly gitdir: string,
    private readonly branch: string,
    private readonly objects: ObjectStore,
    private readonly commitInterval: number,
  ) {}

  [Symbol.iterator](): Iterator<Run> {
    return this.runs.values()
  }

  get size(): number {
    return this.runs.size
  }

  /** The open writer of a run, if any. */
  get(id: string): Run | undefined {
    return this.runs.get(id)
  }

  /** Starts the timers with the first open run. */
  add(run: Run): void {
    this.runs.set(run.id, run)
    if (this.flushTimer) return
    this.flushTimer = setInterval(() => this.flushAll(), FLUSH_EVERY_MS)
    this.flushTimer.unref()
    this.commitTimer = setInterval(() => {
      for (const r of this.runs.values()) r.commit().catch(() => { /* retried next interval; the journal has the data */ })
    }, this.commitInterval)
    this.commitTimer.unref()
    process.on('exit', this.onExit)
  }

  /** Stops the timers with the last run; packs in the background once this process wrote enough objects. */
  delete(run: Run): void {
    if (this.runs.get(run.id) === run) this.runs.delete(run.id)
    if (this.runs.size === 0) this.stop()
    if (this.objects.objectsWritten - this.packedAt >= PACK_EVERY_OBJECTS) {
      this.packedAt = this.objects.objectsWritten
      packInBackground(this.gitdir, this.branch, scriptPath('pack'))
    }
  }

  /** Commits and detaches every open run without ending it (their journals stay for recovery); stops the timers. */
  async closeAll(): Promise<void> {
    const runs = [...this.runs.values()]
    await Promise.allSettled(runs.map((r) => r.commit()))
    for (const r of runs) r.detach()
    this.runs.clear()
    this.stop()
    // The end of a command (every CLI command closes its book): pack in the background once the repository holds
    // enough loose objects, whoever wrote them (`git gc --auto`'s count), so many short processes trigger it too.
    if (this.objects.objectsWritten > this.packedAt) {
      this.packedAt = this.objects.objectsWritten
      const env = Number(process.env.LABBOOK_AUTO_PACK_OBJECTS)
      autoPack(this.gitdir, this.branch, scriptPath('pack'), Number.isFinite(env) && process.env.LABBOOK_AUTO_PACK_OBJECTS !== '' ? env : PACK_EVERY_OBJECTS)
    }
  }

  private stop(): void {
    clearInterval(this.flushTimer)
    clearInterval(this.commitTimer)
    this.flushTimer = this.commitTimer = undefined
    process.off('exit', this.onExit)
  }

  /** `exiting`: the process's 'exit' handler, where nothing asynchronous runs after (Run.flushOnExit). */
  private flushAll(exiting = false): void {
    for (const r of this.runs.values()) {
      try { if (exiting) r.flushOnExit(); else r.flush() } catch { /* a full disk must not kill the training loop; the next flush retries */ }
    }
  }
}
