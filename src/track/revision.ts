/** Which commit `book.at(rev)` reads. */
import { LabbookError } from '../errors.js'
import type { BranchStore } from '../store/branch-store.js'
import { revParseCommit } from '../store/git.js'

/** A commit id, the data branch (its tip without a spawn), or anything `git rev-parse` turns into a commit. */
export function resolveRevision(gitdir: string, rev: string, store: BranchStore): string {
  if (/^[0-9a-f]{40}$/.test(rev)) return rev
  if (rev === store.branch) {
    const tip = store.tip()
    if (tip) return tip
  }
  const oid = revParseCommit({ gitdir }, rev)
  if (!oid) {
    throw new LabbookError('INVALID_ARGUMENT', `Cannot resolve revision ${JSON.stringify(rev)} to a commit.`, 'Pass a commit id, a branch such as "labbook" or "origin/labbook", or "labbook~N".', { rev })
  }
  return oid
}
