import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { LabbookError } from '../errors.js'

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
