import os from 'node:os'
import type { SourceInfo } from '../model/run.js'
import { runGit, runGitSync } from '../store/git.js'

export interface CodeLink {
  source: SourceInfo
  /** The uncommitted changes to tracked files (`git diff HEAD`), when the tree is dirty. */
  diff?: string
}

/**
 * Most training scripts start many runs from one checkout; a short cache keeps `startRun` at ~1 ms instead of ~30.
 * An entry older than half its life is refreshed in the background (one `git status`, whose answer arrives without
 * blocking the event loop), so a sweep that starts runs back to back never waits for git: while that refresh is out,
 * the entry is used for up to STALE_MS. An entry past TTL_MS with no refresh out (nothing asked for it meanwhile) is
 * refreshed before it is used, so a change made while no run started is always seen.
 */
const TTL_MS = 5_000
const STALE_MS = 30_000
const cache = new Map<string, { at: number; link: CodeLink; refreshing?: boolean }>()
/** patch-id of a commit (it never changes; computing it spawns two git processes over the whole commit). */
const patchIds = new Map<string, string | undefined>()
/** The origin remote of a repository, read with the first link and again when HEAD moves. */
const remotes = new Map<string, string | undefined>()

/** Records what code a run ran: HEAD's commit, branch, dirty state and diff, patch-id, the remote without credentials. */
export function detectCodeLink(repoRoot: string, bare: boolean): CodeLink {
  const now = Date.now()
  const hit = cache.get(repoRoot)
  if (hit && (now - hit.at < TTL_MS || (hit.refreshing && now - hit.at < STALE_MS))) {
    if (!bare && !hit.refreshing && now - hit.at >= TTL_MS / 2) {
      hit.refreshing = true
      readGitAsync(repoRoot, hit.link.source.commit).then((link) => { cache.set(repoRoot, { at: now, link }) }, () => { hit.refreshing = false })
    }
    return { source: { ...hit.link.source, ...processInfo() }, diff: hit.link.diff }
  }
  const link = bare ? { source: {} } : readGit(repoRoot)
  cache.set(repoRoot, { at: now, link })
  return { source: { ...link.source, ...processInfo() }, diff: link.diff }
}

function processInfo(): SourceInfo {
  return {
    command: process.argv.slice(1).join(' ') || undefined,
    platform: `${process.platform}-${process.arch}`,
    runtime: `node ${process.version}`,
  }
}

function git(cwd: string, args: string[], input?: string): string | undefined {
  try {
    const r = runGitSync(args, { cwd, input, timeout: 20_000 })
    return r.code === 0 ? r.stdout : undefined
  } catch {
    return undefined
  }
}

async function gitAsync(cwd: string, args: string[], input?: string): Promise<string | undefined> {
  try {
    const r = await runGit(args, { cwd, input })
    return r.code === 0 ? r.stdout : undefined
  } catch {
    return undefined
  }
}

/** One `git status` answers three questions: HEAD's commit, its branch, and whether tracked files changed. */
const STATUS = ['status', '--porcelain=v2', '--branch', '--untracked-files=no']
const DIFF = ['diff', '--no-color', '--binary', 'HEAD']

function parseStatus(text: string | undefined): { commit?: string; branch?: string; dirty: boolean } {
  const out: { commit?: string; branch?: string; dirty: boolean } = { dirty: false }
  for (const line of (text ?? '').split('\n')) {
    if (line.startsWith('# branch.oid ')) {
      const oid = line.slice(13).trim()
      if (/^[0-9a-f]{40,64}$/.test(oid)) out.commit = oid
    } else if (line.startsWith('# branch.head ')) {
      const head = line.slice(14).trim()
      if (head !== '(detached)') out.branch = head
    } else if (line !== '' && !line.startsWith('#')) out.dirty = true
  }
  return out
}

function codeLink(st: { commit?: string; branch?: string; dirty: boolean }, remote: string | undefined, patchId: string | undefined, diff: string | undefined): CodeLink {
  if (!st.commit) return { source: {} }
  const source: SourceInfo = { commit: st.commit }
  if (st.branch) source.branch = st.branch
  source.dirty = st.dirty
  if (remote) source.remote = stripCredentials(remote)
  if (patchId) source.patchId = patchId
  return { source, diff: st.dirty ? diff || undefined : undefined }
}

function readGit(cwd: string): CodeLink {
  const st = parseStatus(git(cwd, STATUS))
  if (!st.commit) return { source: {} }
  const commit = st.commit
  if (!patchIds.has(commit)) {
    const show = git(cwd, ['show', '--format=', '--no-color', commit])
    patchIds.set(commit, show ? git(cwd, ['patch-id', '--stable'], show)?.trim().split(/\s+/)[0] || undefined : undefined)
  }
  remotes.set(cwd, git(cwd, ['remote', 'get-url', 'origin'])?.trim())
  return codeLink(st, remotes.get(cwd), patchIds.get(commit), st.dirty ? git(cwd, DIFF) : undefined)
}

/** The background refresh: `git status` alone while HEAD stays where it was (`known`). */
async function readGitAsync(cwd: string, known: string | undefined): Promise<CodeLink> {
  const st = parseStatus(await gitAsync(cwd, STATUS))
  const commit = st.commit
  if (!commit) return { source: {} }
  if (!patchIds.has(commit)) {
    const show = await gitAsync(cwd, ['show', '--format=', '--no-color', commit])
    patchIds.set(commit, show ? (await gitAsync(cwd, ['patch-id', '--stable'], show))?.trim().split(/\s+/)[0] || undefined : undefined)
  }
  if (commit !== known || !remotes.has(cwd)) remotes.set(cwd, (await gitAsync(cwd, ['remote', 'get-url', 'origin']))?.trim())
  return codeLink(st, remotes.get(cwd), patchIds.get(commit), st.dirty ? await gitAsync(cwd, DIFF) : undefined)
}

/** https://user:token@host/x → https://host/x; scp-like ssh addresses keep their user (it is not a secret). */
export function stripCredentials(url: string): string {
  try {
    const u = new URL(url)
    if (u.username || u.password) {
      u.username = ''
      u.password = ''
    }
    return u.toString()
  } catch {
    return url
  }
}

export function currentUser(): string {
  try {
    return os.userInfo().username
  } catch {
    return process.env.USER ?? 'unknown'
  }
}
