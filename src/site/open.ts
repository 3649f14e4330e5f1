/** Opens the branch read-only for the site: `Labbook.open()` then `book.at(rev)`, never a checkout. */
import { spawnSync } from 'node:child_process'
import { LabbookError } from '../errors.js'
import { Labbook } from '../track/labbook.js'
import type { SiteSource } from './source.js'

export interface OpenedSource {
  source: SiteSource
  repo: string
  gitdir: string
  rev: string
  commit: string | null
  close(): Promise<void>
}

export async function openSiteSource(o: { repo?: string; branch?: string; rev?: string }): Promise<OpenedSource> {
  // recover: false — building a site reads; it must not commit other processes' journals.
  const book = await Labbook.open({ repo: o.repo, branch: o.branch, recover: false })
  try {
    const rev = o.rev ?? book.branch
    if (!o.rev && !(await book.tip())) {
      throw new LabbookError('BRANCH_MISSING', `No branch "${book.branch}" in ${book.repo}: there are no runs to show.`, 'Log a run first, or run `labbook init`; in CI, fetch the branch (actions/checkout with fetch-depth: 0).')
    }
    const source = await book.at(rev)
    const commit = o.rev ? revParse(book.gitdir, rev) : await book.tip()
    return { source, repo: book.repo, gitdir: book.gitdir, rev, commit, close: () => book.close() }
  } catch (e) {
    await book.close()
    throw e
  }
}

function revParse(gitdir: string, rev: string): string | null {
  if (/^[0-9a-f]{40}$/i.test(rev)) return rev
  const r = spawnSync('git', ['--git-dir', gitdir, 'rev-parse', '--verify', '-q', `${rev}^{commit}`], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : null
}
