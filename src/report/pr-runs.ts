/** Which runs belong to a pull request, and which are the base branch's candidates for the baseline. */
import type { RunSummary } from '../model/run.js'
import { type CommitInfo, commitsBetween, existingCommits, firstParentHistory, mergeBase, patchIds } from './pr-git.js'

/** How a run was tied to the PR: its commit is a PR commit; its patch-id is a PR commit's (a rebase rewrote it); its branch is the PR's and this clone lacks its commit. */
export type PrMatch = 'commit' | 'patch-id' | 'branch'

export interface PrRunMatch {
  run: RunSummary
  /** The PR commit the run belongs to (undefined for a match by branch). */
  prCommit?: string
  match: PrMatch
}

export interface RunPartition {
  /** undefined when base and head share no history. */
  mergeBase?: string
  /** merge-base..head, oldest first. */
  commits: CommitInfo[]
  /** The PR's runs, in PR commit order (branch matches last), then by start time. */
  pr: PrRunMatch[]
  /** FINISHED runs on the base's first-parent history at or before the merge-base. */
  base: RunSummary[]
}

/**
 * Splits runs into the PR's and the base branch's. `base` and `head` are commit ids.
 * @example const { pr, base } = await partitionRuns(repo, await book.listRuns(), { base: b, head: h, headBranch: 'feat' })
 */
export async function partitionRuns(repo: string, runs: readonly RunSummary[], o: { base: string; head: string; headBranch?: string }): Promise<RunPartition> {
  const mb = await mergeBase(repo, o.base, o.head)
  const [commits, baseHistory] = await Promise.all([commitsBetween(repo, mb, o.head), mb ? firstParentHistory(repo, mb) : Promise.resolve([])])
  const position = new Map(commits.map((c, i) => [c.commit, i]))
  const baseSet = new Set(baseHistory)

  const matched = new Map<string, PrRunMatch>()
  const pending: RunSummary[] = []
  for (const r of runs) {
    const c = r.source?.commit
    if (c && position.has(c)) matched.set(r.id, { run: r, prCommit: c, match: 'commit' })
    else if (!c || !baseSet.has(c)) pending.push(r)
  }
  const byPatch = new Map<string, string>()
  if (pending.some((r) => r.source?.patchId)) {
    for (const [commit, pid] of await patchIds(repo, commits.map((c) => c.commit))) if (!byPatch.has(pid)) byPatch.set(pid, commit)
  }
  const branchCandidates: RunSummary[] = []
  for (const r of pending) {
    const pid = r.source?.patchId
    if (pid && byPatch.has(pid)) matched.set(r.id, { run: r, prCommit: byPatch.get(pid), match: 'patch-id' })
    else if (o.headBranch && r.source?.branch === o.headBranch) branchCandidates.push(r)
  }
  if (branchCandidates.length) {
    // One cat-file for all: a commit we have but that isn't in the PR (an abandoned attempt) is not this PR's.
    const known = await existingCommits(repo, branchCandidates.flatMap((r) => (r.source?.commit ? [r.source.commit] : [])))
    for (const r of branchCandidates) if (!r.source?.commit || !known.has(r.source.commit)) matched.set(r.id, { run: r, match: 'branch' })
  }

  const at = (m: PrRunMatch) => (m.prCommit ? position.get(m.prCommit)! : commits.length)
  const pr = [...matched.values()].sort((a, b) => at(a) - at(b) || a.run.startTime - b.run.startTime || (a.run.id < b.run.id ? -1 : a.run.id > b.run.id ? 1 : 0))
  const base = runs.filter((r) => r.status === 'FINISHED' && r.source?.commit !== undefined && baseSet.has(r.source.commit) && !matched.has(r.id))
  return { ...(mb ? { mergeBase: mb } : {}), commits, pr, base }
}
