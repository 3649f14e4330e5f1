/**
 * Commits the remote has, for links into it. A site built from a merge that `labbook pull` made here (per-host refs:
 * the Pages workflow pulls, then builds) must not link large artifacts at that merge: the host has never seen it, and
 * its LFS download URL would 404. It links them at the last commit that changed the file on a ref the remote has.
 */
import { lookup } from '../store/tree-edit.js'
import { runGit } from '../store/git.js'
import type { ObjectStore } from '../store/objects.js'
import { isTreeMode } from '../store/objects.js'

export interface PublishedCommits {
  /**
   * The last commit that changed `path` on the first remote ref whose tip holds it exactly as the built commit does
   * (the shared branch first, then the host refs by id), or undefined when no ref the remote has holds it.
   */
  commitFor(path: string): Promise<string | undefined>
  /** Whether `commit` is on one of those remote refs (so a link at it still resolves). */
  has(commit: string): Promise<boolean>
}

/**
 * The remote copies of `branch` this clone knows, as [commit, ref] pairs, origin's first: its tracking refs as
 * `git fetch` and `labbook pull` leave them (`refs/remotes/<remote>/<branch>`, `refs/labbook/remotes/<remote>/branch`
 * for a URL, `…/hosts/<id>`). Empty when there are none (a clone that never fetched) or git fails.
 * @example const [first] = await remoteCopies(book.gitdir, 'labbook') // ['3f2a…', 'refs/remotes/origin/labbook']
 */
export async function remoteCopies(gitdir: string, branch: string): Promise<Array<[string, string]>> {
  const r = await runGit(['for-each-ref', '--format=%(objectname) %(refname)', 'refs/remotes/', 'refs/labbook/remotes/'], { gitdir })
  if (r.code !== 0) return []
  const shared = (ref: string) => ref === `refs/remotes/${ref.split('/')[2]}/${branch}` || /^refs\/labbook\/remotes\/[^/]+\/branch$/.test(ref)
  const rank = (ref: string) => (ref === `refs/remotes/origin/${branch}` ? 0 : shared(ref) ? 1 : 2)
  return r.stdout.split('\n').map((l) => l.split(' ') as [string, string])
    .filter(([oid, ref]) => oid && ref && (shared(ref) || /^refs\/labbook\/remotes\/[^/]+\/hosts\/[^/]+$/.test(ref)))
    .sort(([, a], [, b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
}

/**
 * The remote refs of `branch` this clone knows (its tracking refs, as `labbook pull` and `git fetch` leave them:
 * `refs/remotes/<remote>/<branch>`, `refs/labbook/remotes/<remote>/branch` for a URL, `…/hosts/<id>`), for links from
 * a build of `built`. Undefined when there are none (a clone that never fetched: links name the built revision).
 * @example const pub = await publishedCommits(book.gitdir, book.objects, tip, 'labbook'); await pub?.commitFor('runs/3f/…/artifacts/model.ckpt')
 */
export async function publishedCommits(gitdir: string, objects: ObjectStore, built: string | null, branch: string): Promise<PublishedCommits | undefined> {
  const refs = await remoteCopies(gitdir, branch)
  if (refs.length === 0) return undefined
  const treeOf = async (commit: string) => (await objects.readCommit(commit)).tree
  const blobAt = async (commit: string, path: string) => {
    const e = await lookup(objects, await treeOf(commit), path)
    return e && !isTreeMode(e.mode) ? e.oid : undefined
  }
  let reachable: Promise<Set<string>> | undefined
  const found = new Map<string, Promise<string | undefined>>()
  return {
    commitFor(path) {
      let p = found.get(path)
      if (!p) {
        found.set(path, (p = (async () => {
          const want = built ? await blobAt(built, path) : undefined
          if (!want) return undefined
          for (const [tip] of refs) {
            if ((await blobAt(tip, path)) !== want) continue
            // The last change of the file on that ref: stable while the file stays (the tip moves with every push).
            const last = (await runGit(['log', '-1', '--format=%H', tip, '--', path], { gitdir })).stdout.trim()
            return /^[0-9a-f]{40,64}$/.test(last) && (await blobAt(last, path)) === want ? last : tip
          }
          return undefined
        })()))
      }
      return p
    },
    async has(commit) {
      reachable ??= runGit(['rev-list', ...refs.map(([tip]) => tip)], { gitdir }).then((x) => new Set(x.stdout.split('\n').filter(Boolean)))
      return (await reachable).has(commit)
    },
  }
}
