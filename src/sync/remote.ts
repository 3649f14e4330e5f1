import { createHash } from 'node:crypto'
import { LabbookError } from '../errors.js'
import { lfsPointersToPush, pushLfsObjects } from '../store/lfs-transfer.js'
import { readRef } from '../store/ref.js'
import type { Labbook } from '../track/labbook.js'
import { mergeLabbookTrees, mergeNotesTrees, type MergeConflict } from './merge.js'
import { NOTES_REF, notesStore } from './notes.js'
import { gitMessage, runGit, type GitResult } from '../store/git.js'

export interface PullResult {
  remote: string
  /** What happened to the local branch. */
  branch: 'no-remote-branch' | 'up-to-date' | 'fast-forward' | 'merged' | 'created'
  notes: 'none' | 'up-to-date' | 'fast-forward' | 'merged' | 'created'
  runsAdded: number
  conflicts: MergeConflict[]
  tip: string | null
}

export interface PushResult {
  remote: string
  tip: string | null
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
  return `refs/labbook/remotes/${isRemoteName(remote) ? remote : urlKey(remote)}/notes`
}

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

async function isAncestor(gitdir: string, a: string, b: string): Promise<boolean> {
  return (await git(gitdir, ['merge-base', '--is-ancestor', a, b])).code === 0
}

/** Fetches the remote's labbook branch and notes and merges them into ours (a merge commit when both moved). */
export async function pull(book: Labbook, remote = 'origin'): Promise<PullResult> {
  await book.flush() // runs acknowledged from their journals (group commit) are merged as commits
  checkRemoteName(remote)
  const gitdir = book.gitdir
  const ls = await git(gitdir, ['ls-remote', remote, `refs/heads/${book.branch}`, NOTES_REF])
  if (ls.code !== 0) {
    throw new LabbookError('GIT_FAILED', `git ls-remote ${remote} failed: ${oneLine(ls.stderr)}`, `Check that the remote "${remote}" exists (git remote -v) and that you can reach it.`, { remote })
  }
  const has = new Set(ls.stdout.split('\n').map((l) => l.split('\t')[1]).filter(Boolean))
  const specs: string[] = []
  if (has.has(`refs/heads/${book.branch}`)) specs.push(`+refs/heads/${book.branch}:${trackingRef(remote, book.branch)}`)
  if (has.has(NOTES_REF)) specs.push(`+${NOTES_REF}:${remoteNotesRef(remote)}`)
  const result: PullResult = { remote, branch: 'no-remote-branch', notes: 'none', runsAdded: 0, conflicts: [], tip: book.store.tip() }
  if (specs.length === 0) return result
  const f = await git(gitdir, ['fetch', '--quiet', '--no-write-fetch-head', '--no-tags', remote, ...specs])
  if (f.code !== 0) throw new LabbookError('GIT_FAILED', `git fetch ${remote} failed: ${oneLine(f.stderr)}`, 'Check your network and credentials, then retry.', { remote })

  const theirs = has.has(`refs/heads/${book.branch}`) ? readRef(gitdir, trackingRef(remote, book.branch)) : null
  if (theirs) {
    await book.store.viewOfCommit(theirs) // refuses a newer format before we merge anything
    await book.store.replaceTip(async (tip) => {
      if (!tip) { result.branch = 'created'; return theirs }
      if (tip === theirs || (await isAncestor(gitdir, theirs, tip))) { result.branch = 'up-to-date'; return null }
      if (await isAncestor(gitdir, tip, theirs)) { result.branch = 'fast-forward'; return theirs }
      const ours = await book.objects.readCommit(tip), their = await book.objects.readCommit(theirs)
      const mb = await git(gitdir, ['merge-base', tip, theirs])
      const base = mb.code === 0 && /^[0-9a-f]{40}$/.test(mb.stdout.trim()) ? (await book.objects.readCommit(mb.stdout.trim())).tree : null
      const later = ours.time > their.time ? 'ours' : 'theirs'
      const merged = await mergeLabbookTrees(book.objects, ours.tree, their.tree, { base, later })
      result.branch = 'merged'
      result.runsAdded = merged.runsAdded
      result.conflicts = merged.conflicts
      const lines = merged.conflicts.slice(0, 50).map((c) => `- ${c.path}: ${c.reason} (${c.kept})`)
      const message = `Merge labbook runs from ${remote}\n\n${merged.runsAdded} runs from ${remote}; ${merged.conflicts.length} changed on both sides${lines.length ? '\n\n' + lines.join('\n') : ''}\n`
      return book.objects.writeCommit({ tree: merged.tree, parents: [tip, theirs], author: book.store.signature(), message })
    })
  }
  const theirNotes = has.has(NOTES_REF) ? readRef(gitdir, remoteNotesRef(remote)) : null
  if (theirNotes) {
    const store = notesStore(gitdir, book.objects)
    await store.replaceTip(async (tip) => {
      if (!tip) { result.notes = 'created'; return theirNotes }
      if (tip === theirNotes || (await isAncestor(gitdir, theirNotes, tip))) { result.notes = 'up-to-date'; return null }
      if (await isAncestor(gitdir, tip, theirNotes)) { result.notes = 'fast-forward'; return theirNotes }
      const ours = await book.objects.readCommit(tip), their = await book.objects.readCommit(theirNotes)
      result.notes = 'merged'
      const mb = await git(gitdir, ['merge-base', tip, theirNotes])
      const base = mb.code === 0 && /^[0-9a-f]{40}$/.test(mb.stdout.trim()) ? (await book.objects.readCommit(mb.stdout.trim())).tree : null
      const tree = await mergeNotesTrees(book.objects, ours.tree, their.tree, base)
      return book.objects.writeCommit({ tree, parents: [tip, theirNotes], author: book.store.signature(), message: `Notes merged by labbook from ${remote} (counts added three-way)\n` })
    })
  }
  result.tip = book.store.tip()
  return result
}

