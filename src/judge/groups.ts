/**
 * Repeats of one configuration: runs of one experiment on one code commit with the same params except seed-like keys
 * (or the same `labbook.group` tag), or runs sharing keys the caller names; with n, mean, std, min, max and the 95% CI
 * of the mean per metric. Browser-safe.
 */
import type { Goal, JudgeConfig } from './config.js'
import { DEFAULT_SEED_PARAMS } from './config.js'
import { compareValues, eligibleValue, type JudgedRun, tieBreak } from './runs.js'
import { describe, type SampleStats } from './stats.js'

/** A run tagged `labbook.group: NAME` belongs to group NAME whatever its params. */
export const GROUP_TAG = 'labbook.group'

export interface GroupOptions {
  /** Params ignored when telling configurations apart. @default config.seed_params, else seed, random_state, rng */
  seedParams?: readonly string[]
  config?: JudgeConfig
  /** A custom identity (e.g. `ls --group-by params.lr`): runs with the same string share a group. Overrides the default rule (and its split by commit). */
  by?: (run: JudgedRun) => string
  /** Keep apart runs that differ in this. @default the code commit (`source.commit`) under the configuration rule; nothing with `by` */
  split?: (run: JudgedRun) => string
}

export interface RunGroup<R extends JudgedRun = JudgedRun> {
  /** Stable identity: experiment, split value (by default the code commit) and configuration, NUL-separated. */
  key: string
  experiment: string
  /** What the members share: the params without seeds, or `{ 'labbook.group': NAME }`, or the `by` value. */
  label: Record<string, string>
  /** The code commit every member ran on, under the configuration rule with the default split ('' when unknown). */
  commit?: string
  /** Every member, eligible or not, in start order. */
  runs: R[]
}

/**
 * The keys of `o` in sorted order. Run summaries keep params and metrics sorted (src/format/summaries.ts), so this is
 * usually a linear check instead of a sort: it keeps grouping 10,000 runs cheap.
 * @example sortedKeys({ b: 1, a: 2 }) // ['a', 'b']
 */
export function sortedKeys(o: object): string[] {
  const keys = Object.keys(o)
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return keys.sort()
  return keys
}

/** The code commit of a run, the default split of the configuration rule: the same params on other code are not repeats. */
export function codeCommit(r: JudgedRun): string {
  return r.source?.commit ?? ''
}

/**
 * Appends the configuration of a run to `parts`: `p` and its params minus seed params (key, value as text, …; keys in
 * sorted order), or `g` and its group tag. Summaries store params sorted, so this is one pass with no key array.
 */
function configParts(r: JudgedRun, seeds: ReadonlySet<string>, parts: string[]): void {
  const tag = r.tags[GROUP_TAG]
  if (tag) { parts.push('g', tag); return }
  parts.push('p')
  const start = parts.length
  let prev: string | undefined, sorted = true
  for (const k in r.params) {
    if (seeds.has(k)) continue
    if (prev !== undefined && k < prev) sorted = false
    prev = k
    const v = r.params[k]
    parts.push(k, typeof v === 'string' ? v : String(v))
  }
  if (sorted) return
  parts.length = start
  for (const k of Object.keys(r.params).sort()) {
    if (seeds.has(k)) continue
    const v = r.params[k]
    parts.push(k, typeof v === 'string' ? v : String(v))
  }
}

/** What the members of a group share, for people: the params without seeds (`parts` from `from` on, as configParts left them), or the group tag. */
function configLabel(parts: readonly string[], from: number): Record<string, string> {
  const label: Record<string, string> = {}
  if (parts[from] === 'g') label[GROUP_TAG] = parts[from + 1]!
  else for (let i = from + 1; i < parts.length; i += 2) label[parts[i]!] = parts[i + 1]!
  return label
}

/**
 * `runs` in start order (tieBreak) without a second sort when they already come sorted either way (`ls` lists newest
 * first): 'asc' or 'desc' to walk them forwards or backwards, else a sorted copy.
 */
function startOrder<R extends JudgedRun>(runs: readonly R[]): 'asc' | 'desc' | R[] {
  let asc = true, desc = true
  for (let i = 1; i < runs.length && (asc || desc); i++) {
    const c = tieBreak(runs[i - 1]!, runs[i]!)
    if (c > 0) asc = false
    else if (c < 0) desc = false
  }
  return asc ? 'asc' : desc ? 'desc' : [...runs].sort(tieBreak)
}

