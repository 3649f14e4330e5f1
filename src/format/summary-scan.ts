/**
 * The named fields of summary lines (summaries.ts, the format's owner: the key order comes from its RUN_KEYS), read without building each line's object: what a cold
 * listing does with every line of a fresh clone (issue 17: JSON.parse of 100,000 lines, ~30 numbers each, was most
 * of a cold `ls`). A line of the shape encodeSummaryLine writes is checked whole by one regular expression (every
 * string, number, bracket and key of that shape, keys without escapes), and each named field is read where its key
 * is. Any other line (a tombstone, datasets, an escaped key, another key order, a bad line), and every line when a
 * named key could be misread (`$n`, a key JSON would escape), goes through JSON.parse and columnGetter, as before.
 * Both ways give the same answer for any line (test/format/summary-scan.test.ts).
 */
import { numberFromJson } from '../model/json-numbers.js'
import { RUN_KEYS, summaryNumber, type CompactRun } from './summaries.js'

/** One line as a listing needs it: its run id, start time, and the named fields' values (undefined: absent). */
export interface ScannedLine {
  id: string
  startTime: number
  /** By the scanner's names; null for a tombstone (the run was removed). */
  values: unknown[] | null
}

/** Reads one line (its text, without the newline); undefined when it is not a summary line (skipped, as a bad line). */
export type LineScan = (text: string) => ScannedLine | undefined

/** How a column reads a compact summary object (metric summaries are arrays, non-finite numbers `{"$n":…}`). */
export function columnGetter(name: string): (raw: CompactRun) => unknown {
  const own = (o: unknown, k: string) => (o !== null && typeof o === 'object' && Object.hasOwn(o, k) ? (o as Record<string, unknown>)[k] : undefined)
  const kind = name.slice(0, 2)
  const key = name.slice(2)
  // a metric summary that is not an array (a hand-edited line) reads as NaN, never throws
  if (kind === 'm:') return (raw) => { const a = own(raw.metrics, key) as unknown[] | null | undefined; return a === undefined ? undefined : summaryNumber(a?.[0]) }
  if (kind === 'p:') return (raw) => { const v = own(raw.params, key); return v !== null && typeof v === 'object' ? summaryNumber(v) : v }
  if (kind === 't:') return (raw) => own(raw.tags, key)
  if (name.startsWith('source.')) { const k = name.slice(7); return (raw) => own(raw.source, k) }
  return (raw) => own(raw, name)
}

// The shape encodeSummaryLine writes (compactRun's keys, in its order), as JSON's grammar spells each part.
const STR = String.raw`"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"`
const KEY = String.raw`"[^"\\\x00-\x1f]*"`
const NUM = String.raw`-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?`
const NONFINITE = `\\{"\\$n":${STR}\\}`
const SCALAR = `(?:${STR}|${NUM}|true|false|null)`
const object = (value: string) => `\\{(?:${KEY}:${value}(?:,${KEY}:${value})*)?\\}`
const METRIC = `\\[(?:${NUM}|${NONFINITE})(?:,(?:${NUM}|${NONFINITE}))*\\]`
/** Top-level fields and the capture group holding each (source, params, tags, metrics are whole objects). */
const TOP = [...RUN_KEYS, 'source', 'params', 'tags', 'metrics'] as const
/** compactRun's scalar fields as written: id and startTime always there, the times numbers, the rest strings. */
const scalarField = (k: (typeof RUN_KEYS)[number], i: number) => {
  const part = `${i === 0 ? '' : ','}"${k}":(${k === 'startTime' || k === 'endTime' ? NUM : STR})`
  return k === 'id' || k === 'startTime' ? part : `(?:${part})?`
}
const CANONICAL = new RegExp(
  `^\\{${RUN_KEYS.map(scalarField).join('')}` +
  `,"source":(${object(SCALAR)}),"params":(${object(`(?:${SCALAR}|${NONFINITE})`)}),"tags":(${object(STR)}),"metrics":(${object(METRIC)})\\}$`,
)
const group = (field: (typeof TOP)[number]) => TOP.indexOf(field) + 1
/** A value where a key's colon ends: a string, a number, a literal, or a non-finite number. */
const VALUE = new RegExp(`(${STR})|(${NUM})|(true|false|null)|\\{"\\$n":(${STR})\\}`, 'y')

