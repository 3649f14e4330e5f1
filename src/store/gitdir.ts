import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { LabbookError } from '../errors.js'
import { repoConfigValue } from './git.js'

export interface RepoLocation {
  /** The working tree root, or the git dir itself for a bare repository. */
  root: string
  /** The common git dir: where refs and objects live, also for linked worktrees. */
  gitdir: string
  bare: boolean
}

/** Finds the repository containing `start` (walking up), resolving `.git` files and linked worktrees to the common dir. */
export function locateRepo(start: string = process.cwd()): RepoLocation {
  let dir = resolve(start)
  for (;;) {
    const dotgit = join(dir, '.git')
    if (existsSync(dotgit)) {
      const gitdir = statSync(dotgit).isDirectory() ? dotgit : readGitFile(dotgit)
      return { root: dir, gitdir: commonDir(gitdir), bare: false }
    }
    if (looksBare(dir)) return { root: dir, gitdir: commonDir(dir), bare: true }
    const up = dirname(dir)
    if (up === dir) break
    dir = up
  }
  throw new LabbookError('NOT_A_GIT_REPO', `No git repository at or above ${resolve(start)}.`, 'Run labbook inside a git repository, pass --repo DIR, or create one with `git init`.', { start })
}

function readGitFile(path: string): string {
  const m = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(path, 'utf8'))
  if (!m) throw new LabbookError('NOT_A_GIT_REPO', `${path} is neither a directory nor a "gitdir:" file.`)
  return isAbsolute(m[1]!) ? m[1]! : resolve(dirname(path), m[1]!)
}

function commonDir(gitdir: string): string {
  const f = join(gitdir, 'commondir')
  if (!existsSync(f)) return gitdir
  const rel = readFileSync(f, 'utf8').trim()
  return isAbsolute(rel) ? rel : resolve(gitdir, rel)
}

function looksBare(dir: string): boolean {
  return existsSync(join(dir, 'HEAD')) && existsSync(join(dir, 'objects')) && existsSync(join(dir, 'refs'))
}

/** `extensions.objectFormat` of the repository (`sha1` unless the config says otherwise), read through git (git.ts). */
export function objectFormat(gitdir: string): string {
  return repoConfigValue(gitdir, 'extensions.objectFormat')?.toLowerCase() ?? 'sha1'
}

/** Throws UNSUPPORTED_OBJECT_FORMAT for a repository whose objects are not SHA-1 (labbook hashes with SHA-1 only). */
export function assertSha1(gitdir: string): void {
  const format = objectFormat(gitdir)
  if (format !== 'sha1') {
    throw new LabbookError('UNSUPPORTED_OBJECT_FORMAT', `${gitdir} is a ${format.toUpperCase()} repository (extensions.objectFormat = ${format}); labbook writes SHA-1 objects only and refuses to write any here.`,
      'Keep runs in a SHA-1 repository: `git init --object-format=sha1 ../runs` and pass `--repo ../runs` (or LABBOOK_REPO).', { gitdir, format })
  }
}

/**
 * The worktree that has `ref` checked out (or is rebasing or bisecting it), if any: git's own rule for refusing to
 * move a branch under someone's feet. The main worktree of a bare repository checks nothing out.
 */
export function checkedOutIn(gitdir: string, ref: string): string | undefined {
  // HEAD (and a rebase's head-name) can only name a branch: git refuses to point them anywhere else, so no read is
  // needed for refs/notes/labbook, which every group commit also moves.
  if (!ref.startsWith('refs/heads/')) return undefined
  const holds = (dir: string): boolean => {
    for (const f of ['HEAD', 'rebase-merge/head-name', 'rebase-apply/head-name', 'BISECT_START']) {
      const path = join(dir, f)
      // the last three are nearly always absent: a stat each, not a failed open and its exception (a server checks
      // this for every create that starts a turn of its event loop)
      if (f !== 'HEAD' && !existsSync(path)) continue
      try {
        const text = readFileSync(path, 'utf8').trim()
        if (text === `ref: ${ref}` || text === ref || (f === 'BISECT_START' && `refs/heads/${text}` === ref)) return true
      } catch { /* not there */ }
    }
    return false
  }
  if (!isBareConfig(gitdir) && holds(gitdir)) return dirname(gitdir)
  let names: string[] = []
  const worktrees = join(gitdir, 'worktrees')
  if (!existsSync(worktrees)) return undefined
  try {
    names = readdirSync(worktrees)
  } catch {
    return undefined
  }
  for (const name of names) {
    const wt = join(gitdir, 'worktrees', name)
    if (holds(wt)) {
      try {
        return dirname(readFileSync(join(wt, 'gitdir'), 'utf8').trim())
      } catch {
        return wt
      }
    }
  }
  return undefined
}

function isBareConfig(gitdir: string): boolean {
  return repoConfigValue(gitdir, 'core.bare')?.toLowerCase() === 'true'
}
