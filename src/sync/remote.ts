import { createHash } from 'node:crypto'
import { LabbookError } from '../errors.js'
import { lfsPointersToPush, pushLfsObjects } from '../store/lfs-transfer.js'
import { lockRef, readRef } from '../store/ref.js'
import type { Labbook } from '../track/labbook.js'
import { mergeNotesTrees, unionLabbookTrees, type MergeConflict } from './merge.js'
import { HOST_NOTES_PREFIX, HOSTS_PREFIX, hostId, pushMode, type PushMode } from './hosts.js'
import { NOTES_REF, notesStore } from '../track/notes.js'
import { sideBases } from './merge-bases.js'
import { gitMessage, runGit, type GitResult } from '../store/git.js'

export interface PullResult {
  remote: string
  /** What happened to the local branch (the strongest outcome over the remote's branch and its host refs). */
  branch: 'no-remote-branch' | 'up-to-date' | 'fast-forward' | 'merged' | 'created'
  notes: 'none' | 'up-to-date' | 'fast-forward' | 'merged' | 'created'
  runsAdded: number
  conflicts: MergeConflict[]
  tip: string | null
  /** Per-host refs (`refs/labbook/hosts/*`, pushed with `labbook push --hosts`) found on the remote and merged. */
  hosts: number
}

export interface PushOptions {
  /** Tries before giving up when others keep winning the race for the same ref. @default 8 */
  attempts?: number
  /** `shared` (the remote's branch) or `hosts` (this clone's own ref); see `pushMode`. @default git config labbook.push, else 'shared' */
  mode?: PushMode
}

export interface PushResult {
  remote: string
  tip: string | null
  mode: PushMode
  /** The remote ref the push moved: `refs/heads/<branch>`, or `refs/labbook/hosts/<id>` in hosts mode. */
  ref: string
  /** Whether the remote's shared branch is now at `tip` (in hosts mode it is moved too when that is a fast-forward; never retried). */
  shared: boolean
  /** Pushes that lost a race and were retried after a merge. */
  retries: number
  /** Git LFS objects (large artifacts) the pushed commits point to, uploaded before the branch moved. */
  lfsObjects: number
  lfsBytes: number
  pulls: PullResult[]
}

/** Network goes through the system git (the one door, src/store/git.ts): it brings the user's SSH keys, credential helpers and proxies. */
function git(gitdir: string, args: string[]): Promise<GitResult> {
  return runGit(args, { gitdir })
}

/** A named remote gets the usual refs/remotes/<remote>/<branch>; a URL gets a private ref named by its hash. */
function trackingRef(remote: string, branch: string): string {
  return isRemoteName(remote) ? `refs/remotes/${remote}/${branch}` : `refs/labbook/remotes/${urlKey(remote)}/branch`
}

function remoteNotesRef(remote: string): string {
  return `refs/labbook/remotes/${remoteKey(remote)}/notes`
}

function remoteKey(remote: string): string {
  return isRemoteName(remote) ? remote : urlKey(remote)
}

/** Where a remote ref lands here: the branch and notes as before, host refs under refs/labbook/remotes/<remote>/. */
function trackingFor(remote: string, branch: string, ref: string): string | undefined {
  if (ref === `refs/heads/${branch}`) return trackingRef(remote, branch)
  if (ref === NOTES_REF) return remoteNotesRef(remote)
  for (const [prefix, dir] of [[HOSTS_PREFIX, 'hosts'], [HOST_NOTES_PREFIX, 'host-notes']] as const) {
    const id = ref.startsWith(prefix) ? ref.slice(prefix.length) : undefined
    if (id && HOST_REF_ID.test(id)) return `refs/labbook/remotes/${remoteKey(remote)}/${dir}/${id}`
  }
  return undefined
}

const HOST_REF_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

function isRemoteName(remote: string): boolean {
  return /^[\w.-]+$/.test(remote) && !remote.startsWith('.')
}

function urlKey(url: string): string {
  return 'url-' + createHash('sha1').update(url).digest('hex').slice(0, 12)
}

function checkRemoteName(remote: string): void {
  if (!/^[\w./:@~+-]+$/.test(remote) || remote.startsWith('-')) {
    throw new LabbookError('INVALID_ARGUMENT', `${JSON.stringify(remote)} is not a remote name or URL labbook accepts.`, 'Pass a remote such as "origin".', { remote })
  }
}

function oneLine(text: string): string {
  return gitMessage({ code: 1, stdout: '', stderr: text })
}

