import { AsyncLocalStorage } from 'node:async_hooks'
import { resolve } from 'node:path'
import { locateRepo } from '../src/store/gitdir.js'
import { resolveBranch } from '../src/track/branch.js'
import type { CliIO } from './io.js'

/** Per-invocation state: global options and the streams. Held in AsyncLocalStorage so in-process calls can overlap (the bin's one invocation: in a variable, soleInvocation). */
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

/**
 * The context of the one invocation a process runs when it is the `labbook` bin (soleInvocation): a variable, not
 * AsyncLocalStorage, whose run() turns on node 20's async hooks for every promise the command makes (~10 ms CPU of a
 * cold `ls` of 10,000 runs, issue 17). In-process callers of main() (tests, overlapping) keep AsyncLocalStorage.
 */
let sole: { on: boolean; c?: CliContext } = { on: false }

/** Called once by the bin before main(): this process runs exactly one CLI invocation. */
export function soleInvocation(): void {
  sole = { on: true }
}

export function withContext<T>(c: CliContext, fn: () => Promise<T>): Promise<T> {
  if (sole.on && !sole.c) {
    sole.c = c
    return fn()
  }
  return storage.run(c, fn)
}

export function ctx(): CliContext {
  const c = storage.getStore() ?? sole.c
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
