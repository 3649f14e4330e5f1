/**
 * Repeats of one configuration: runs of one experiment on one code commit with the same params except seed-like keys
 * (or the same `labbook.group` tag), or runs sharing keys the caller names; with n, mean, std, min, max and the 95% CI
 * of the mean per metric. Browser-safe.
 */
import type { Goal, JudgeConfig } from './config.js'
import { DEFAULT_SEED_PARAMS } from './config.js'
import { beats, compareValues, eligibleValue, type JudgedRun, tieBreak } from './runs.js'
import { describe, type SampleStats } from './stats.js'
import { keyed } from '../model/run.js'

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
 * What a run's configuration is, for people: `{ 'labbook.group': NAME }` for a tagged run, else its params minus seed
 * params, values as text, keys in sorted order. Only a group's `label` (and `key`) use it, once per group when read:
 * telling runs apart goes through `Identities`.
 */
function configLabel(r: JudgedRun, seeds: ReadonlySet<string>): Record<string, string> {
  const tag = r.tags[GROUP_TAG]
  if (tag) return { [GROUP_TAG]: tag }
  const label = keyed<string>()
  for (const k of paramKeys(r, seeds)) {
    const v = r.params[k]
    label[k] = typeof v === 'string' ? v : String(v)
  }
  return label
}

/** The params of `r` minus seed params, in sorted order (one pass: summaries store them sorted). */
function paramKeys(r: JudgedRun, seeds: ReadonlySet<string>): string[] {
  const all = Object.keys(r.params), keys: string[] = []
  let sorted = true
  for (let i = 0; i < all.length; i++) {
    const k = all[i]!
    if (seeds.has(k)) continue
    if (keys.length > 0 && k < keys[keys.length - 1]!) sorted = false
    keys.push(k)
  }
  return sorted ? keys : keys.sort()
}

/**
 * Numbers for the identity of a group, so that telling 10,000 runs apart never turns a number into text: each distinct
 * string (experiment, split value, group tag, `by` value, param key, text value) gets a small integer once, and a run's
 * identity is a tuple of them plus its numeric param values as they are. A text value that spells a number exactly
 * (`'0.1'`, String(0.1) === '0.1') counts as that number, and a boolean as its text, as they share a group.
 * One per groupRuns call.
 */
class Identities {
  private readonly ids = new Map<string, number>()
  /** By string id: the number that string spells exactly, if any. */
  private readonly spells: (number | undefined)[] = []
  /** The identity being built: integers, and the numbers that NUM entries in it stand for. */
  readonly tuple: number[] = []
  readonly nums: number[] = []

  id(s: string): number {
    let id = this.ids.get(s)
    if (id === undefined) {
      id = this.spells.length
      this.ids.set(s, id)
      const c = s.charCodeAt(0)
      const n = (c >= 48 && c <= 57) || c === 45 || s === 'Infinity' || s === 'NaN' ? Number(s) : undefined
      this.spells.push(n !== undefined && String(n) === s ? n : undefined)
    }
    return id
  }

  /** Appends param `k` with value `v`. */
  param(k: string, v: unknown): void {
    this.tuple.push(this.id(k))
    if (typeof v === 'number') { this.tuple.push(NUM); this.nums.push(v); return }
    const id = this.id(typeof v === 'string' ? v : String(v))
    const n = this.spells[id]
    if (n === undefined) this.tuple.push(id)
    else { this.tuple.push(NUM); this.nums.push(n) }
  }

  /** FNV-1a over the integers and the numbers' bits (−0 as 0, one NaN). */
  hash(): number {
    let h = 0x811c9dc5
    const t = this.tuple, nums = this.nums
    for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t[i]!, 0x01000193)
    for (let i = 0; i < nums.length; i++) {
      const n = nums[i]!
      F64[0] = n === 0 ? 0 : n === n ? n : Number.NaN
      h = Math.imul(Math.imul(h ^ I32[0]!, 0x01000193) ^ I32[1]!, 0x01000193)
    }
    return h
  }

  /** Whether the identity being built is `t` with numbers `nums`. */
  is(t: readonly number[], nums: readonly number[]): boolean {
    const a = this.tuple, b = this.nums
    if (t.length !== a.length || nums.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (t[i] !== a[i]) return false
    for (let i = 0; i < b.length; i++) if (nums[i] !== b[i] && (nums[i] === nums[i] || b[i] === b[i])) return false
    return true
  }
}