/**
 * Fetches the remote's labbook branch, its notes and every per-host ref (`refs/labbook/hosts/*`,
 * `refs/labbook/host-notes/*`), and brings them all into ours in ONE step: nothing, a fast-forward, or one merge
 * commit whose parents are our tip and every fetched tip that no other contains (the union of runs, field by field;
 * src/sync/merge.ts), no checkout. The same for the notes.
 */
export async function pull(book: Labbook, remote = 'origin', o: PullOptions = {}): Promise<PullResult> {
  await book.flush() // runs acknowledged from their journals (group commit) are merged as commits
  checkRemoteName(remote)
  const gitdir = book.gitdir
  const branchRef = `refs/heads/${book.branch}`
  const ls = await git(gitdir, ['ls-remote', remote, branchRef, NOTES_REF, `${HOSTS_PREFIX}*`, `${HOST_NOTES_PREFIX}*`])
  if (ls.code !== 0) {
    throw new LabbookError('GIT_FAILED', `git ls-remote ${remote} failed: ${oneLine(ls.stderr)}`, `Check that the remote "${remote}" exists (git remote -v) and that you can reach it.`, { remote })
  }
  const advertised = new Map<string, { oid: string; local: string }>()
  for (const line of ls.stdout.split('\n')) {
    const [oid, ref] = line.split('\t')
    const local = ref && /^[0-9a-f]{40}$/.test(oid!) ? trackingFor(remote, book.branch, ref) : undefined
    if (local) advertised.set(ref!, { oid: oid!, local })
  }
  const result: PullResult = { remote, branch: 'no-remote-branch', notes: 'none', runsAdded: 0, conflicts: [], tip: book.store.tip(), hosts: 0 }
  if (advertised.size === 0) return result
  // Fetch only what moved since the last pull (32 machines' refs cost one round trip, and nothing when nothing changed).
  const specs = [...advertised].filter(([, a]) => readRef(gitdir, a.local) !== a.oid).map(([ref, a]) => `+${ref}:${a.local}`)
  if (specs.length) {
    const f = await git(gitdir, ['fetch', '--quiet', '--no-write-fetch-head', '--no-tags', remote, ...specs])
    if (f.code !== 0) throw new LabbookError('GIT_FAILED', `git fetch ${remote} failed: ${oneLine(f.stderr)}`, 'Check your network and credentials, then retry.', { remote })
  }
  // The shared branch first, then the host refs in id order (the order sides are merged in).
  const sources = (prefix: string, shared: string): Source[] => [...advertised]
    .filter(([ref]) => ref === shared || ref.startsWith(prefix))
    .sort(([a], [b]) => (a === shared ? -1 : b === shared ? 1 : a < b ? -1 : 1))
    .map(([ref, a]) => ({ oid: a.oid, label: ref === shared ? remote : `${remote} (${ref.slice(prefix.length)})` }))
  const branches = sources(HOSTS_PREFIX, branchRef), notes = sources(HOST_NOTES_PREFIX, NOTES_REF)
  result.hosts = branches.filter((s) => s.label !== remote).length
  const groups = <T>(list: T[]) => (o.merge === 'per-ref' ? list.map((x) => [x]) : list.length ? [list] : [])
  for (const group of groups(branches)) {
    const outcome = await mergeBranches(book, remote, group, result)
    if (BRANCH_RANK[outcome] > BRANCH_RANK[result.branch]) result.branch = outcome
  }
  for (const group of groups(notes)) {
    const outcome = await mergeNotesFrom(book, remote, group)
    if (NOTES_RANK[outcome] > NOTES_RANK[result.notes]) result.notes = outcome
  }
  result.tip = book.store.tip()
  return result
}

export interface PullOptions {
  /**
   * `one`: everything fetched goes into one merge commit. `per-ref`: a merge commit per fetched ref, one after
   * another (the previous way, kept as the benches' same-run reference).
   * @default 'one'
   * @internal
   */
  merge?: 'one' | 'per-ref'
}

const BRANCH_RANK = { 'no-remote-branch': 0, 'up-to-date': 1, 'fast-forward': 2, created: 3, merged: 4 } as const
const NOTES_RANK = { none: 0, 'up-to-date': 1, 'fast-forward': 2, created: 3, merged: 4 } as const

/** A fetched tip to merge, and how the merge message names it. */
interface Source { oid: string; label: string }

/** A side of one merge: a parent after the first, with its merge base against the parents before it. */
interface Side { oid: string; label: string; tree: string; base: string | null; later: 'ours' | 'theirs' }

/**
 * Moves `store`'s tip to the union of it and `sources` in one step, under the branch lock. The parents are our tip
 * and every source that no other contains (one `git merge-base --independent`); none left besides ours: nothing to
 * do; one: a fast-forward; more: one merge commit. Each side after the first merges three-way against its merge base
 * with the parents before it (what `git merge-base SIDE P0 P1 …` gives), all from one walk (src/sync/merge-bases.ts).
 */
