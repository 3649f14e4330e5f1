/**
 * What `labbook serve` / `labbook ui` pushes on its change stream for a run an open page watches (a "tick"), and how a
 * page lays it over what it draws. Browser-safe: made by the server (src/server/live-pages.ts `ticks`), read by a run
 * page's charts and metrics table (site/src/islands/RunCharts.tsx, regions.ts). The format is the stream's, described
 * in docs/site.md ("The change stream"); nothing stores it.
 *
 * A page that gets its run's tick redraws from it without asking the server for anything: at 20 open pages each
 * refreshing once a second, those requests (the run's JSON, then its series) were most of what the pages cost the
 * browser and the server (bench/live.ts).
 */
import { numberFromJsonValue, numberToJsonValue } from '../../model/json-numbers.js'
import type { Series } from './charts/series.js'
import { minMaxIndices } from './charts/downsample.js'
import type { RunRow } from './snapshot.js'
import { keyed } from '../../model/run.js'

/** Runs one `/live/watch` may name (a browser's tabs of one server, each on a run): the server's limit, the pages' cap. */
export const MAX_WATCH_RUNS = 200

/**
 * One metric's points past the `from` the server last sent (what a page following the stream has), `n` now: their
 * steps, times and values (`numberToJsonValue`: NaN and ±Infinity as strings), thinned at the density of the page's
 * sample when there are many (`tailLimit`).
 */
export interface TailJson { n: number; from: number; s: number[]; t: number[]; v: Array<number | string> }

/**
 * A run's tick: its row (status, times, params, tags, the metrics table's numbers), each metric's new points, and the
 * points a drawn sample holds on this server (a metric beyond it has a full-history file the page links).
 */
export interface RunTick { run: RunRow; series: Record<string, TailJson>; maxPoints: number }

/**
 * How many points a tail of `count` new points (of `n` in all) is drawn with: the density of a `maxPoints` sample of
 * the whole series (min and max of each bucket, so at least 2), all of them when fewer.
 */
export function tailLimit(count: number, n: number, maxPoints: number): number {
  return Math.min(count, maxPoints, Math.max(2, 2 * Math.ceil((maxPoints * count) / Math.max(1, n) / 2)))
}

/** A tail as the stream carries it: points [from, n) of the columns, thinned (min/max-preserving) to `tailLimit`. */
export function encodeTail(cols: { step: ArrayLike<number>; time: ArrayLike<number>; value: ArrayLike<number> }, from: number, maxPoints: number): TailJson {
  const n = cols.value.length
  const count = Math.max(0, n - from)
  const limit = tailLimit(count, n, maxPoints)
  const tail = { length: count } as ArrayLike<number>
  const y = Array.from({ length: count }, (_, i) => cols.value[from + i]!)
  const idx = count > limit ? minMaxIndices({ x: tail, y }, limit) : Array.from({ length: count }, (_, i) => i)
  return { n, from, s: idx.map((i) => cols.step[from + i]!), t: idx.map((i) => cols.time[from + i]!), v: idx.map((i) => numberToJsonValue(y[i]!)) }
}

/**
 * `s` with the tail's points laid after it; undefined when the tail does not follow what `s` holds (points missed
 * between the two) or, following on, steps back (a point logged out of step order cannot be laid after the curve):
 * the page fetches the series instead. A tail from before what `s` holds (the page fetched since) adds only its
 * points past `s`'s last step, or nothing. Longer than `2 × maxPoints`, the result is thinned back to `maxPoints`
 * (min/max of min/max: every spike stays).
 */
export function appendTail(s: Series, tail: TailJson, maxPoints: number): Series | undefined {
  if (tail.from > s.total || tail.s.length !== tail.v.length || tail.t.length !== tail.v.length) return undefined
  if (tail.n <= s.total) return s
  const last = s.step.length ? s.step[s.step.length - 1]! : -Infinity
  if (tail.from === s.total) {
    let before = last
    for (const x of tail.s) { if (!(x > before)) return undefined; before = x }
  }
  const step = s.step.slice(), time = s.time.slice(), value = s.value.slice()
  for (let i = 0; i < tail.s.length; i++) {
    const v = numberFromJsonValue(tail.v[i])
    if (!(tail.s[i]! > last) || v === undefined) continue
    step.push(tail.s[i]!); time.push(tail.t[i]!); value.push(v)
  }
  const out: Series = { ...s, total: tail.n, step, time, value }
  if (value.length <= 2 * maxPoints) return out
  const idx = minMaxIndices({ x: step, y: value }, maxPoints)
  return { ...out, step: idx.map((i) => step[i]!), time: idx.map((i) => time[i]!), value: idx.map((i) => value[i]!) }
}

/**
 * Two ticks of a run, one after the other, as one (a page that refreshes once a second gets several events between):
 * the later row; each metric's tails joined when the later one follows the earlier, the earlier when the later holds
 * nothing newer (the same tick twice), else the later alone (the page then finds the points in between missing and
 * asks for the series).
 */
export function joinTicks(a: RunTick, b: RunTick): RunTick {
  // keyed by metric names (user strings): no prototype, so a metric named `__proto__` is a key like any other
  const series = keyed(a.series)
  for (const [k, t] of Object.entries(b.series)) {
    const p = Object.hasOwn(a.series, k) ? a.series[k] : undefined
    series[k] = !p ? t : t.n <= p.n ? p : p.n === t.from ? { n: t.n, from: p.from, s: [...p.s, ...t.s], t: [...p.t, ...t.t], v: [...p.v, ...t.v] } : t
  }
  return { ...b, series }
}

/**
 * A change as `labbook serve`'s stream announces it (site/src/islands/live-channel.ts): its version, whether the
 * branch moved in a way only a refetch shows (`tip`), the runs that moved, and the ticks of the watched ones.
 */
export interface LiveChange { version: string; tip: boolean; runs?: string[]; ticks?: Record<string, RunTick> }

/**
 * Two changes, one after the other, as one (a page refreshes at most once a second and merges the events between):
 * the later version; `tip` if either; the runs of both; each run's ticks joined (joinTicks). A run the later change
 * names without a tick (none could be made: its journal went with its last commit, the run ended) loses its earlier
 * tick, so its page fetches the run: drawn from the older tick, a finished run's page stayed RUNNING.
 */
export function joinChanges(a: LiveChange | undefined, b: LiveChange): LiveChange {
  if (!a) return b
  const c: LiveChange = { version: b.version, tip: a.tip || b.tip, runs: a.runs && b.runs ? [...new Set([...a.runs, ...b.runs])] : undefined }
  if (a.ticks || b.ticks) {
    // keyed: run ids are the server's, but a page never trusts a key to be anything but a key
    const ticks = keyed(a.ticks)
    for (const id of b.runs ?? []) if (!b.ticks || !Object.hasOwn(b.ticks, id)) delete ticks[id]
    for (const [id, t] of Object.entries(b.ticks ?? {})) ticks[id] = Object.hasOwn(ticks, id) ? joinTicks(ticks[id]!, t) : t
    if (Object.keys(ticks).length) c.ticks = ticks
  }
  return c
}