// JSON.parse, not a slice: a slice of the line would keep the whole decoded piece of the file alive as long as the
// value (column values and run ids outlive the parse).
const jsonString = (s: string) => JSON.parse(s) as string

/** The value that starts at `at` of a validated section (VALUE's alternatives, as JSON.parse + summaryNumber read them). */
function valueAt(text: string, at: number): unknown {
  VALUE.lastIndex = at
  const m = VALUE.exec(text)!
  if (m[1] !== undefined) return jsonString(m[1])
  if (m[2] !== undefined) return +m[2]
  if (m[3] !== undefined) return m[3] === 'true' ? true : m[3] === 'false' ? false : null
  return numberFromJson(jsonString(m[4]!)) ?? NaN
}

/** Reads one field of a line CANONICAL matched (`m` its groups). */
type FastRead = (m: RegExpExecArray) => unknown

/**
 * The fast read of a column, or undefined when the column must go through JSON.parse. In a line CANONICAL matched,
 * every string followed by a colon is a key without a backslash, so `"key":` occurs in a section only where that key
 * is (JSON.parse keeps the last of duplicate keys: so does lastIndexOf), except for the `$n` inside non-finite numbers.
 */
function fastRead(name: string): FastRead | undefined {
  const kind = name.slice(0, 2)
  const section = kind === 'm:' ? 'metrics' : kind === 'p:' ? 'params' : kind === 't:' ? 'tags' : name.startsWith('source.') ? 'source' : undefined
  if (section === undefined) {
    const g = (TOP as readonly string[]).indexOf(name) + 1
    if (g === 0 || g >= group('source')) return undefined
    if (name === 'startTime' || name === 'endTime') return (m) => (m[g] === undefined ? undefined : +m[g]!)
    return (m) => (m[g] === undefined ? undefined : jsonString(m[g]!))
  }
  const key = section === 'source' ? name.slice(7) : name.slice(2)
  if (key === '$n' || !/^[^"\\\x00-\x1f]*$/.test(key)) return undefined
  const g = group(section)
  const needle = `"${key}":${section === 'metrics' ? '[' : ''}`
  return (m) => {
    const text = m[g]!
    const at = text.lastIndexOf(needle)
    return at < 0 ? undefined : valueAt(text, at + needle.length)
  }
}

/**
 * A reader of summary lines for the columns `names`: what JSON.parse and columnGetter give (a line without a string
 * id is bad: undefined; a tombstone has values null), reading most lines without JSON.parse.
 * @example lineScanner(['lifecycle', 'm:acc'])('{"id":"r1","lifecycle":"active","startTime":1,…}')?.values // ['active', 0.9]
 */
export function lineScanner(names: readonly string[]): LineScan {
  const getters = names.map(columnGetter)
  const slow: LineScan = (text) => {
    let raw: CompactRun | null
    try {
      raw = JSON.parse(text) as CompactRun | null
    } catch {
      return undefined
    }
    if (typeof raw?.id !== 'string') return undefined
    if (raw.removed === true) return { id: raw.id, startTime: raw.startTime, values: null }
    return { id: raw.id, startTime: raw.startTime, values: getters.map((get) => get(raw)) }
  }
  const reads = names.map(fastRead)
  if (reads.some((r) => r === undefined)) return slow
  const fast = reads as FastRead[]
  return (text) => {
    const m = CANONICAL.exec(text)
    if (m === null) return slow(text)
    const values = new Array<unknown>(fast.length)
    for (let i = 0; i < fast.length; i++) values[i] = fast[i]!(m)
    return { id: jsonString(m[1]!), startTime: +m[group('startTime')]!, values }
  }
}
