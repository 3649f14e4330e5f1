/** The code history a pull-request report needs, read with the system `git` (fast on big histories, and it sees every ref the user fetched). */
import { LabbookError } from '../errors.js'
import { git as runGit } from '../store/git.js'

/** Runs `git` in `repo` (through the one door, src/store/git.ts) and returns stdout; GIT_FAILED on a non-zero exit. */
export function git(repo: string, args: string[], input?: string): Promise<string> {
  return runGit(args, { cwd: repo, input })
}

/** The commit a ref names; INVALID_ARGUMENT when it names none (a typo, or a branch not fetched). */
export async function resolveCommit(repo: string, ref: string, what: string): Promise<string> {
  try {
    return (await git(repo, ['rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`])).trim()
  } catch (e) {
    throw new LabbookError('INVALID_ARGUMENT', `${what} ${JSON.stringify(ref)} is not a commit in ${repo}.`,
      'Check the name, and fetch it first when it lives on a remote (in CI: checkout with fetch-depth: 0).', { ref }, { cause: e })
  }
}

/** The best common ancestor of two commits, or undefined when the histories are unrelated. */
export async function mergeBase(repo: string, a: string, b: string): Promise<string | undefined> {
  try {
    return (await git(repo, ['merge-base', a, b])).trim() || undefined
  } catch {
    return undefined
  }
}

export interface CommitInfo {
  commit: string
  subject: string
}

/** Commits reachable from `head` but not from `exclude`, oldest first (topological), with subjects. */
export async function commitsBetween(repo: string, exclude: string | undefined, head: string): Promise<CommitInfo[]> {
  const range = exclude ? [`${exclude}..${head}`] : [head]
  const text = await git(repo, ['log', '--topo-order', '--reverse', '--format=%H%x00%s', ...range, '--'])
  return text.split('\n').filter(Boolean).map((line) => {
    const i = line.indexOf('\0')
    return { commit: line.slice(0, i), subject: line.slice(i + 1) }
  })
}

/** The first-parent chain from `rev` back to the root, newest first (the base branch's own history). */
export async function firstParentHistory(repo: string, rev: string): Promise<string[]> {
  return (await git(repo, ['rev-list', '--first-parent', rev, '--'])).split('\n').filter(Boolean)
}

/**
 * `git patch-id --stable` of each non-merge commit in the list: stays the same when a rebase rewrites the commit
 * (the same id the tracker records in `source.patchId`). Commits without a diff get none.
 */
export async function patchIds(repo: string, commits: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  if (commits.length === 0) return out
  const patches = await git(repo, ['log', '--no-walk=unsorted', '--no-merges', '--no-color', '-p', '--format=commit %H', '--stdin'], commits.join('\n') + '\n')
  if (!patches.trim()) return out
  for (const line of (await git(repo, ['patch-id', '--stable'], patches)).split('\n')) {
    const [pid, commit] = line.trim().split(/\s+/)
    if (pid && commit) out.set(commit, pid)
  }
  return out
}

/** Which of these object ids exist in the repository as commits (one `cat-file --batch-check` for all). */
export async function existingCommits(repo: string, ids: Iterable<string>): Promise<Set<string>> {
  const list = [...new Set(ids)].filter((id) => /^[0-9a-f]{4,64}$/i.test(id))
  const found = new Set<string>()
  if (list.length === 0) return found
  const text = await git(repo, ['cat-file', '--batch-check=%(objectname) %(objecttype)'], list.join('\n') + '\n')
  text.split('\n').forEach((line, i) => {
    if (line.endsWith(' commit') && list[i] !== undefined) found.add(list[i]!)
  })
  return found
}

/** The branch name a ref stands for (`HEAD` → the checked-out branch, `origin/feat` → `feat`), if any. */
export async function branchNameOf(repo: string, ref: string): Promise<string | undefined> {
  try {
    if (ref.startsWith('-')) return undefined
    const full = (await git(repo, ['rev-parse', '--symbolic-full-name', ref])).trim()
    const m = /^refs\/(?:heads|remotes\/[^/]+)\/(.+)$/.exec(full)
    return m?.[1]
  } catch {
    return undefined
  }
}
