/** Opens the branch read-only for the site: `Labbook.open()` then `book.at(rev)`, never a checkout. */
import { LabbookError } from '../../errors.js'
import { revParseCommit } from '../../store/git.js'
import { Labbook } from '../../track/labbook.js'
import { publishedCommits, type PublishedCommits } from '../../sync/published.js'
import type { SiteSource } from './source.js'

export interface OpenedSource {
  source: SiteSource
  repo: string
  gitdir: string
  rev: string
  commit: string | null
  /** Commits the remote has, where large LFS artifacts link (undefined: no remote fetched; links name `commit`). */
  published?: PublishedCommits
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
    const commit = o.rev ? revParseCommit({ gitdir: book.gitdir }, rev) : await book.tip()
    const published = await publishedCommits(book.gitdir, book.objects, commit, book.branch)
    return { source, repo: book.repo, gitdir: book.gitdir, rev, commit, published, close: () => book.close() }
  } catch (e) {
    await book.close()
    throw e
  }
}

