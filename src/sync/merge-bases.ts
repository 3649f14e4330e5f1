/**
 * Merge bases for one n-way merge, from one walk: what `labbook pull` needs to merge 32 host refs in one commit
 * without 31 `git merge-base` processes (under load those cost more than the merge itself).
 */
import { LabbookError } from '../errors.js'
import { gitMessage, runGit } from '../store/git.js'

/**
 * For each side k ≥ 1 of `parents` (independent commits, as `git merge-base --independent` leaves them), the best
 * common ancestor of `parents[k]` and a merge of `parents[0..k-1]`: what `git merge-base P_k P_0 … P_k-1` prints
 * (the newest when there are several), or null when they share no history.
 *
 * How: every commit reachable from the octopus bases of all parents (`git merge-base --octopus --all`) is an ancestor
 * of every parent, so the walk needs only the commits above them (`git rev-list --parents P… --not OCTO…`); a common
 * ancestor outside that region is dominated by an octopus base, which a region commit dominates only if the base is
 * one of its parents. Two git processes however many sides.
 * @example await sideBases(gitdir, [tip, host1, host2]) // [base of host1 and tip, base of host2 and (tip + host1)]
 */
export async function sideBases(gitdir: string, parents: string[]): Promise<Array<string | null>> {
  if (parents.length < 2) return []
  const octo = await runGit(['merge-base', '--octopus', '--all', ...parents], { gitdir })
  if (octo.code > 1) throw walkFailed('merge-base --octopus', octo)
  const bases = octo.code === 0 ? octo.stdout.split('\n').filter(Boolean) : [] // exit 1: no common history
  const rl = await runGit(['rev-list', '--parents', '--timestamp', ...parents, ...(bases.length ? ['--not', ...bases] : [])], { gitdir })
  if (rl.code !== 0) throw walkFailed('rev-list', rl)
  const graph = new Map<string, { time: number; parents: string[] }>()
  for (const line of rl.stdout.split('\n')) {
    const [time, oid, ...ps] = line.split(' ')
    if (oid) graph.set(oid, { time: Number(time), parents: ps })
  }
  const octoSet = new Set(bases)
  /** `from` and its ancestors inside the region (the octopus bases among them too), added to `into`. */
  const reach = (from: string[], into: Set<string>) => {
    const stack = [...from]
    while (stack.length) {
      const c = stack.pop()!
      if (into.has(c)) continue
      const node = graph.get(c)
      if (!node) { if (octoSet.has(c)) into.add(c); continue } // below the region: only the bases matter
      into.add(c)
      stack.push(...node.parents)
    }
    return into
  }
  const before = reach([parents[0]!], new Set())
  const out: Array<string | null> = []
  for (let k = 1; k < parents.length; k++) {
    const mine = reach([parents[k]!], new Set())
    const common = [...mine].filter((c) => before.has(c) && graph.has(c))
    // Candidates: the common region commits and every octopus base; the best are those no other candidate reaches.
    const below = reach(common.flatMap((c) => graph.get(c)!.parents), new Set())
    const best = [...common, ...bases].filter((c) => !below.has(c))
    best.sort((a, b) => (graph.get(b)?.time ?? 0) - (graph.get(a)?.time ?? 0))
    out.push(best[0] ?? null)
    reach([parents[k]!], before)
  }
  return out
}

function walkFailed(what: string, r: { code: number; stdout: string; stderr: string }): LabbookError {
  return new LabbookError('GIT_FAILED', `git ${what} failed while merging: ${gitMessage(r)}`, 'Run `git fsck` on the repository, then pull again.')
}
