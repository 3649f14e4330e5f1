import { AsyncLocalStorage } from 'node:async_hooks'
import { resolve } from 'node:path'
import { locateRepo } from '../src/store/gitdir.js'
import { resolveBranch } from '../src/track/branch.js'
import type { CliIO } from './io.js'

/** Per-invocation state: global options and the streams. Held in AsyncLocalStorage so in-process calls can overlap. */
export interface CliContext {
  io: CliIO
  /** --repo, else $LABBOOK_REPO (set for wrapped commands), else the git root above cwd. */
  repo?: string
  /** --branch; else the library's rule (src/track/branch.ts). */
  branch?: string
  verbose: boolean
  /** What the process should exit with; commands set it through `setExit`, main.ts applies it. */
  exit: { code: number; signal?: NodeJS.Signals }
}

const storage = new AsyncLocalStorage<CliContext>()

export function withContext<T>(c: CliContext, fn: () => Promise<T>): Promise<T> {
  return storage.run(c, fn)
}

export function ctx(): CliContext {
  const c = storage.getStore()
  if (!c) throw new Error('labbook CLI command called outside main()')
  return c
}

export function setExit(code: number, signal?: NodeJS.Signals): void {
  ctx().exit = { code, signal }
}

/** The repository and branch this invocation works on (the library resolves the rest: src/track/branch.ts). */
export function target(): { repo: string; branch: string } {
  const c = ctx()
  const start = c.repo ?? c.io.env.LABBOOK_REPO ?? c.io.cwd
  const loc = locateRepo(resolve(c.io.cwd, start))
  return { repo: loc.root, branch: resolveBranch(loc, c.branch, c.io.env) }
}