/** Marks in an identity tuple: what follows is a group tag, a `by` value, or (param, value) pairs; NUM: a numeric value (in `nums`). */
const TAG = -1, BY = -2, PARAMS = -3, NUM = -4
const F64 = new Float64Array(1), I32 = new Int32Array(F64.buffer)

/** What the members of one group share (one per group in a GroupIndex, reused by every groupsOf call): the split value, the `by` value, and the key and label once spelled out. */
interface GroupIdent { part: string; by: string | undefined; key?: string; label?: Record<string, string> }

/** A group as groupRuns makes it: `key` and `label` are spelled out from the first member when first read (every member spells the same). */
class Group<R extends JudgedRun> implements RunGroup<R> {
  experiment: string
  declare commit?: string
  runs: R[]
  readonly #ident: GroupIdent
  readonly #seeds: ReadonlySet<string>

  constructor(r: R, ident: GroupIdent, seeds: ReadonlySet<string>) {
    this.experiment = r.experiment
    // `[r]`, not `[]` + push: with no repeats nearly every group keeps one run, and an empty array's first push reserves room for 17
    this.runs = [r]
    this.#ident = ident
    this.#seeds = seeds
  }

  get key(): string {
    const ident = this.#ident
    if (ident.key === undefined) {
      const parts = [this.experiment, ident.part]
      const r = this.runs[0]!, tag = r.tags[GROUP_TAG]
      if (ident.by !== undefined) parts.push('b', ident.by)
      else if (tag) parts.push('g', tag)
      else {
        parts.push('p')
        const label = this.label
        for (const k of paramKeys(r, this.#seeds)) parts.push(k, label[k]!)
      }
      ident.key = parts.join('\u0000')
    }
    return ident.key
  }

  get label(): Record<string, string> {
    const ident = this.#ident
    if (ident.label === undefined) ident.label = ident.by !== undefined ? { by: ident.by } : configLabel(this.runs[0]!, this.#seeds)
    return ident.label
  }

  /** The plain fields, as a RunGroup literal would serialise. */
  toJSON(): RunGroup<R> {
    return { key: this.key, experiment: this.experiment, label: this.label, ...(this.commit === undefined ? {} : { commit: this.commit }), runs: this.runs }
  }
}

/**
 * `runs` in start order (tieBreak) without a second sort when they already come sorted either way (`ls` lists newest
 * first): 'asc' or 'desc' to walk them forwards or backwards, else a sorted copy.
 */
function startOrder<R extends JudgedRun>(runs: readonly R[]): 'asc' | 'desc' | R[] {
  return startDirection(runs) ?? [...runs].sort(tieBreak)
}

/** 'asc' or 'desc' when `runs` already come in start order (tieBreak) forwards or backwards, else undefined. */
function startDirection(runs: readonly JudgedRun[]): 'asc' | 'desc' | undefined {
  let asc = true, desc = true
  for (let i = 1; i < runs.length && (asc || desc); i++) {
    const c = tieBreak(runs[i - 1]!, runs[i]!)
    if (c > 0) asc = false
    else if (c < 0) desc = false
  }
  return asc ? 'asc' : desc ? 'desc' : undefined
}

/**
 * Builds the identity of `r` in `ids.tuple` and `ids.nums`: experiment, split value, then TAG and the tag, BY and the
 * `by` value, or PARAMS and its (param, value) pairs in key order. Hashed, and compared in full on a hash match.
 */
function identify(ids: Identities, r: JudgedRun, by: string | undefined, part: string, seeds: ReadonlySet<string>): void {
  const { tuple, nums } = ids
  tuple.length = 0
  nums.length = 0
  tuple.push(ids.id(r.experiment), ids.id(part))
  const tag = by === undefined ? r.tags[GROUP_TAG] : undefined
  if (by !== undefined) tuple.push(BY, ids.id(by))
  else if (tag) tuple.push(TAG, ids.id(tag))
  else {
    tuple.push(PARAMS)
    // Object.keys, not for…in: summaries' params have no prototype (src/model/run.ts keyed), and this is faster on them
    const keys = Object.keys(r.params)
    let sorted = true
    for (let j = 0, prev: string | undefined; j < keys.length; j++) {
      const k = keys[j]!
      if (seeds.has(k)) continue
      if (prev !== undefined && k < prev) { sorted = false; break }
      prev = k
      ids.param(k, r.params[k])
    }
    if (!sorted) {
      tuple.length = 3
      nums.length = 0
      for (const k of paramKeys(r, seeds)) ids.param(k, r.params[k])
    }
  }
}

/**
 * Groups runs into repeats of one configuration: same experiment, same code commit, same params except seed params (or
 * the same `labbook.group` tag). Never across experiments. A run that has children among `runs` is their summary, not
 * a repeat, and belongs to no group. Groups come in order of their first run's start.
 * @example groupRuns(runs).filter((g) => g.runs.length > 1)
 */
export function groupRuns<R extends JudgedRun>(runs: readonly R[], o: GroupOptions = {}): RunGroup<R>[] {
  return groupsOf(groupIndex(runs, o))
}

/**
 * Which configuration each run of a list is, worked out once (the part of groupRuns that does not depend on which
 * runs are in the set), for a list that is grouped many times over different subsets: the experiment table groups
 * the runs its filter keeps at every keystroke (`groupsOf`).
 */
export interface GroupIndex<R extends JudgedRun> {
  readonly runs: readonly R[]
  /** Positions in `runs`, in start order (tieBreak). */
  readonly order: Uint32Array
  /** Each run's configuration number (by position in `runs`): runs with the same number are repeats of each other. */
  readonly config: Int32Array
  /** 1 for a run that is some run's parent in `runs`: only those can be a summary instead of a member. */
  readonly parent: Uint8Array
  /** Whether any run of `runs` is another's parent (when none, no subset has a summary to leave out). */
  readonly hasParents: boolean
  /** By position: the number of the run's id among the parent ids named in `runs` (-1: no run names it as parent). */
  readonly asParent: Int32Array
  /** By position: the number of the run's parent id, as `asParent` numbers them (-1: no parent). */
  readonly parentOf: Int32Array
  readonly idents: readonly GroupIdent[]
  readonly seeds: ReadonlySet<string>
  /** Whether groups carry the code commit (the configuration rule with its default split). */
  readonly commit: boolean
}

/**
 * The configurations of a list of runs, for `groupsOf`; `groupsOf(groupIndex(runs, o))` is `groupRuns(runs, o)`.
 * @example const ix = groupIndex(runs); groupsOf(ix, shown).length
 */
export function groupIndex<R extends JudgedRun>(runs: readonly R[], o: GroupOptions = {}): GroupIndex<R> {
  const seeds = new Set(o.seedParams ?? o.config?.seed_params ?? DEFAULT_SEED_PARAMS)
  const parentIds = new Set<string>()
  for (const r of runs) if (r.parent) parentIds.add(r.parent)
  const split = o.split ?? (o.by ? undefined : codeCommit)
  const ids = new Identities()
  const { tuple, nums } = ids
  const n = runs.length
  const order = startPositions(runs), config = new Int32Array(n), parent = new Uint8Array(n)
  const idents: GroupIdent[] = []
  // Per configuration (same number): its identity, and the next one whose identity has the same hash (-1: none).
  const tuples: number[][] = [], numbers: number[][] = [], chain: number[] = []
  const byHash = new Map<number, number>()
  for (let k = 0; k < n; k++) {
    const i = order[k]!, r = runs[i]!
    if (parentIds.size > 0 && parentIds.has(r.id)) parent[i] = 1
    const by = o.by ? o.by(r) : undefined
    const part = split ? split(r) : ''
    identify(ids, r, by, part, seeds)
    const h = ids.hash()
    const head = byHash.get(h)
    let at = head ?? -1
    while (at >= 0 && !ids.is(tuples[at]!, numbers[at]!)) at = chain[at]!
    if (at >= 0) { config[i] = at; continue }
    config[i] = idents.length
    if (head === undefined) { byHash.set(h, idents.length); chain.push(-1) }
    else { chain.push(chain[head]!); chain[head] = idents.length }
    tuples.push(tuple.slice())
    numbers.push(nums.length ? nums.slice() : NO_NUMS)
    idents.push({ part, by })
  }
  // Parent ids as numbers, so a subset's summaries are found without reading the run objects (groupMembers).
  const asParent = new Int32Array(parentIds.size ? n : 0).fill(-1), parentOf = new Int32Array(parentIds.size ? n : 0).fill(-1)
  if (parentIds.size) {
    const num = new Map<string, number>()
    for (const p of parentIds) num.set(p, num.size)
    for (let i = 0; i < n; i++) {
      const r = runs[i]!
      asParent[i] = num.get(r.id) ?? -1
      if (r.parent) parentOf[i] = num.get(r.parent)!
    }
  }
  return { runs, order, config, parent, hasParents: parent.includes(1), asParent, parentOf, idents, seeds, commit: !o.by && !o.split }
}

/**
 * The groups of the runs of an index that are in a set (`shown[i] === 1`; every run when null), exactly as
 * `groupRuns` groups that subset: a run with a child in the set is its summary, not a member; groups in order of
 * their first member's start; key and label spelled once per index.
 * @example groupsOf(groupIndex(runs, { config }), mask).map((g) => g.runs.length)
 */
export function groupsOf<R extends JudgedRun>(ix: GroupIndex<R>, shown: Uint8Array | null = null): RunGroup<R>[] {
  return groupsAt(ix, groupMembers(ix, shown), false)
}

/** Which runs of an index each group of a subset has, as positions (`groupMembers`). */
export interface GroupMembers {
  /** Each group's configuration number (`GroupIndex.config`), groups in order of their first member's start. */
  readonly configs: Int32Array
  /** The members' positions in the index's runs, group after group, each group's in start order. */
  readonly members: Uint32Array
  /** Group g's members are `members[from[g]]` up to `members[from[g + 1]]` (excluded). */
  readonly from: Uint32Array
}

/**
 * The members of `groupsOf(ix, shown)`'s groups as positions, from typed arrays only (no run object is read): for
 * columns read by position (`scoreAt`), and for `groupsAt`.
 * @example const m = groupMembers(ix, mask); m.members.subarray(m.from[0], m.from[1])
 */
export function groupMembers<R extends JudgedRun>(ix: GroupIndex<R>, shown: Uint8Array | null = null): GroupMembers {
  const { runs, order, config, parent, asParent, parentOf } = ix
  const n = runs.length
  // the rule that depends on the set: parents of the runs in it (by number, none to look for when no run is a parent)
  const parents = new Uint8Array(ix.hasParents ? n : 0)
  for (let i = 0; ix.hasParents && i < n; i++) {
    if (shown !== null && shown[i] !== 1) continue
    const p = parentOf[i]!
    if (p >= 0) parents[p] = 1
  }
  const count = new Uint32Array(ix.idents.length), rank = new Int32Array(ix.idents.length).fill(-1)
  const kept = new Uint32Array(n), configs: number[] = []
  let total = 0
  for (let k = 0; k < n; k++) {
    const i = order[k]!
    if (shown !== null && shown[i] !== 1) continue
    if (parent[i] === 1 && parents[asParent[i]!] === 1) continue
    const c = config[i]!
    if (rank[c]! < 0) { rank[c] = configs.length; configs.push(c) }
    count[c]!++
    kept[total++] = i
  }
  const from = new Uint32Array(configs.length + 1), next = new Uint32Array(configs.length)
  for (let g = 0; g < configs.length; g++) { next[g] = from[g]!; from[g + 1] = from[g]! + count[configs[g]!]! }
  const members = new Uint32Array(total)
  for (let k = 0; k < total; k++) { const i = kept[k]!; members[next[rank[config[i]!]!]!++] = i }
  return { configs: Int32Array.from(configs), members, from }
}

/**
 * The groups of `groupMembers(ix, …)`: what `groupsOf` gives. `lazy`: each group's `runs` is made when first read
 * (a table that shows 50 of 162 groups does not gather 100,000 run objects at every keystroke).
 * @example groupsAt(ix, groupMembers(ix, mask), true)[0].key
 */
export function groupsAt<R extends JudgedRun>(ix: GroupIndex<R>, m: GroupMembers, lazy = true): RunGroup<R>[] {
  const { runs, idents, seeds } = ix, { configs, members, from } = m
  const out: Group<R>[] = new Array(configs.length)
  for (let g = 0; g < configs.length; g++) {
    const ident = idents[configs[g]!]!, a = from[g]!, b = from[g + 1]!
    const grp = new Group(runs[members[a]!]!, ident, seeds)
    if (ix.commit) grp.commit = ident.part
    const make = () => { const list: R[] = new Array(b - a); for (let k = a; k < b; k++) list[k - a] = runs[members[k]!]!; return list }
    if (!lazy) grp.runs = make()
    else if (b - a > 1) {
      Object.defineProperty(grp, 'runs', {
        configurable: true, enumerable: true,
        get: () => { const list = make(); Object.defineProperty(grp, 'runs', { value: list, writable: true, enumerable: true, configurable: true }); return list },
        set: (v: R[]) => Object.defineProperty(grp, 'runs', { value: v, writable: true, enumerable: true, configurable: true }),
      })
    }
    out[g] = grp
  }
  return out
}

/**
 * Each run's value of `key` where src/judge counts it (`eligibleValue`), NaN where it does not (an eligible value is
 * finite): a column for `scoreAt`, read once per list and metric instead of once per group and keystroke.
 * @example scoreAt(runs, m.members.subarray(m.from[0], m.from[1]), eligibleColumn(runs, 'acc'), 'maximize').stats?.mean
 */
export function eligibleColumn(runs: readonly JudgedRun[], key: string): Float64Array {
  const out = new Float64Array(runs.length)
  for (let i = 0; i < runs.length; i++) out[i] = eligibleValue(runs[i]!, key) ?? Number.NaN
  return out
}

/**
 * `scoreGroup` of the group whose members are `runs[at[0]], runs[at[1]], …` (member order), over a column of their
 * eligible values (`eligibleColumn`): the same statistics and best member, reading typed arrays instead of the run
 * objects (only tied values read their runs, for the tie-break).
 * @example scoreAt(runs, [0, 3, 4], eligibleColumn(runs, 'acc'), 'maximize').best?.id
 */
export function scoreAt<R extends JudgedRun>(runs: readonly R[], at: ArrayLike<number>, column: Float64Array, goal: Goal): { stats?: SampleStats; best?: R; eligible: number } {
  const values: number[] = []
  let best = -1, bestValue = 0
  for (let k = 0; k < at.length; k++) {
    const i = at[k]!, v = column[i]!
    if (v !== v) continue
    values.push(v)
    if (beats(v, runs[i]!, bestValue, best < 0 ? undefined : runs[best]!, goal)) { best = i; bestValue = v }
  }
  const stats = describe(values)
  return { eligible: values.length, ...(stats ? { stats } : {}), ...(best >= 0 ? { best: runs[best]! } : {}) }
}

/** Positions of `runs` in start order (tieBreak), as startOrder walks them: no sort when they already come sorted either way. */
function startPositions(runs: readonly JudgedRun[]): Uint32Array {
  const n = runs.length
  const dir = startDirection(runs)
  if (dir === 'asc') return Uint32Array.from({ length: n }, (_, i) => i)
  if (dir === 'desc') return Uint32Array.from({ length: n }, (_, i) => n - 1 - i)
  // a stable sort of positions: the order of startOrder's sorted copy
  return Uint32Array.from(Array.from({ length: n }, (_, i) => i).sort((x, y) => tieBreak(runs[x]!, runs[y]!)))
}

const NO_NUMS: number[] = []

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
    if (beats(v, r, bestValue, best, goal)) { best = r; bestValue = v }
  }
  const stats = describe(values)
  return { group, values, excluded: group.runs.length - values.length, ...(stats ? { stats } : {}), ...(best ? { best } : {}) }
}

/** One group's standing on a metric, as bestGroup ranks groups: eligible members, their sum, and the best member. Reused (no allocation per group). */
interface Tally<R extends JudgedRun> { n: number; sum: number; best: R | undefined; bestValue: number }

/** Counts `runs` (one group's members, in member order) into `t`: the arithmetic bestGroup and bestGroupOf share. */
function tally<R extends JudgedRun>(runs: readonly R[], key: string, goal: Goal, t: Tally<R>): void {
  let n = 0, sum = 0, best: R | undefined, bestValue = 0
  for (const r of runs) {
    const v = eligibleValue(r, key)
    if (v === undefined) continue
    n++
    sum += v
    if (beats(v, r, bestValue, best, goal)) { best = r; bestValue = v }
  }
  t.n = n; t.sum = sum; t.best = best; t.bestValue = bestValue
}

/** Whether a group of mean `mean`, `n` eligible members and best member `best` ranks below the leader (`top*`): worse mean, then fewer eligible runs, then its best member loses the run tie-break. */
function ranksBelow<R extends JudgedRun>(mean: number, n: number, best: R, topMean: number, topN: number, topBest: R, goal: Goal): boolean {
  const c = compareValues(mean, topMean, goal)
  return c > 0 || (c === 0 && (n < topN || (n === topN && tieBreak(best, topBest) >= 0)))
}

/**
 * The best group on `key`: the best mean over eligible members. Ties: more eligible runs, then the group whose best
 * member wins the run tie-break (earlier start, smaller id). Undefined when no group has an eligible run.
 * @example bestGroup(groupRuns(runs), 'acc', 'maximize')?.stats?.mean
 */
export function bestGroup<R extends JudgedRun>(groups: readonly RunGroup<R>[], key: string, goal: Goal): GroupScore<R> | undefined {
  // One pass per group with no allocation (mean, n and best member, as scoreGroup computes them); only the winner is scored.
  let top: RunGroup<R> | undefined, topMean = 0, topN = 0, topBest: R | undefined
  const t: Tally<R> = { n: 0, sum: 0, best: undefined, bestValue: 0 }
  for (const g of groups) {
    tally(g.runs, key, goal, t)
    if (t.n === 0) continue
    const mean = t.sum / t.n
    if (top && ranksBelow(mean, t.n, t.best!, topMean, topN, topBest!, goal)) continue
    top = g; topMean = mean; topN = t.n; topBest = t.best
  }
  return top ? scoreGroup(top, key, goal) : undefined
}

/** How many groups bestGroupOf builds one scan at a time before it groups every run instead. */
const SCANNED_GROUPS = 8

/**
 * `bestGroup(groupRuns(runs, o), key, goal)`, the same GroupScore, without telling every run apart (the report judges
 * each side of a PR this way). A group's mean is never better than its best eligible member, beyond a rounding bound
 * (`margin`), so the groups are built best run first, each by one scan of the runs (a cheap test of one param, the full
 * identity only where it passes), until the best run left is worse than the best mean found: no group of the runs left
 * can beat it. When more runs than SCANNED_GROUPS could still beat it (many groups of near-equal runs), it groups every
 * run instead.
 * @example bestGroupOf(runs, 'val_loss', 'minimize', { config })?.group.runs
 */
export function bestGroupOf<R extends JudgedRun>(runs: readonly R[], key: string, goal: Goal, o: GroupOptions = {}): GroupScore<R> | undefined {
  if (o.by) return bestGroup(groupRuns(runs, o), key, goal)
  const order = startOrder(runs)
  const list = order === 'asc' ? runs : order === 'desc' ? [...runs].reverse() : order
  const parents = new Set<string>()
  for (const r of list) if (r.parent) parents.add(r.parent)
  // Each run's eligible value (NaN: not eligible, a parent, or already in a built group), and the largest magnitude.
  const n = list.length, values = new Float64Array(n)
  let most = 0
  for (let i = 0; i < n; i++) {
    const r = list[i]!
    const v = parents.size > 0 && parents.has(r.id) ? undefined : eligibleValue(r, key)
    values[i] = v ?? Number.NaN
    if (v !== undefined && Math.abs(v) > most) most = Math.abs(v)
  }
  // |computed mean − exact mean| ≤ k·2⁻⁵³·most for k summed values (recursive summation and one division); 4(n+4)·2⁻⁵³·most
  // also covers rounding `value ± margin`. Near the top of the double range a sum may overflow: group every run there.
  if (most > 1e300) return bestGroup(groupRuns(runs, o), key, goal)
  const margin = (n + 4) * 2 ** -51 * most
  const seeds = new Set(o.seedParams ?? o.config?.seed_params ?? DEFAULT_SEED_PARAMS)
  const split = o.split ?? codeCommit
  const ids = new Identities()
  const t: Tally<R> = { n: 0, sum: 0, best: undefined, bestValue: 0 }
  let top: Group<R> | undefined, topMean = 0, topN = 0, topBest: R | undefined
  for (let built = 0; ; built++) {
    // The best run not yet in a built group, among those that could still make a group that beats or ties the leader;
    // each group left to build takes at least one of them, so more of them than the groups left to scan: group every run.
    let at = -1, open = 0
    for (let i = 0; i < n; i++) {
      const v = values[i]!
      if (v !== v || (top && (goal === 'maximize' ? v + margin < topMean : v - margin > topMean))) continue
      open++
      if (at < 0 || compareValues(v, values[at]!, goal) < 0) at = i
    }
    if (at < 0) break
    if (top && open > SCANNED_GROUPS - built) return bestGroup(groupRuns(runs, o), key, goal)
    // The group of run `s`: one scan in start order, as groupRuns would fill it.
    const s = list[at]!, part = split(s)
    identify(ids, s, undefined, part, seeds)
    const tuple = ids.tuple.slice(), nums = ids.nums.slice()
    const tag = s.tags[GROUP_TAG]
    const probeKey = tag ? undefined : paramKeys(s, seeds)[0]
    const probe = probeKey === undefined ? undefined : s.params[probeKey]
    let g: Group<R> | undefined
    for (let i = 0; i < n; i++) {
      const r = list[i]!
      if (r !== s) {
        if (r.experiment !== s.experiment) continue
        // Necessary for the same identity: the same group tag, or the same value of the first param (cheap to test)
        if (tag ? r.tags[GROUP_TAG] !== tag : probeKey !== undefined && differs(r.params[probeKey], probe)) continue
        if (parents.size > 0 && parents.has(r.id)) continue
        const p = split(r)
        if (p !== part) continue
        identify(ids, r, undefined, p, seeds)
        if (!ids.is(tuple, nums)) continue
      }
      if (g) g.runs.push(r)
      else { g = new Group(r, { part, by: undefined }, seeds); if (!o.split) g.commit = part }
      values[i] = Number.NaN
    }
    tally(g!.runs, key, goal, t)
    const mean = t.sum / t.n
    if (top && ranksBelow(mean, t.n, t.best!, topMean, topN, topBest!, goal)) continue
    top = g; topMean = mean; topN = t.n; topBest = t.best
  }
  return top ? scoreGroup(top, key, goal) : undefined
}

/**
 * True only when param values `a` and `b` can never count as the same in a group identity: two numbers that differ
 * (NaN equals NaN, −0 equals 0), or two different strings (a string that spells a number is that number's one
 * spelling, so two different strings never stand for one value). Anything else: maybe the same (the full identity decides).
 */
function differs(a: unknown, b: unknown): boolean {
  if (typeof a === 'number') return typeof b === 'number' && a !== b && (a === a || b === b)
  return typeof a === 'string' && typeof b === 'string' && a !== b
}
