/**
 * Metric history reads. A run's chunks are parsed into columns (no object per point, src/format/jsonl.ts) and kept in
 * memory by blob id: a blob never changes, so a page re-read while a run logs parses only the chunks that are new.
 * The downsampled sample the pages draw (src/model/minmax.ts) is also kept on disk, under
 * `.git/labbook/series/`, keyed by the tree id of the run's metrics folder: immutable, so it is never invalidated,
 * and losing it loses nothing (the next read makes it again).
 */
import fs from 'node:fs'
import { join } from 'node:path'
import { decodeChunkColumns, type PointColumns } from '../format/jsonl.js'
import { numberFromJson, numberToJson } from '../format/numbers.js'
import { minMaxIndices } from '../model/minmax.js'
import type { MetricSample } from '../model/book.js'
import type { MetricPoint } from '../model/run.js'
import type { ObjectStore, TreeEntry } from '../store/objects.js'
import { keyed } from '../model/run.js'

/** One metric's history in columns, sorted by step then timestamp (stable: chunk order for equal pairs). */
export interface SeriesColumns {
  step: Float64Array
  value: Float64Array
  time: Float64Array
}


/** Points kept parsed in memory, across chunks (about 28 bytes each). */
const MAX_CACHED_POINTS = 3_000_000
const parsed = new Map<string, PointColumns>()
let cachedPoints = 0

/** A chunk blob as columns, parsed once per process. */
export async function chunkColumns(objects: ObjectStore, oid: string, where: string): Promise<PointColumns> {
  const hit = parsed.get(oid)
  if (hit) {
    parsed.delete(oid)
    parsed.set(oid, hit)
    return hit
  }
  const c = decodeChunkColumns(await objects.readBlob(oid), where)
  parsed.set(oid, c)
  cachedPoints += c.value.length
  while (cachedPoints > MAX_CACHED_POINTS && parsed.size > 1) {
    const [old, cols] = parsed.entries().next().value!
    parsed.delete(old)
    cachedPoints -= cols.value.length
  }
  return c
}

/** Drops the parsed chunks kept in memory (a benchmark's cold read; nothing else needs it). */
export function forgetParsedChunks(): void {
  parsed.clear()
  cachedPoints = 0
}

/** Every metric's history of these chunks (in name order), sorted; only `onlyKey` when given. */
export async function historyColumns(objects: ObjectStore, chunks: TreeEntry[], dir: string, onlyKey?: string): Promise<Map<string, SeriesColumns>> {
  const all: PointColumns[] = []
  for (const c of chunks) all.push(await chunkColumns(objects, c.oid, `${dir}/${c.name}`))
  // count per key, then copy each key's points out in chunk order
  const count = new Map<string, number>()
  for (const c of all) {
    const n = new Array<number>(c.keys.length).fill(0)
    for (let i = 0; i < c.key.length; i++) n[c.key[i]!]!++
    c.keys.forEach((k, i) => { if (onlyKey === undefined || k === onlyKey) count.set(k, (count.get(k) ?? 0) + n[i]!) })
  }
  const out = new Map<string, SeriesColumns>()
  const at = new Map<string, number>()
  for (const [k, n] of count) {
    out.set(k, { step: new Float64Array(n), value: new Float64Array(n), time: new Float64Array(n) })
    at.set(k, 0)
  }
  for (const c of all) {
    const targets = c.keys.map((k) => out.get(k))
    if (c.keys.length === 1 && targets[0]) {
      // one key in the chunk (the usual case): whole-array copies
      const t = targets[0], o = at.get(c.keys[0]!)!
      t.step.set(c.step, o); t.value.set(c.value, o); t.time.set(c.time, o)
      at.set(c.keys[0]!, o + c.value.length)
      continue
    }
    const pos = c.keys.map((k) => at.get(k) ?? 0)
    for (let i = 0; i < c.key.length; i++) {
      const ki = c.key[i]!
      const t = targets[ki]
      if (!t) continue
      const o = pos[ki]!++
      t.step[o] = c.step[i]!; t.value[o] = c.value[i]!; t.time[o] = c.time[i]!
    }
    c.keys.forEach((k, i) => { if (at.has(k)) at.set(k, pos[i]!) })
  }
  for (const [k, s] of out) out.set(k, sortColumns(s))
  return out
}

