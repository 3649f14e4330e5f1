/** How a Labbook is opened: its options, their defaults, and the settings read from git config. */
import { LabbookError } from '../errors.js'
import { repoConfigValue } from '../store/git.js'

export interface OpenOptions {
  /** A directory inside the git repository. @default process.cwd() */
  repo?: string
  /** The data branch. @default $LABBOOK_BRANCH, else `branch:` in labbook.config.yaml, else git config labbook.branch, else "labbook" (track/branch.ts) */
  branch?: string
  /** How often open runs are committed to the branch, in ms. @default 30000 */
  commitInterval?: number
  /** Artifact files larger than this many bytes go to Git LFS (a pointer on the branch, bytes in .git/lfs/objects). @default `git config labbook.artifactThreshold`, else 10 MiB */
  artifactThreshold?: number
  /** Commit journals left by dead writers when opening. @default true */
  recover?: boolean
  /** Add a line per ended run to its code commit's note in refs/notes/labbook. @default true */
  notes?: boolean
  /**
   * Group commit: `startRun` and `end()` return once the run's journal has them (`end()` after an fdatasync) and
   * the branch commit follows in the background, one commit for every run started or ended within `commitDelay`
   * ms; `flush()` and `close()` wait for it. `false`: every start and end is committed before it returns.
   * @default true
   */
  groupCommit?: boolean
  /** How long a start or end waits for others to share its commit, in ms. @default 20, or $LABBOOK_COMMIT_DELAY_MS */
  commitDelay?: number
  /**
   * Make the group commits in a worker thread (commit-thread.ts), so their CPU work runs beside the event loop
   * instead of on it. @default false, or $LABBOOK_COMMIT_THREAD (1 / 0)
   */
  commitThread?: boolean
}

export const DEFAULT_COMMIT_INTERVAL = 30_000
export const DEFAULT_ARTIFACT_THRESHOLD = 10 * 1024 * 1024

/** `git config labbook.artifactThreshold 50m`: bytes, with git's k/m/g suffixes. */
export function configuredThreshold(gitdir: string): number | undefined {
  // from the one cached `git config --list` the branch lookup already ran (a second git spawn per command otherwise)
  const text = repoConfigValue(gitdir, 'labbook.artifactThreshold')
  if (text === undefined || text === '') return undefined
  const m = /^(\d+)([kmg]?)$/i.exec(text)
  if (!m) {
    throw new LabbookError('INVALID_VALUE', `git config labbook.artifactThreshold is ${JSON.stringify(text)}, not a size in bytes.`,
      'Use a whole number of bytes with an optional k, m or g suffix, e.g. `git config labbook.artifactThreshold 50m`.', { value: text })
  }
  return Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase())
}
