/**
 * Repeats of one configuration: runs grouped by their params minus seed-like keys (or by a `labbook.group` tag, or by
 * keys the caller names), with n, mean, std, min, max and the 95% CI of the mean per metric. Browser-safe.
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
  /** A custom identity (e.g. `ls --group-by params.lr`): runs with the same string share a group. Overrides the default rule. */
  by?: (run: JudgedRun) => string
  /** Also keep apart runs that differ in this (e.g. the code commit). */
  split?: (run: JudgedRun) => string
}

export interface RunGroup<R extends JudgedRun = JudgedRun> {
  /** Stable identity: experiment, split value and configuration, NUL-separated. */
  key: string
  experiment: string
  /** What the members share: the params without seeds, or `{ 'labbook.group': NAME }`, or the `by` value. */
  label: Record<string, string>
  /** Every member, eligible or not, in start order. */
  runs: R[]
}

/** The configuration of a run as canonical text: its params minus seed params (keys sorted), or its group tag. */
function configId(r: JudgedRun, seeds: ReadonlySet<string>): string {
  const tag = r.tags[GROUP_TAG]
  if (tag) return `g\u0000${tag}`
  let id = 'p'
  for (const k of Object.keys(r.params).sort()) if (!seeds.has(k)) id += `\u0000${k}\u0001${String(r.params[k])}`
  return id
}

/** What the members of a group share, for people: the params without seeds, or the group tag. */
function configLabel(r: JudgedRun, seeds: ReadonlySet<string>): Record<string, string> {
  const tag = r.tags[GROUP_TAG]
  if (tag) return { [GROUP_TAG]: tag }
  const label: Record<string, string> = {}
  for (const k of Object.keys(r.params).sort()) if (!seeds.has(k)) label[k] = String(r.params[k])
  return label
}

/**
 * Groups runs of each experiment into repeats of one configuration (never across experiments). A run that has children
 * among `runs` is their summary, not a repeat, and belongs to no group. Groups come in order of their first run's start.
 * @example groupRuns(runs).filter((g) => g.runs.length > 1)
 */
export function groupRuns<R extends JudgedRun>(runs: readonly R[], o: GroupOptions = {}): RunGroup<R>[] {
  const seeds = new Set(o.seedParams ?? o.config?.seed_params ?? DEFAULT_SEED_PARAMS)
  const parents = new Set<string>()
  for (const r of runs) if (r.parent) parents.add(r.parent)
  const groups = new Map<string, RunGroup<R>>()
  const ordered = [...runs].sort(tieBreak)
  for (const r of ordered) {
    if (parents.has(r.id)) continue
    const by = o.by ? o.by(r) : undefined
    const key = `${r.experiment}\u0000${o.split ? o.split(r) : ''}\u0000${by === undefined ? configId(r, seeds) : `b\u0000${by}`}`
    let g = groups.get(key)
    if (!g) groups.set(key, (g = { key, experiment: r.experiment, label: by === undefined ? configLabel(r, seeds) : { by }, runs: [] }))
    g.runs.push(r)
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
  let top: GroupScore<R> | undefined
  for (const g of groups) {
    const s = scoreGroup(g, key, goal)
    if (!s.stats) continue
    if (!top || betterScore(s, top, goal)) top = s
  }
  return top
}

function betterScore(a: GroupScore, b: GroupScore, goal: Goal): boolean {
  const c = compareValues(a.stats!.mean, b.stats!.mean, goal)
  if (c !== 0) return c < 0
  if (a.stats!.n !== b.stats!.n) return a.stats!.n > b.stats!.n
  return tieBreak(a.best!, b.best!) < 0
}