async function unite(
  book: Labbook,
  store: Labbook['store'] | ReturnType<typeof notesStore>,
  remote: string,
  sources: Source[],
  merge: (first: string, sides: Side[], from: string) => Promise<{ tree: string; message: string }>,
): Promise<'created' | 'up-to-date' | 'fast-forward' | 'merged'> {
  let outcome: 'created' | 'up-to-date' | 'fast-forward' | 'merged' = 'up-to-date'
  const labels = new Map<string, string>()
  for (const s of sources) if (!labels.has(s.oid)) labels.set(s.oid, s.label)
  await store.replaceTip(async (tip) => {
    const parents = await independent(book.gitdir, [...(tip ? [tip] : []), ...labels.keys()])
    if (parents.length === 1) {
      outcome = !tip ? 'created' : parents[0] === tip ? 'up-to-date' : 'fast-forward'
      return parents[0] === tip ? null : parents[0]!
    }
    const commits = await Promise.all(parents.map((p) => book.objects.readCommit(p)))
    const bases = await Promise.all((await sideBases(book.gitdir, parents)).map(async (b) => (b ? (await book.objects.readCommit(b)).tree : null)))
    const sides = parents.slice(1).map((oid, k): Side => {
      const newest = Math.max(...commits.slice(0, k + 1).map((c) => c.time))
      return { oid, label: labels.get(oid) ?? oid, tree: commits[k + 1]!.tree, base: bases[k]!, later: newest > commits[k + 1]!.time ? 'ours' : 'theirs' }
    })
    // How the message names what it merged: every parent but our tip (a fresh clone has none: all are the remote's).
    const theirs = parents.filter((p) => p !== tip)
    const from = theirs.length === 1 ? labels.get(theirs[0]!)! : `${theirs.length} refs of ${remote}`
    const { tree, message } = await merge(commits[0]!.tree, sides, from)
    outcome = 'merged'
    return book.objects.writeCommit({ tree, parents, author: book.store.signature(), message })
  })
  return outcome
}

/** The commits of `commits` (in their order) that no other one of them contains. */
async function independent(gitdir: string, commits: string[]): Promise<string[]> {
  const unique = [...new Set(commits)]
  if (unique.length < 2) return unique
  const r = await git(gitdir, ['merge-base', '--independent', ...unique])
  if (r.code !== 0) throw new LabbookError('GIT_FAILED', `git merge-base --independent failed: ${oneLine(r.stderr)}`, 'Run `git fsck` on the repository, then pull again.')
  const heads = new Set(r.stdout.split('\n').filter(Boolean))
  return unique.filter((c) => heads.has(c))
}


/** Brings fetched commits of the branch (the shared one and host refs) into ours; adds what it merged to `result`. */
async function mergeBranches(book: Labbook, remote: string, sources: Source[], result: PullResult): Promise<PullResult['branch']> {
  for (const s of sources) await book.store.viewOfCommit(s.oid) // refuses a newer format before we merge anything
  return unite(book, book.store, remote, sources, async (first, sides, from) => {
    const merged = await unionLabbookTrees(book.objects, first, sides)
    result.runsAdded += merged.runsAdded
    result.conflicts.push(...merged.conflicts)
    const shares = sides.length > 1 ? sides.slice(0, 100).map((s, i) => `- ${s.label}: ${merged.added[i]} runs`) : []
    const lines = merged.conflicts.slice(0, 50).map((c) => `- ${c.path}: ${c.reason} (${c.kept})`)
    const body = [`${merged.runsAdded} runs from ${from}; ${merged.conflicts.length} changed on both sides`, shares.join('\n'), lines.join('\n')].filter(Boolean)
    return { tree: merged.tree, message: `Merge labbook runs from ${from}\n\n${body.join('\n\n')}\n` }
  })
}

/** The same for the notes ref (counts added three-way per side, src/track/notes.ts). */
async function mergeNotesFrom(book: Labbook, remote: string, sources: Source[]): Promise<PullResult['notes']> {
  return unite(book, notesStore(book.gitdir, book.objects), remote, sources, async (first, sides, from) => {
    let tree = first
    for (const s of sides) tree = await mergeNotesTrees(book.objects, tree, s.tree, s.base)
    return { tree, message: `Notes merged by labbook from ${from} (counts added three-way)\n` }
  })
}