/** The points of a series, as objects. */
export function seriesPoints(key: string, s: SeriesColumns, indices?: ArrayLike<number>): MetricPoint[] {
  const n = indices ? indices.length : s.value.length
  const out: MetricPoint[] = new Array(n)
  for (let j = 0; j < n; j++) {
    const i = indices ? indices[j]! : j
    out[j] = { key, value: s.value[i]!, step: s.step[i]!, timestamp: s.time[i]! }
  }
  return out
}

/** A series downsampled to at most `maxPoints` by the site's rule (src/model/minmax.ts). */
export function sampleSeries(key: string, s: SeriesColumns, maxPoints: number): MetricSample {
  const n = s.value.length
  return { total: n, points: seriesPoints(key, s, n > maxPoints ? minMaxIndices({ x: { length: n } as ArrayLike<number>, y: s.value }, maxPoints) : undefined) }
}

/** Sorts by step then timestamp, keeping the order of equal pairs; the same columns when already sorted (the usual case), else a sorted copy. */
export function sortColumns(s: SeriesColumns): SeriesColumns {
  const n = s.value.length
  let sorted = true
  for (let i = 1; i < n && sorted; i++) sorted = s.step[i - 1]! < s.step[i]! || (s.step[i - 1] === s.step[i] && s.time[i - 1]! <= s.time[i]!)
  if (sorted) return s
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => s.step[a]! - s.step[b]! || s.time[a]! - s.time[b]! || a - b)
  const out: SeriesColumns = { step: new Float64Array(n), value: new Float64Array(n), time: new Float64Array(n) }
  idx.forEach((i, j) => { out.step[j] = s.step[i]!; out.value[j] = s.value[i]!; out.time[j] = s.time[i]! })
  return out
}

// ---- the sample on disk ----

const SAMPLE_VERSION = 1

/** Where the sample of a metrics folder (tree id) at `maxPoints` is kept. */
export function samplePath(gitdir: string, metricsTree: string, maxPoints: number): string {
  return join(gitdir, 'labbook', 'series', `v${SAMPLE_VERSION}`, metricsTree.slice(0, 2), `${metricsTree.slice(2)}-${maxPoints}.json`)
}

type StoredSample = Record<string, { n: number; s: number[]; v: Array<number | string>; t: number[] }>

/** The cached sample, or undefined when absent or unreadable (then it is made again). */
export function readStoredSample(file: string): Record<string, MetricSample> | undefined {
  let stored: StoredSample
  try {
    stored = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredSample
  } catch {
    return undefined
  }
  const out = keyed<MetricSample>()
  for (const [key, e] of Object.entries(stored)) {
    if (!e || !Array.isArray(e.s) || !Array.isArray(e.v) || !Array.isArray(e.t) || e.s.length !== e.v.length || e.t.length !== e.v.length) return undefined
    const points: MetricPoint[] = new Array(e.v.length)
    for (let i = 0; i < points.length; i++) {
      const value = numberFromJson(e.v[i])
      if (value === undefined) return undefined
      points[i] = { key, value, step: e.s[i]!, timestamp: e.t[i]! }
    }
    out[key] = { total: e.n, points }
  }
  return out
}

/** Writes the sample (temp file + rename: a reader sees all of it or none); a failure only costs the next reader time. */
export function storeSample(file: string, sample: Record<string, MetricSample>): void {
  const stored: StoredSample = {}
  for (const [key, m] of Object.entries(sample)) {
    stored[key] = { n: m.total, s: m.points.map((p) => p.step), v: m.points.map((p) => (Number.isFinite(p.value) ? p.value : JSON.parse(numberToJson(p.value)) as string)), t: m.points.map((p) => p.timestamp) }
  }
  const tmp = `${file}.${process.pid}.tmp`
  try {
    fs.mkdirSync(join(file, '..'), { recursive: true })
    fs.writeFileSync(tmp, JSON.stringify(stored))
    fs.renameSync(tmp, file)
  } catch {
    try { fs.rmSync(tmp, { force: true }) } catch { /* nothing to clean */ }
  }
}
