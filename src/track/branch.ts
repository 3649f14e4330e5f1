/** Which branch holds the runs: the one rule, used by the library, the CLI, the server and the site. */
import { fail } from '../errors.js'
import { loadConfig } from '../format/config-file.js'
import { repoConfigValue } from '../store/git.js'
import type { RepoLocation } from '../store/gitdir.js'

export const DEFAULT_BRANCH = 'labbook'

/**
 * The branch name: the caller's (`--branch`, `Labbook.open({ branch })`), else `$LABBOOK_BRANCH`, else `branch:` in
 * labbook.config.yaml, else git config `labbook.branch`, else "labbook". Checked against the branch-name rule.
 * @example resolveBranch(locateRepo(), undefined) // 'labbook'
 */
export function resolveBranch(loc: RepoLocation, explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const branch = explicit || env.LABBOOK_BRANCH || (loc.bare ? undefined : loadConfig(loc.root).branch) || repoConfigValue(loc.gitdir, 'labbook.branch') || DEFAULT_BRANCH
  checkBranchName(branch)
  return branch
}

export function checkBranchName(branch: string): void {
  if (!/^[\w][\w./-]*$/.test(branch) || branch.includes('..') || branch.endsWith('.lock') || branch.endsWith('/') || branch.includes('//')) {
    throw fail('INVALID_ARGUMENT', `${JSON.stringify(branch)} is not a usable branch name.`, { hint: 'Use letters, digits, "_", "-", "." and "/", e.g. "labbook".', data: { branch } })
  }
}
