import { LabbookError } from '../errors.js'
import type { MetricPoint } from '../model/run.js'
import { decimalEnd, scanDecimal } from './decimal.js'
import { numberFromJson, numberToJson } from '../model/json-numbers.js'

/**
 * Metric history chunks: one point per line, `{"k":key,"v":value,"s":step,"t":timestamp}`.
 * Short keys keep a million points near 50 MB raw; the spelling is documented in docs/format.md.
 */
export function encodePoint(key: string, value: number, step: number, timestamp: number): string {
  return pointPrefix(key) + pointValueStep(value, step) + pointTimestamp(timestamp)
}

/*
 * The same line in three pieces, for the hot path (Run.logMetric at ~1 µs a point): a writer keeps the prefix of
 * each key and the timestamp piece of the current millisecond, and spells only the middle per point.
 */

/** `{"k":key,"v":` */
export function pointPrefix(key: string): string {
  return `{"k":${JSON.stringify(key)},"v":`
}

/** `value,"s":step` (non-finite values as the strings src/model/json-numbers.ts uses) */
export function pointValueStep(value: number, step: number): string {
  return (value === value && value !== Infinity && value !== -Infinity && value !== 0 ? value : numberToJson(value)) + ',"s":' + step
}

/** `,"t":timestamp}` and the newline */
export function pointTimestamp(timestamp: number): string {
  return ',"t":' + timestamp + '}\n'
}

/** Parses a chunk into points (see decodeChunkColumns, which does the reading). */
export function decodeChunk(text: string | Uint8Array, where = 'chunk'): MetricPoint[] {
  const c = decodeChunkColumns(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, where)
  const out: MetricPoint[] = new Array(c.value.length)
  for (let i = 0; i < out.length; i++) out[i] = { key: c.keys[c.key[i]!]!, value: c.value[i]!, step: c.step[i]!, timestamp: c.time[i]! }
  return out
}

/** A chunk as columns: point i is key `keys[key[i]]`, `value[i]`, `step[i]`, timestamp `time[i]`, in line order. */
export interface PointColumns {
  keys: string[]
  key: Uint32Array
  value: Float64Array
  step: Float64Array
  time: Float64Array
}

/** Whether buf[a, a+len) equals buf[b, b+len): a key is a few bytes, and Buffer.compare costs more per call than this loop. */
function sameBytes(buf: Uint8Array, a: number, b: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (buf[a + i] !== buf[b + i]) return false
  return true
}

/**
 * Metric names as small numbers, for readers that keep points in columns: a run of lines with the same key makes
 * no string (the last key's bytes are compared in place). `keys` only grows, so an index handed out stays valid.
 */
export class KeyTable {
  readonly keys: string[] = []
  private readonly index = new Map<string, number>()
  private lastBuf: Uint8Array | undefined
  private lastStart = -1
  private lastLen = -1
  private last = 0

  /** The index of the key spelled (JSON-escape-free) at buf[a, b). */
  of(buf: Buffer, a: number, b: number): number {
    if (b - a === this.lastLen && this.lastBuf === buf && sameBytes(buf, a, this.lastStart, this.lastLen)) return this.last
    const k = this.name(buf.toString('utf8', a, b))
    this.lastBuf = buf; this.lastStart = a; this.lastLen = b - a; this.last = k
    return k
  }

  /** The index of a key given as a string. */
  name(key: string): number {
    let k = this.index.get(key)
    if (k === undefined) this.index.set(key, (k = this.keys.push(key) - 1))
    return k
  }
}

/**
 * The fast path of reading a point line: whether buf[a, b) (one line, without its newline) is spelled exactly as
 * `encodePoint` spells it, `{"k":"<key>","v":<number or "NaN"…>,"s":<number>,"t":<number>}`; its parts are then in
 * `scanned` (module state: no object per line). Numbers are read by scanDecimal (src/format/decimal.ts), which
 * rounds as JSON.parse does. False for any other spelling: the caller reads the line with JSON.parse.
 */
export function scanPointLine(buf: Buffer, a: number, b: number): boolean {
  if (!(b - a > 24 && buf[a] === 123 && buf[a + 1] === 34 && buf[a + 2] === 107 && buf[a + 3] === 34 && buf[a + 4] === 58 && buf[a + 5] === 34)) return false
  const k0 = a + 6
  let q = k0
  while (q < b && buf[q] !== 34 && buf[q] !== 92 && buf[q]! >= 32) q++
  if (!(q < b && buf[q] === 34 && field(buf, q + 1, 118))) return false
  const v = buf[q + 6] === 34 ? special(buf, q + 6) : scanNumber(buf, q + 6, b)
  if (Number.isNaN(v) && scanEnd === 0) return false
  const vEnd = scanEnd
  const s = field(buf, vEnd, 115) ? scanNumber(buf, vEnd + 5, b) : NaN
  const sEnd = scanEnd
  if (Number.isNaN(s) || !field(buf, sEnd, 116)) return false
  const t = scanNumber(buf, sEnd + 5, b)
  if (Number.isNaN(t) || buf[scanEnd] !== 125 || !(scanEnd + 1 === b || (scanEnd + 2 === b && buf[b - 1] === 13))) return false
  scanned.keyStart = k0; scanned.keyEnd = q; scanned.value = v; scanned.step = s; scanned.time = t
  return true
}