/**
 * Groups runs into repeats of one configuration: same experiment, same code commit, same params except seed params (or
 * the same `labbook.group` tag). Never across experiments. A run that has children among `runs` is their summary, not
 * a repeat, and belongs to no group. Groups come in order of their first run's start.
 * @example groupRuns(runs).filter((g) => g.runs.length > 1)
 */
export function groupRuns<R extends JudgedRun>(runs: readonly R[], o: GroupOptions = {}): RunGroup<R>[] {
  const seeds = new Set(o.seedParams ?? o.config?.seed_params ?? DEFAULT_SEED_PARAMS)
  const parents = new Set<string>()
  for (const r of runs) if (r.parent) parents.add(r.parent)
  const split = o.split ?? (o.by ? undefined : codeCommit)
  const groups = new Map<string, RunGroup<R>>()
  // The key of a run, as parts joined once: experiment, split value, then `b` and the `by` value or configParts.
  const parts: string[] = []
  const order = startOrder(runs)
  for (let i = 0; i < runs.length; i++) {
    const r = order === 'asc' ? runs[i]! : order === 'desc' ? runs[runs.length - 1 - i]! : order[i]!
    if (parents.size > 0 && parents.has(r.id)) continue
    const by = o.by ? o.by(r) : undefined
    const part = split ? split(r) : ''
    parts.length = 0
    parts.push(r.experiment, part)
    if (by === undefined) configParts(r, seeds, parts)
    else parts.push('b', by)
    const key = parts.join('\u0000')
    const g = groups.get(key)
    if (g) { g.runs.push(r); continue }
    // `[r]`, not `[]` + push: with no repeats nearly every group keeps one run, and an empty array's first push reserves room for 17
    const made: RunGroup<R> = { key, experiment: r.experiment, label: by === undefined ? configLabel(parts, 2) : { by }, runs: [r] }
    if (by === undefined && !o.split) made.commit = part
    groups.set(key, made)
  }
  return [...groups.values()]
}

/** A group judged on one metric: statistics over its eligible members, and the best member. */
export interface GroupScore<R extends JudgedRun = JudgedRun> {
  group: RunGroup<R>
  /** Over eligible members (FINISHED, not deleted, finite value); undefined when none. */
  stats?: SampleStats
  /** The eligible values, in member order. */
  values: number[]
  best?: R
  /** Members that do not count (failed, running, killed, deleted, no value, NaN). */
  excluded: number
}

/**
 * Scores a group on `key`: n, mean, std, min, max, CI over eligible members, and its best member.
 * @example scoreGroup(g, 'val_loss', 'minimize').stats?.mean
 */
export function scoreGroup<R extends JudgedRun>(group: RunGroup<R>, key: string, goal: Goal): GroupScore<R> {
  const values: number[] = []
  let best: R | undefined, bestValue = 0
  for (const r of group.runs) {
    const v = eligibleValue(r, key)
    if (v === undefined) continue
    values.push(v)
    if (!best || compareValues(v, bestValue, goal) < 0 || (v === bestValue && tieBreak(r, best) < 0)) { best = r; bestValue = v }
  }
  const stats = describe(values)
  return { group, values, excluded: group.runs.length - values.length, ...(stats ? { stats } : {}), ...(best ? { best } : {}) }
}

/**
 * The best group on `key`: the best mean over eligible members. Ties: more eligible runs, then the group whose best
 * member wins the run tie-break (earlier start, smaller id). Undefined when no group has an eligible run.
 * @example bestGroup(groupRuns(runs), 'acc', 'maximize')?.stats?.mean
 */
export function bestGroup<R extends JudgedRun>(groups: readonly RunGroup<R>[], key: string, goal: Goal): GroupScore<R> | undefined {
  // One pass per group with no allocation (mean, n and best member, as scoreGroup computes them); only the winner is scored.
  let top: RunGroup<R> | undefined, topMean = 0, topN = 0, topBest: R | undefined
  for (const g of groups) {
    let n = 0, sum = 0, best: R | undefined, bestValue = 0
    for (const r of g.runs) {
      const v = eligibleValue(r, key)
      if (v === undefined) continue
      n++
      sum += v
      if (!best || compareValues(v, bestValue, goal) < 0 || (v === bestValue && tieBreak(r, best) < 0)) { best = r; bestValue = v }
    }
    if (n === 0) continue
    const mean = sum / n
    if (top) {
      const c = compareValues(mean, topMean, goal)
      if (c > 0 || (c === 0 && (n < topN || (n === topN && tieBreak(best!, topBest!) >= 0)))) continue
    }
    top = g; topMean = mean; topN = n; topBest = best
  }
  return top ? scoreGroup(top, key, goal) : undefined
}
