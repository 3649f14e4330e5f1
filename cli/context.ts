import { AsyncLocalStorage } from 'node:async_hooks'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { LabbookError } from '../src/errors.js'
import { locateRepo } from '../src/store/gitdir.js'
import type { CliIO } from './io.js'

/** Per-invocation state: global options and the streams. Held in AsyncLocalStorage so in-process calls can overlap. */
export interface CliContext {
  io: CliIO
  /** --repo, else $LABBOOK_REPO (set for wrapped commands), else the git root above cwd. */
  repo?: string
  /** --branch, else $LABBOOK_BRANCH, else `branch:` in labbook.config.yaml, else the library default. */
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

/** The repository and branch this invocation works on. */
export function target(): { repo: string; branch?: string } {
  const c = ctx()
  const start = c.repo ?? c.io.env.LABBOOK_REPO ?? c.io.cwd
  const repo = locateRepo(resolve(c.io.cwd, start)).root
  const branch = c.branch ?? c.io.env.LABBOOK_BRANCH ?? configBranch(repo)
  return { repo, branch: branch || undefined }
}

function configBranch(repo: string): string | undefined {
  const cfg = readConfig(repo)
  return typeof cfg?.branch === 'string' ? cfg.branch : undefined
}

/** `labbook.config.yaml` at the root of the code repository, parsed; undefined when there is none. */
export function readConfig(repo: string): Record<string, unknown> | undefined {
  const file = join(repo, 'labbook.config.yaml')
  if (!existsSync(file)) return undefined
  let value: unknown
  try {
    value = parseYaml(readFileSync(file, 'utf8'))
  } catch (e) {
    throw new LabbookError('INVALID_VALUE', `${file} is not valid YAML: ${(e as Error).message}`, 'Fix or remove labbook.config.yaml.', { file }, { cause: e })
  }
  if (value === null || value === undefined) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) throw new LabbookError('INVALID_VALUE', `${file} must hold a mapping.`, 'Example:\nbranch: labbook\nmetrics:\n  val_loss: { goal: minimize }', { file })
  return value as Record<string, unknown>
}
