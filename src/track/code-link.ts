import os from 'node:os'
import type { SourceInfo } from '../model/run.js'
import { runGitSync } from '../store/git.js'

export interface CodeLink {
  source: SourceInfo
  /** The uncommitted changes to tracked files (`git diff HEAD`), when the tree is dirty. */
  diff?: string
}

/** Most training scripts start many runs from one checkout; a short cache keeps `startRun` at ~1 ms instead of ~30. */
const TTL_MS = 5_000
const cache = new Map<string, { at: number; link: CodeLink }>()

/** Records what code a run ran: HEAD's commit, branch, dirty state and diff, patch-id, the remote without credentials. */
export function detectCodeLink(repoRoot: string, bare: boolean): CodeLink {
  const hit = cache.get(repoRoot)
  if (hit && Date.now() - hit.at < TTL_MS) return { source: { ...hit.link.source, ...processInfo() }, diff: hit.link.diff }
  const link = bare ? { source: {} } : readGit(repoRoot)
  cache.set(repoRoot, { at: Date.now(), link })
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

function readGit(cwd: string): CodeLink {
  const commit = git(cwd, ['rev-parse', '--verify', '-q', 'HEAD'])?.trim()
  if (!commit) return { source: {} }
  const source: SourceInfo = { commit }
  const branch = git(cwd, ['symbolic-ref', '--short', '-q', 'HEAD'])?.trim()
  if (branch) source.branch = branch
  const status = git(cwd, ['status', '--porcelain', '--untracked-files=no'])
  source.dirty = !!status && status.trim() !== ''
  const remote = git(cwd, ['remote', 'get-url', 'origin'])?.trim()
  if (remote) source.remote = stripCredentials(remote)
  const show = git(cwd, ['show', '--format=', '--no-color', 'HEAD'])
  if (show) {
    const pid = git(cwd, ['patch-id', '--stable'], show)?.trim().split(/\s+/)[0]
    if (pid) source.patchId = pid
  }
  const diff = source.dirty ? git(cwd, ['diff', '--no-color', '--binary', 'HEAD']) : undefined
  return { source, diff: diff || undefined }
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
