import type { BranchStore } from '../store/branch-store.js'
import type { ObjectStore } from '../store/objects.js'
import type { CommitThread } from './commit-thread.js'
import type { Run } from './run.js'
import type { RunStatus, RunSummary } from '../model/run.js'

/** What a Run needs from the Labbook that owns it (kept narrow so run.ts does not depend on labbook.ts). */
export interface RunHost {
  readonly gitdir: string
  readonly branch: string
  readonly store: BranchStore
  readonly objects: ObjectStore
  readonly artifactThreshold: number
  forget(run: Run): void
  /** Called once a run's final commit landed (git notes); `previous` is the status a reopened run had. Never throws. */
  afterEnd(run: RunSummary, previous?: RunStatus, o?: { gather?: boolean }): Promise<void>
  /** Group commit (group-commit.ts): whether run starts and ends are committed in the background by `deferCommit`. */
  readonly defersCommits?: boolean
  deferCommit?(run: Run): void
  /** The thread group commits are made in (commit-thread.ts), when the book uses one. */
  commitThread?(): CommitThread | undefined
}