/** The status git's `--porcelain` output gives one destination ref: ok (moved or already there), or why not. */
function refStatus(output: string, ref: string): { ok: boolean; summary: string } | undefined {
  for (const line of output.split('\n')) {
    const [flag, fromTo, summary] = line.split('\t')
    if (flag === undefined || fromTo === undefined || fromTo.slice(fromTo.indexOf(':') + 1) !== ref) continue
    return { ok: flag === ' ' || flag === '*' || flag === '=' || flag === '+', summary: summary ?? '' }
  }
  return undefined
}

const LOST_RACE = /\[rejected\]|\(fetch first\)|non-fast-forward|\[remote rejected\].*(lock|cannot lock|failed to update)/i

/**
 * Pushes the branch and notes. In `shared` mode (the default) it moves the remote's branch; a push that loses a race
 * fetches, merges and tries again (bounded, with backoff), so any number of machines pushing at once all land. In
 * `hosts` mode it moves this clone's own `refs/labbook/hosts/<id>` (and `refs/labbook/host-notes/<id>`), which no
 * other clone pushes, so there is no race to lose; the shared branch is moved too when that is a fast-forward
 * (best effort, never retried), so plain-git readers and push-triggered workflows keep seeing new runs.
 */
export async function push(book: Labbook, remote = 'origin', o: PushOptions = {}): Promise<PushResult> {
  checkRemoteName(remote)
  const attempts = o.attempts ?? 8
  const mode = pushMode(book.gitdir, o.mode)
  const shared = `refs/heads/${book.branch}`
  const id = mode === 'hosts' ? hostId(book.gitdir) : undefined
  const target = id ? HOSTS_PREFIX + id : shared
  const notesTarget = id ? HOST_NOTES_PREFIX + id : NOTES_REF
  const out: PushResult = { remote, tip: null, mode, ref: target, shared: false, retries: 0, pulls: [], lfsObjects: 0, lfsBytes: 0 }
  await book.flush() // what was acknowledged is pushed (group commit)
  for (let attempt = 0; ; attempt++) {
    const tip = book.store.tip()
    if (!tip) throw new LabbookError('BRANCH_MISSING', `No branch "${book.branch}" to push.`, 'Log a run or run `labbook init` first.')
    const notes = readRef(book.gitdir, NOTES_REF)
    const specs = [`${tip}:${target}`, ...(notes ? [`${notes}:${notesTarget}`] : [])]
    if (id) specs.push(`${tip}:${shared}`, ...(notes ? [`${notes}:${NOTES_REF}`] : [])) // best effort, see above
    // Large artifacts first: no remote ref ever points at a Git LFS pointer whose object the remote lacks.
    const known = [trackingRef(remote, book.branch), ...(id ? [trackingFor(remote, book.branch, target)!] : [])]
      .map((ref) => readRef(book.gitdir, ref)).filter((x): x is string => !!x)
    const pointers = await lfsPointersToPush(book.gitdir, book.objects, tip, known)
    await pushLfsObjects(book.gitdir, remote, pointers)
    out.lfsObjects = pointers.length
    out.lfsBytes = pointers.reduce((n, p) => n + p.size, 0)
    const r = await git(book.gitdir, ['push', '--porcelain', '--quiet', remote, ...specs])
    // Success is the refs this mode owns: all of them in shared mode, this host's two in hosts mode.
    const required = [target, ...(notes ? [notesTarget] : [])].map((ref) => refStatus(r.stdout, ref))
    if (r.code === 0 || required.every((st) => st?.ok)) {
      out.shared = r.code === 0 || !!refStatus(r.stdout, shared)?.ok
      const moved = [[trackingFor(remote, book.branch, target)!, tip], ...(id && out.shared ? [[trackingRef(remote, book.branch), tip]] : [])]
      for (const [ref, oid] of moved) (await lockRef(book.gitdir, ref!)).commit(oid!) // in-process, as git update-ref does it
      out.tip = tip
      return out
    }
    const failed = required.filter((st) => !st?.ok)
    const rejected = LOST_RACE.test(failed.every((st) => st) ? failed.map((st) => st!.summary).join('\n') : r.stdout + r.stderr)
    if (!rejected || attempt + 1 >= attempts) {
      throw new LabbookError('GIT_FAILED', `git push ${remote} failed${rejected ? ` after ${attempt + 1} attempts` : ''}: ${oneLine(r.stderr || r.stdout)}`,
        rejected ? (id ? `Another clone pushes as host "${id}" too; give each its own: git config labbook.hostId NAME.` : 'Others keep pushing; run `labbook push` again, or push with --hosts (see docs/format.md).') : `Check that you may push to "${remote}".`, { remote })
    }
    out.retries++
    await new Promise((res) => setTimeout(res, Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random())))
    out.pulls.push(await pull(book, remote))
  }
}
