/** Opens the branch read-only for the site: `Labbook.open()` then `book.at(rev)`, never a checkout. */
import type { SiteSource } from './source.js'

export interface OpenedSource {
  source: SiteSource
  repo: string
  gitdir: string
  rev: string
  commit: string | null
  close(): Promise<void>
}

interface BookLike {
  repo: string
  gitdir: string
  branch: string
  tip(): Promise<string | null>
  at(rev: string): Promise<SiteSource>
  close(): Promise<void>
}

export async function openSiteSource(o: { repo?: string; branch?: string; rev?: string }): Promise<OpenedSource> {
  // The core lands separately; import it by path so this module compiles before it exists.
  const lib = (await import(new URL('../index.js', import.meta.url).href)) as { Labbook: { open(o: { repo?: string; branch?: string }): Promise<BookLike> } }
  const book = await lib.Labbook.open({ repo: o.repo, branch: o.branch })
  try {
    const rev = o.rev ?? book.branch
    const source = await book.at(rev)
    const commit = o.rev ? await resolveRev(book, rev) : await book.tip()
    return { source, repo: book.repo, gitdir: book.gitdir, rev, commit, close: () => book.close() }
  } catch (e) {
    await book.close()
    throw e
  }
}

async function resolveRev(book: BookLike, rev: string): Promise<string | null> {
  const git = await import('isomorphic-git')
  const fs = await import('node:fs')
  try {
    return await git.resolveRef({ fs, gitdir: book.gitdir, ref: rev })
  } catch {
    return /^[0-9a-f]{40}$/i.test(rev) ? rev : null
  }
}
