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
import { numberFromJsonValue, numberToJsonValue } from '../model/json-numbers.js'
import { minMaxOfPieces } from '../model/minmax.js'
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

/** Chunks read ahead of the one being parsed: git inflates the next ones (on the other core) meanwhile. ≤ 1 MiB each. */
const READ_AHEAD = 8

/**
 * Chunk blobs as columns, in order, each parsed once per process (kept by blob id: a blob never changes). The
 * blobs not parsed yet are asked for READ_AHEAD ahead, so reading a long history overlaps git's inflating (another
 * process) with our parsing instead of waiting for each blob in turn.
 * @example const cols = await chunksColumns(objects, chunks, 'runs/ab/x/metrics')
 */
export async function chunksColumns(objects: ObjectStore, chunks: readonly TreeEntry[], dir: string): Promise<PointColumns[]> {
  const reads: Array<Promise<Buffer> | undefined> = new Array(chunks.length)
  let asked = 0
  const out: PointColumns[] = []
  for (let i = 0; i < chunks.length; i++) {
    for (; asked < chunks.length && asked <= i + READ_AHEAD; asked++) {
      if (parsed.has(chunks[asked]!.oid)) continue
      const read = objects.readBlob(chunks[asked]!.oid)
      read.catch(() => {}) // a failed read is reported when its turn comes; one after a failure is never awaited
      reads[asked] = read
    }
    const c = chunks[i]!
    const read = reads[i]
    reads[i] = undefined
    out.push(cachedChunk(c.oid) ?? rememberChunk(c.oid, decodeChunkColumns(await (read ?? objects.readBlob(c.oid)), `${dir}/${c.name}`)))
  }
  return out
}

function cachedChunk(oid: string): PointColumns | undefined {
  const hit = parsed.get(oid)
  if (hit) {
    parsed.delete(oid)
    parsed.set(oid, hit)
  }
  return hit
}

function rememberChunk(oid: string, c: PointColumns): PointColumns {
  const had = parsed.get(oid) // parsed meanwhile by another reader
  if (had) return had
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
  return joinColumns(await chunksColumns(objects, chunks, dir), onlyKey)
}

/**
 * Every metric of these chunks downsampled to at most `maxPoints` by the site's rule (src/model/minmax.ts), with
 * its total: what a page draws. When each chunk holds one metric and the points are in order (a long single-metric
 * history), the chunks' columns are sampled where they are, with no joined copy of the whole history; otherwise as
 * `historyColumns` then `sampleSeries`. Same answer either way.
 * @example const { total, points } = (await historySample(objects, chunks, dir, 1500)).loss!
 */
export async function historySample(objects: ObjectStore, chunks: TreeEntry[], dir: string, maxPoints: number): Promise<Record<string, MetricSample>> {
  const all = await chunksColumns(objects, chunks, dir)
  const out = keyed<MetricSample>()
  const pieces = new Map<string, PointColumns[]>()
  for (const c of all) {
    if (c.keys.length > 1) {
      for (const [k, s] of joinColumns(all)) out[k] = sampleSeries(k, s, maxPoints)
      return out
    }
    if (c.keys.length === 1) (pieces.get(c.keys[0]!) ?? pieces.set(c.keys[0]!, []).get(c.keys[0]!)!).push(c)
  }
  for (const [k, ps] of pieces) out[k] = inOrder(ps) ? samplePieces(k, ps, maxPoints) : sampleSeries(k, joinColumns(ps).get(k)!, maxPoints)
  return out
}

/** The chunks' columns as one sorted series per metric (copied out in chunk order). */
function joinColumns(all: readonly PointColumns[], onlyKey?: string): Map<string, SeriesColumns> {
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
  return samplePieces(key, [s], maxPoints)
}

/** sampleSeries of a series held in consecutive pieces (in order), indices counted across them. */
function samplePieces(key: string, pieces: readonly SeriesColumns[], maxPoints: number): MetricSample {
  let n = 0
  for (const s of pieces) n += s.value.length
  const idx = n > maxPoints ? minMaxOfPieces(pieces.map((s) => s.value), maxPoints) : undefined
  const m = idx ? idx.length : n
  const points: MetricPoint[] = new Array(m)
  let p = 0, base = 0
  for (let j = 0; j < m; j++) {
    const i = idx ? idx[j]! : j
    while (i - base >= pieces[p]!.value.length) base += pieces[p++]!.value.length
    const s = pieces[p]!, at = i - base
    points[j] = { key, value: s.value[at]!, step: s.step[at]!, timestamp: s.time[at]! }
  }
  return { total: n, points }
}

/** Whether the pieces, one after another, are sorted by step then timestamp (equal pairs allowed). */
function inOrder(pieces: readonly SeriesColumns[]): boolean {
  let first = true, ps = 0, pt = 0
  for (const s of pieces) {
    for (let i = 0; i < s.value.length; i++) {
      const st = s.step[i]!, t = s.time[i]!
      if (!first && !(ps < st || (ps === st && pt <= t))) return false
      first = false; ps = st; pt = t
    }
  }
  return true
}

/** Sorts by step then timestamp, keeping the order of equal pairs; the same columns when already sorted (the usual case), else a sorted copy. */
export function sortColumns(s: SeriesColumns): SeriesColumns {
  const n = s.value.length
  if (inOrder([s])) return s
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => s.step[a]! - s.step[b]! || s.time[a]! - s.time[b]! || a - b)
  const out: SeriesColumns = { step: new Float64Array(n), value: new Float64Array(n), time: new Float64Array(n) }
  idx.forEach((i, j) => { out.step[j] = s.step[i]!; out.value[j] = s.value[i]!; out.time[j] = s.time[i]! })
  return out
}

// ---- the sample on disk ----

/** 2: -0 is kept as the string "-0" (JSON.stringify writes it as 0); version 1 files are made again. */
const SAMPLE_VERSION = 2

/** Where the sample of a metrics folder (tree id) at `maxPoints` is kept. */
export function samplePath(gitdir: string, metricsTree: string, maxPoints: number): string {
  return join(gitdir, 'labbook', 'series', `v${SAMPLE_VERSION}`, metricsTree.slice(0, 2), `${metricsTree.slice(2)}-${maxPoints}.json`)
}

/** `v`: each value as `numberToJsonValue` writes it (a JSON number, or "NaN", "Infinity", "-Infinity", "-0"). */
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
      const value = numberFromJsonValue(e.v[i])
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
    stored[key] = { n: m.total, s: m.points.map((p) => p.step), v: m.points.map((p) => numberToJsonValue(p.value)), t: m.points.map((p) => p.timestamp) }
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
