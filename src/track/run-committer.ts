/**
 * One run writer's side of the branch: its commits in order, where its metric chunks stand, the artifacts staged for
 * the next commit, and what it last wrote of the fields others may edit. The tree a commit writes and the merge with
 * the tip are pure (run-commit.ts); the Run hands in its snapshot and points.
 */
import type { RunSummary } from '../model/run.js'
import type { StagedFile } from './artifacts.js'
import { layoutChunks } from './chunks.js'
import { runEdit, type RunEditInput, type WrittenFields } from './run-commit.js'
import type { RunHost } from './run-host.js'

export class RunCommitter {
  /** Points on the branch (this writer's and, for a run it attached to, those before). */
  committedPoints: number
  private nextChunk: number
  private openChunk: { seq: number; text: string } | undefined
  private staged: StagedFile[] = []
  private removed: string[] = []
  /** Values of fields others may edit (rm, rename) as this writer last committed them: a differing tip wins. */
  private lastWritten: WrittenFields
  /** True until the run's first commit: that commit refuses a run id already on the branch. */
  private creating: boolean
  private chain: Promise<void> = Promise.resolve()

  constructor(private readonly host: RunHost, private readonly id: string, initial: RunSummary, existing?: { committedPoints: number; nextChunk: number }) {
    this.creating = !existing
    this.committedPoints = existing?.committedPoints ?? 0
    this.nextChunk = existing?.nextChunk ?? 0
    this.lastWritten = existing ? { lifecycle: initial.lifecycle, name: initial.name, description: initial.description } : { lifecycle: 'active', name: '', description: undefined }
  }

  /** Nothing staged or removed, and the run's first commit is done: a commit of an unchanged run would write nothing. */
  get settled(): boolean {
    return !this.creating && this.staged.length === 0 && this.removed.length === 0
  }

  /** Artifact files (blobs already written) for the next commit. */
  stage(...files: StagedFile[]): void {
    this.staged.push(...files)
  }

  /** An artifact path to remove with the next commit. */
  unstage(path: string): void {
    this.removed.push(path)
  }

  /** Runs `commit` after every commit queued before it; a failed one does not stop the next. */
  queue(commit: () => Promise<void>): Promise<void> {
    const next = this.chain.then(commit)
    this.chain = next.catch(() => {})
    return next
  }

  /**
   * Commits `mine` (the run's snapshot) over the tip with `chunkText` (`points` new points) and the staged artifacts.
   * Returns the run as written. On failure nothing reached the branch: the artifacts stay staged and the error is
   * thrown (the caller puts its points back).
   */
  async write(mine: RunSummary, chunkText: string, points: number, ownTags: ReadonlySet<string>, o: { gather?: boolean }): Promise<RunSummary | undefined> {
    const staged = this.staged
    const removed = this.removed
    this.staged = []
    this.removed = []
    const layout = layoutChunks(this.openChunk, this.nextChunk, chunkText)
    const input: RunEditInput = {
      id: this.id, mine, chunks: layout.chunks, staged, removed, points, ownTags: [...ownTags],
      lastWritten: this.lastWritten, creating: this.creating, committedPoints: this.committedPoints,
    }
    let written: RunSummary | undefined
    try {
      // a group commit goes to the book's commit thread when it has one (the same runEdit, run there)
      const thread = o.gather ? this.host.commitThread?.() : undefined
      written = thread ? await thread.commit(input) : await this.host.store.update(runEdit(this.host.objects, input), o)
    } catch (e) {
      this.staged = staged.concat(this.staged)
      this.removed = removed.concat(this.removed)
      throw e
    }
    this.creating = false
    this.committedPoints += points
    this.nextChunk = layout.nextChunk
    this.openChunk = layout.open
    if (written) this.lastWritten = { lifecycle: written.lifecycle, name: written.name, description: written.description }
    return written
  }
}