/** What the last successful `scanPointLine` read: the key's byte range and the three numbers. */
export const scanned = { keyStart: 0, keyEnd: 0, value: 0, step: 0, time: 0 }

/**
 * Reads a chunk into columns, with no object or string per point: lines spelled as `encodePoint` spells them go
 * through `scanPointLine`; any other line goes through JSON.parse, so every valid spelling reads and a bad line is an
 * error naming it. ~4× faster than JSON.parse of the chunk as one array (docs/benchmarks.md "Live pages").
 * @example const c = decodeChunkColumns(await objects.readBlob(oid), 'runs/ab/x/metrics/000000.jsonl')
 */
export function decodeChunkColumns(bytes: Uint8Array, where = 'chunk'): PointColumns {
  let end = bytes.length
  while (end > 0 && (bytes[end - 1] === 10 || bytes[end - 1] === 13 || bytes[end - 1] === 32 || bytes[end - 1] === 9)) end--
  let n = end === 0 ? 0 : 1
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, end)
  for (let p = buf.indexOf(10); p >= 0; p = buf.indexOf(10, p + 1)) n++
  const table = new KeyTable()
  const cols: PointColumns = { keys: table.keys, key: new Uint32Array(n), value: new Float64Array(n), step: new Float64Array(n), time: new Float64Array(n) }
  let a = 0
  for (let i = 0; i < n; i++) {
    let b = buf.indexOf(10, a)
    if (b < 0) b = end
    if (scanPointLine(buf, a, b)) {
      cols.key[i] = table.of(buf, scanned.keyStart, scanned.keyEnd); cols.value[i] = scanned.value; cols.step[i] = scanned.step; cols.time[i] = scanned.time
    } else {
      let row: unknown
      try {
        row = JSON.parse(buf.toString('utf8', a, b))
      } catch (e) {
        throw new LabbookError('CORRUPT_DATA', `${where}:${i + 1} is not valid JSON.`, 'The branch holds a damaged metric chunk; check `git log` of the branch.', { where, line: i + 1 }, { cause: e })
      }
      const p = toPoint(row, where, i + 1)
      cols.key[i] = table.name(p.key); cols.value[i] = p.value; cols.step[i] = p.step; cols.time[i] = p.timestamp
    }
    a = b + 1
  }
  return cols
}

/** Where the last scanNumber/special stopped (0 when it failed). Module state keeps the hot loop free of allocations. */
let scanEnd = 0

/** `,"<name>":` at `at` (name one byte). */
function field(buf: Uint8Array, at: number, name: number): boolean {
  return buf[at] === 44 && buf[at + 1] === 34 && buf[at + 2] === name && buf[at + 3] === 34 && buf[at + 4] === 58
}

/** A JSON number at `at` (strict grammar, src/format/decimal.ts); NaN with scanEnd = 0 when it is not one (the caller takes the slow path). */
function scanNumber(buf: Buffer, at: number, limit: number): number {
  const v = scanDecimal(buf, at, limit)
  scanEnd = decimalEnd
  return v
}

/** `"NaN"`, `"Infinity"` or `"-Infinity"` at `at` (the spelling of src/model/json-numbers.ts); NaN with scanEnd = 0 otherwise. */
function special(buf: Buffer, at: number): number {
  for (const [text, v] of SPECIALS) {
    if (buf.length >= at + text.length && buf.toString('latin1', at, at + text.length) === text) {
      scanEnd = at + text.length
      return v
    }
  }
  scanEnd = 0
  return NaN
}
const SPECIALS: Array<[string, number]> = [['"NaN"', NaN], ['"Infinity"', Infinity], ['"-Infinity"', -Infinity]]

/** A parsed point line as a MetricPoint, or undefined when it is not one. */
export function decodePointRow(row: unknown): MetricPoint | undefined {
  if (row === null || typeof row !== 'object') return undefined
  const r = row as { k?: unknown; v?: unknown; s?: unknown; t?: unknown }
  const value = numberFromJson(r.v)
  if (typeof r.k !== 'string' || value === undefined || typeof r.s !== 'number' || typeof r.t !== 'number') return undefined
  return { key: r.k, value, step: r.s, timestamp: r.t }
}

function toPoint(row: unknown, where: string, line: number): MetricPoint {
  const point = decodePointRow(row)
  if (!point) throw new LabbookError('CORRUPT_DATA', `${where}:${line} is not a metric point {"k","v","s","t"}.`, 'The branch holds a damaged metric chunk; `git log -p` on the branch shows who changed it.', { where, line })
  return point
}
