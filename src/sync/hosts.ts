/**
 * Per-host refs: with many machines pushing to one remote, each clone pushes its branch to a ref of its own,
 * `refs/labbook/hosts/<id>` (notes to `refs/labbook/host-notes/<id>`), so no two pushes race for one ref; readers
 * (`labbook pull`, the Pages workflow) merge them all into `labbook`. See docs/format.md "Many machines, one remote".
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import { LabbookError } from '../errors.js'
import { repoConfigValue } from '../store/git.js'

export const HOSTS_PREFIX = 'refs/labbook/hosts/'
export const HOST_NOTES_PREFIX = 'refs/labbook/host-notes/'

/** How `labbook push` publishes: `shared` moves the remote's `labbook` branch (merge and retry on a lost race); `hosts` pushes to this clone's own ref. */
export type PushMode = 'shared' | 'hosts'

const HOST_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/**
 * This clone's host id: `git config labbook.hostId` or `$LABBOOK_HOST_ID` when set, else derived from the machine's
 * hostname and the repository's real path (16 hex digits of their SHA-1). Derived, not stored: deleting .git/labbook
 * cannot change it, and two clones never share one unless both name it so. (A shared id costs retries, never runs:
 * a host ref moves only by fast-forward.)
 * @example hostId('/work/repo/.git') // 'a3f09c21d4e5b6a7'
 */
export function hostId(gitdir: string, env: NodeJS.ProcessEnv = process.env): string {
  const named = env.LABBOOK_HOST_ID || repoConfigValue(gitdir, 'labbook.hostId')
  if (named !== undefined && named !== '') {
    if (!HOST_ID.test(named) || named.endsWith('.lock') || named.includes('..')) {
      throw new LabbookError('INVALID_ARGUMENT', `Host id ${JSON.stringify(named)} is not a valid ref name part.`,
        'Use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit (git config labbook.hostId gpu-box-1).', { hostId: named })
    }
    return named
  }
  let path = gitdir
  try { path = fs.realpathSync(gitdir) } catch { /* not there yet: the given path */ }
  return createHash('sha1').update(`${os.hostname()}\0${path}`).digest('hex').slice(0, 16)
}

/**
 * The push mode: an explicit choice, else `$LABBOOK_PUSH`, else `git config labbook.push`, else `shared`
 * (works with every reader, including plain `git fetch origin labbook` and GitHub's `push: branches` trigger).
 */
export function pushMode(gitdir: string, explicit?: PushMode, env: NodeJS.ProcessEnv = process.env): PushMode {
  const value = explicit ?? (env.LABBOOK_PUSH || repoConfigValue(gitdir, 'labbook.push') || 'shared')
  if (value !== 'shared' && value !== 'hosts') {
    throw new LabbookError('INVALID_ARGUMENT', `Push mode ${JSON.stringify(value)} is not one labbook knows.`,
      'Use "shared" (one branch for everyone) or "hosts" (a ref per machine): git config labbook.push hosts, or labbook push --hosts.', { mode: value })
  }
  return value
}
