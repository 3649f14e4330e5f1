/**
 * A live run's metric series (its committed chunks, then the points its journal holds past them), kept per run and
 * extended in place: the live pages ask for a RUNNING run's sample after every change, and rebuilding the whole
 * series each time cost O(all points) per refresh (12k points/s of log-batch per run made that the serve process's
 * top cost with pages open). Here a refresh costs O(new points):
 *
 * - The series is the sequence a fresh read sorts (track/history.ts: chunk points in chunk order, then the journaled
 *   tail in journal order). What was walked before is remembered: the chunk ids, how many points of each metric
 *   each chunk ended at, and how far into which journal log (journal.ts hands its points out as an append-only view).
 * - A new request walks only what the remembered part does not cover: the chunks past the common prefix (a commit
 *   adds a chunk or rewrites the small last one), then the journal from where the walk stopped, or from its start
 *   after a rotation. Each point is compared with the one already at its place (a commit moves the tail into a chunk:
 *   the same points, nothing written) or written there.
 * - Writes go past everything handed out, in place; a write below that (the series changed under an earlier reader)
 *   or past the capacity goes to new arrays. So every answer handed out stays one moment, as a fresh read's would.
 * - Sorted (the usual case): the answer is a view of the arrays. Not sorted (steps logged out of order): sorted as a
 *   fresh read sorts it (sortColumns), a copy.
 *
 * The result equals `withPoints`-style fresh computation exactly; test/track/live-series.test.ts checks it after
 * appends, a rotation and a commit that moves the tail into the branch.
 */
import type { PointColumns } from '../format/jsonl.js'
import type { ObjectStore, TreeEntry } from '../store/objects.js'
import { chunksColumns, sortColumns, type SeriesColumns } from './history.js'
import type { JournalPoints } from './journal.js'

/** One metric's sequence: points [0, len) of the arrays. */
interface KeySeries {
  step: Float64Array
  value: Float64Array
  time: Float64Array
  len: number
  /** Points [0, shared) were handed out (views of these arrays): never written in place. */
  shared: number
  /** The first i ≥ 1 where point i sorts before point i − 1; Infinity when [0, len) is sorted. */
  inversion: number
  /** The walk's position in this metric's sequence. */
  at: number
}

interface RunSeries {
  keys: Map<string, KeySeries>
  /** Chunk ids walked, in name order, and per chunk each metric's length after it. */
  chunks: string[]
  ends: Array<Map<string, number>>
  /** The journal log walked (its identity), from which point, up to which. */
  log: object | undefined
  from: number
  to: number
}

/** Live runs kept (a run's series is dropped when it is the least recently read beyond this). */
const KEEP = 32
const kept = new Map<string, RunSeries>()
/** @internal Points walked (compared or written) so far, in this process: what a test reads to see a refresh cost the new points only. */
export const liveSeriesWork = { walked: 0 }

/** Drops every kept series (tests comparing with a fresh computation; nothing else needs it). */
export function forgetLiveSeries(): void {
  kept.clear()
}

/**
 * The run's series: `chunks` (its committed metric chunks, in name order, under `dir`) followed by the journal's
 * points from `from`. Views of shared arrays: read them, do not write them.
 */
export async function liveSeries(objects: ObjectStore, cacheKey: string, chunks: TreeEntry[], dir: string, journal: JournalPoints, from: number): Promise<Map<string, SeriesColumns>> {
  const cols = new Map<string, PointColumns>()
  for (let attempt = 0; ; attempt++) {
    const state = kept.get(cacheKey)
    // the chunks past what is remembered are parsed before the walk (it runs without awaiting, so nothing moves under it)
    const known = attempt === 0 && state ? commonPrefix(state.chunks, chunks) : 0
    const fresh = chunks.slice(known).filter((c) => !cols.has(c.oid))
    ;(await chunksColumns(objects, fresh, dir)).forEach((c, i) => cols.set(fresh[i]!.oid, c))
    const now = kept.get(cacheKey)
    const prefix = now ? commonPrefix(now.chunks, chunks) : 0
    // another read moved the remembered state meanwhile: walk what it does not cover, if parsed; else parse all
    if (prefix < known || chunks.slice(prefix).some((c) => !cols.has(c.oid))) continue
    const next = walk(now, chunks, cols, journal, from)
    kept.delete(cacheKey)
    kept.set(cacheKey, next)
    if (kept.size > KEEP) kept.delete(kept.keys().next().value!)
    return answer(next)
  }
}

function commonPrefix(a: string[], b: TreeEntry[]): number {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]!.oid) i++
  return i
}

