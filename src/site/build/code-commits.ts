/** The user's code commits the runs ran on, read from git at build time: subject, author, date and history order. */
import { git, runGit } from '../../store/git.js'

export interface CodeCommit {
  subject: string
  author: string
  /** Author date, ms since the epoch. */
  date: number
}

export interface CodeHistory {
  /** Commits git knows, by the id the runs recorded. */
  info: Map<string, CodeCommit>
  /** The known commits in history order, oldest first (`git rev-list --topo-order`): parents before children. */
  order: string[]
}

/**
 * Looks up `ids` (full or abbreviated commit ids, as runs recorded them) in the repository. Ids git does not know (a
 * commit never fetched, a shallow clone) are left out; a git failure gives an empty answer, never a broken build.
 * @example const { info, order } = await readCodeHistory(gitdir, ['a1b2c3d…'])
 */
export async function readCodeHistory(gitdir: string, ids: readonly string[]): Promise<CodeHistory> {
  const empty: CodeHistory = { info: new Map(), order: [] }
  const wanted = ids.filter((s) => /^[0-9a-f]{7,64}$/i.test(s))
  if (!wanted.length) return empty
  try {
    // Which ids name commits here (and their full names): `missing` lines for the others.
    const check = await runGit(['cat-file', '--batch-check=%(objectname) %(objecttype)'], { gitdir, input: wanted.join('\n') + '\n' })
    const full = new Map<string, string>() // full id → id as recorded
    check.stdout.split('\n').forEach((line, i) => {
      const [name, type] = line.split(' ')
      if (type === 'commit' && i < wanted.length) full.set(name!, wanted[i]!)
    })
    if (!full.size) return empty
    const log = await git(['log', '--no-walk=unsorted', '--format=%H%x00%an%x00%at%x00%s', '--stdin'], { gitdir, input: [...full.keys()].join('\n') + '\n' })
    const info = new Map<string, CodeCommit>()
    for (const line of log.split('\n')) {
      const [h, author, at, ...subject] = line.split('\0')
      const id = h && full.get(h)
      if (id) info.set(id, { subject: subject.join('\0'), author: author ?? '', date: Number(at) * 1000 })
    }
    const walk = await git(['rev-list', '--topo-order', '--reverse', '--stdin'], { gitdir, input: [...full.keys()].join('\n') + '\n' })
    const order = walk.split('\n').flatMap((h) => { const id = full.get(h); return id ? [id] : [] })
    return { info, order }
  } catch {
    return empty
  }
}