/**
 * Pushes the branch and notes. A push that loses a race fetches, merges and tries again (bounded, with backoff), so
 * any number of machines pushing at once all land.
 */
export async function push(book: Labbook, remote = 'origin', o: { attempts?: number } = {}): Promise<PushResult> {
  checkRemoteName(remote)
  const attempts = o.attempts ?? 8
  const out: PushResult = { remote, tip: null, retries: 0, pulls: [], lfsObjects: 0, lfsBytes: 0 }
  await book.flush() // what was acknowledged is pushed (group commit)
  for (let attempt = 0; ; attempt++) {
    const tip = book.store.tip()
    if (!tip) throw new LabbookError('BRANCH_MISSING', `No branch "${book.branch}" to push.`, 'Log a run or run `labbook init` first.')
    const notes = readRef(book.gitdir, NOTES_REF)
    const specs = [`${tip}:refs/heads/${book.branch}`, ...(notes ? [`${notes}:${NOTES_REF}`] : [])]
    // Large artifacts first: the remote branch never points at a Git LFS pointer whose object the remote lacks.
    const known = readRef(book.gitdir, trackingRef(remote, book.branch))
    const pointers = await lfsPointersToPush(book.gitdir, book.objects, tip, known ? [known] : [])
    await pushLfsObjects(book.gitdir, remote, pointers)
    out.lfsObjects = pointers.length
    out.lfsBytes = pointers.reduce((n, p) => n + p.size, 0)
    const r = await git(book.gitdir, ['push', '--porcelain', '--quiet', remote, ...specs])
    if (r.code === 0) {
      await git(book.gitdir, ['update-ref', trackingRef(remote, book.branch), tip])
      out.tip = tip
      return out
    }
    const rejected = /\[rejected\]|\(fetch first\)|non-fast-forward|\[remote rejected\].*(lock|cannot lock|failed to update)/i.test(r.stdout + r.stderr)
    if (!rejected || attempt + 1 >= attempts) {
      throw new LabbookError('GIT_FAILED', `git push ${remote} failed${rejected ? ` after ${attempt + 1} attempts` : ''}: ${oneLine(r.stderr || r.stdout)}`,
        rejected ? 'Others keep pushing; run `labbook push` again.' : `Check that you may push to "${remote}".`, { remote })
    }
    out.retries++
    await new Promise((res) => setTimeout(res, Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random())))
    out.pulls.push(await pull(book, remote))
  }
}