/** The state after walking what `state` does not cover (everything when there is none). */
function walk(state: RunSeries | undefined, chunks: TreeEntry[], cols: Map<string, PointColumns>, journal: JournalPoints, from: number): RunSeries {
  const prefix = state ? commonPrefix(state.chunks, chunks) : 0
  const keys = state?.keys ?? new Map<string, KeySeries>()
  let jStart = from
  if (state && prefix === state.chunks.length && prefix === chunks.length && journal.log === state.log && from === state.from && journal.count >= state.to) {
    // nothing changed below what was walked: carry on from there
    for (const s of keys.values()) s.at = s.len
    jStart = state.to
  } else {
    const ends = prefix > 0 ? state!.ends[prefix - 1]! : undefined
    for (const [k, s] of keys) s.at = ends?.get(k) ?? 0
  }
  const ends = state ? state.ends.slice(0, prefix) : []
  const series = (k: string): KeySeries => {
    let s = keys.get(k)
    if (!s) keys.set(k, (s = { step: new Float64Array(16), value: new Float64Array(16), time: new Float64Array(16), len: 0, shared: 0, inversion: Infinity, at: 0 }))
    return s
  }
  for (const c of chunks.slice(prefix)) {
    const col = cols.get(c.oid)!
    const targets = col.keys.map(series)
    walkColumns((k) => targets[k]!, col.key, col.step, col.value, col.time, 0, col.value.length)
    const end = new Map<string, number>()
    for (const [k, s] of keys) if (s.at > 0) end.set(k, s.at)
    ends.push(end)
  }
  const targets: Array<KeySeries | undefined> = []
  walkColumns((ki) => (targets[ki] ??= series(journal.keys[ki]!)), journal.key, journal.step, journal.value, journal.time, jStart, journal.count)
  // each metric ends where its walk ended; one with no point left goes
  for (const [k, s] of keys) {
    if (s.at === 0) { keys.delete(k); continue }
    if (s.at < s.len) {
      s.len = s.at
      if (s.inversion >= s.len) s.inversion = Infinity
    }
  }
  return { keys, chunks: chunks.map((c) => c.oid), ends, log: journal.log, from, to: journal.count }
}

/**
 * Points [from, to) of columns, each put at its metric's walk position (`put`). A commit moves a run's journaled
 * points into chunks, and the next read walks those chunks over the same points already in the series: the run of
 * points equal to the ones at their places is compared here in one tight loop, without a call per point (a re-walk of
 * 1,000,000 equal points: 21 ns a point through `put`, 10 with this loop, the answer's views included); the first
 * point that differs, or lies past the series, and all after it go through `put`.
 */
function walkColumns(target: (k: number) => KeySeries, key: ArrayLike<number>, step: ArrayLike<number>, value: ArrayLike<number>, time: ArrayLike<number>, from: number, to: number): void {
  let i = from
  for (; i < to; i++) {
    const s = target(key[i]!)
    const p = s.at
    if (p >= s.len || !same(s.step[p]!, step[i]!) || !same(s.value[p]!, value[i]!) || !same(s.time[p]!, time[i]!)) break
    s.at = p + 1
  }
  liveSeriesWork.walked += i - from
  for (; i < to; i++) put(target(key[i]!), step[i]!, value[i]!, time[i]!)
}

/** `Object.is` for numbers, without its call on the common path: NaN equals NaN, 0 and -0 differ. */
function same(a: number, b: number): boolean {
  return a === b ? a !== 0 || 1 / a === 1 / b : a !== a && b !== b
}

/** The point at the metric's walk position: compared with the one there (equal: nothing to do) or written there. */
function put(s: KeySeries, step: number, value: number, time: number): void {
  liveSeriesWork.walked++
  const p = s.at++
  if (p < s.len) {
    if (same(s.step[p]!, step) && same(s.value[p]!, value) && same(s.time[p]!, time)) return
    s.len = p // the sequence differs from here: what followed is not in it
    if (s.inversion >= p) s.inversion = Infinity
  }
  if (p < s.shared || p >= s.value.length) {
    // below what readers hold, or past the capacity: new arrays, the sequence up to here copied
    const size = p >= s.value.length ? s.value.length * 2 : s.value.length
    const step2 = new Float64Array(size), value2 = new Float64Array(size), time2 = new Float64Array(size)
    step2.set(s.step.subarray(0, p)); value2.set(s.value.subarray(0, p)); time2.set(s.time.subarray(0, p))
    s.step = step2; s.value = value2; s.time = time2; s.shared = 0
  }
  s.step[p] = step; s.value[p] = value; s.time[p] = time
  s.len = p + 1
  // the order test of sortColumns: point p sorts before point p − 1
  if (p > 0 && p < s.inversion && !(s.step[p - 1]! < step || (s.step[p - 1] === step && s.time[p - 1]! <= time))) s.inversion = p
}

/** The series handed out: views (marked shared) when sorted, sorted copies otherwise; metrics in name order. */
function answer(state: RunSeries): Map<string, SeriesColumns> {
  const out = new Map<string, SeriesColumns>()
  for (const k of [...state.keys.keys()].sort()) {
    const s = state.keys.get(k)!
    const view = { step: s.step.subarray(0, s.len), value: s.value.subarray(0, s.len), time: s.time.subarray(0, s.len) }
    if (s.inversion >= s.len) {
      s.shared = Math.max(s.shared, s.len)
      out.set(k, view)
    } else out.set(k, sortColumns(view))
  }
  return out
}
