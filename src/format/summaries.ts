/**
 * Run summary lines: one JSON object per run, as kept on the branch in `runs/<shard>/summaries.jsonl` and
 * `runs/<shard>/recent.jsonl` (format 2) and in the private index. Keys in a fixed order, params/tags/metrics
 * sorted, so one run always gives the same bytes. Metric summaries are arrays `[value, step, timestamp, min, max,
 * count]`; non-finite numbers are `{"$n":"NaN"}`. A removed run is a tombstone `{"id":"…","removed":true}`.
 * Browser-safe.
 */
import { numberFromJson } from '../model/json-numbers.js'
import { keyed, type MetricSummary, type RunSummary } from '../model/run.js'

/** The top-level scalar fields of a line, in the order they are written (source, params, tags, metrics follow). */
export const RUN_KEYS = ['id', 'name', 'experiment', 'status', 'lifecycle', 'startTime', 'endTime', 'user', 'host', 'parent', 'description'] as const

function sorted<T>(o: Record<string, T>): Record<string, T> {
  const out = keyed<T>()
  for (const k of Object.keys(o).sort()) out[k] = o[k]!
  return out
}

/** JSON.stringify replacer for non-finite numbers (`{"$n":"NaN"}`). */
export function summaryReplacer(_k: string, v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return { $n: Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity' }
  return v
}

/** The compact object of a run (metric summaries as arrays), keys in a fixed order. */
export function compactRun(run: RunSummary): CompactRun {
  const out: Record<string, unknown> = {}
  for (const k of RUN_KEYS) if (run[k] !== undefined) out[k] = run[k]
  out.source = sorted(run.source as Record<string, unknown>)
  out.params = sorted(run.params)
  out.tags = sorted(run.tags)
  const metrics = keyed<unknown[]>()
  for (const k of Object.keys(run.metrics).sort()) {
    const m = run.metrics[k]!
    metrics[k] = [m.value, m.step, m.timestamp, m.min, m.max, m.count]
  }
  out.metrics = metrics
  // MLflow's dataset inputs (run.yaml `datasets`), as logged; absent when none
  if (run.datasets?.length) out.datasets = run.datasets.map((d) => ({ ...d }))
  return out as CompactRun // id and startTime are among RUN_KEYS
}

/** One line (with its newline). The id comes first: `{"id":"<id>",…`. */
export function encodeSummaryLine(run: RunSummary): string {
  return JSON.stringify(compactRun(run), summaryReplacer) + '\n'
}

export function encodeTombstone(id: string): string {
  return `{"id":${JSON.stringify(id)},"removed":true}\n`
}

/** The run id of a line without parsing it (lines start with `{"id":"…"`). */
export function summaryLineId(line: string): string | undefined {
  if (!line.startsWith('{"id":"')) return undefined
  const end = line.indexOf('"', 7)
  return end < 0 ? undefined : line.slice(7, end)
}

/** A number of a summaries line as parsed: a plain number, or a non-finite one written `{"$n":…}` (summaryReplacer). */
export const summaryNumber = (v: unknown): number => (typeof v === 'number' ? v : numberFromJson((v as { $n?: unknown })?.$n) ?? NaN)

/**
 * A summaries line as JSON.parse gives it back (`compactRun`'s shape, not revived): the id and start time every line
 * has, the rest read where it is used (metric summaries are `[value, step, timestamp, min, max, count]`, non-finite
 * numbers `{"$n":…}`).
 */
export interface CompactRun { id: string; startTime: number; [field: string]: unknown }

/** A compact object back to a run summary (mutates and returns it: listing revives thousands of them). */
export function reviveRun(raw: CompactRun): RunSummary {
  const metrics: Record<string, MetricSummary> = keyed()
  const compact = (raw.metrics ?? {}) as Record<string, [unknown, number, number, unknown, unknown, number]>
  for (const k of Object.keys(compact)) {
    const a = compact[k]!
    metrics[k] = { value: summaryNumber(a[0]), step: a[1], timestamp: a[2], min: summaryNumber(a[3]), max: summaryNumber(a[4]), count: a[5] }
  }
  const params = keyed(raw.params as Record<string, unknown> | undefined)
  for (const k of Object.keys(params)) {
    const v = params[k]
    if (v !== null && typeof v === 'object') params[k] = summaryNumber(v)
  }
  raw.metrics = metrics
  raw.params = params
  raw.source ??= {}
  raw.tags = keyed(raw.tags as Record<string, string> | undefined)
  return raw as unknown as RunSummary
}

/** Parses a summaries file into id → run (null for a tombstone). Lines that do not parse are skipped and counted. */
export function decodeSummaries(text: string | Buffer, into: Map<string, RunSummary | null> = new Map()): { runs: Map<string, RunSummary | null>; bad: number } {
  const { rows, bad } = decodeSummaryBuffer(typeof text === 'string' ? Buffer.from(text) : text)
  for (const r of rows) into.set(r.id, r.raw === null ? null : reviveRun(r.raw))
  return { runs: into, bad }
}

/** One line of a summaries file: its run id, where its bytes are (without the newline), its compact object (null: a tombstone). */
export interface SummaryLine {
  id: string
  start: number
  end: number
  raw: CompactRun | null
}

/**
 * Parses the bytes of a summaries file into its lines in file order, each with its byte range and its compact
 * object, not revived (reviveRun makes a RunSummary of one): the listing table keeps the bytes (no line's string
 * outlives its parse) and indexes the objects. Lines that do not parse are skipped and counted. The bytes may come
 * in pieces (as git's pipe delivered them): ranges count over the pieces laid end to end.
 */
export function decodeSummaryBuffer(input: Buffer | readonly Buffer[]): { rows: SummaryLine[]; bad: number } {
  // One JSON.parse per line, on that line's bytes. Parsing the whole file as one array (lines joined by commas) was
  // as fast at 10,000 runs (~40 KB files) and 2.5-3x slower at 100,000 (~400 KB files: 2.2 s vs 0.8 s CPU for the
  // 97 MB of a fresh clone's summary files, each way in a fresh process), and a bad line made it parse twice.
  const rows: SummaryLine[] = []
  let bad = 0
  eachSummaryLine(input, (text, start, end) => {
    try {
      const raw = JSON.parse(text) as CompactRun | null
      if (typeof raw?.id !== 'string') throw new Error('no id')
      rows.push({ id: raw.id, start, end, raw: raw.removed === true ? null : raw })
    } catch {
      bad++
    }
  })
  return { rows, bad }
}

/**
 * Calls `line` with each non-empty line of a summaries file's bytes (decoded as UTF-8, without its newline) and where
 * its bytes are. The bytes may come in pieces (as git's pipe delivered them): ranges count over the pieces laid end
 * to end, and a line may span pieces.
 */
export function eachSummaryLine(input: Buffer | readonly Buffer[], line: (text: string, start: number, end: number) => void): void {
  const pieces = Buffer.isBuffer(input) ? [input] : input
  // a line begun in an earlier piece: its bytes so far, and where it starts
  let carry: Buffer[] = []
  let carryAt = 0
  let base = 0
  for (const buf of pieces) {
    let at = 0
    if (carry.length > 0) {
      const nl = buf.indexOf(10)
      if (nl < 0) {
        carry.push(buf)
        base += buf.length
        continue
      }
      const bytes = Buffer.concat([...carry, buf.subarray(0, nl)])
      if (bytes.length > 0) line(bytes.toString('utf8'), carryAt, base + nl)
      carry = []
      at = nl + 1
    }
    // the whole lines of this piece end at its last newline; what follows it is carried into the next piece
    const cut = buf.lastIndexOf(10) + 1
    if (cut > at) {
      // ASCII bytes (the usual case) are decoded once and their lines found and cut in the string (its offsets are
      // byte offsets): a Buffer indexOf and toString per line cost a cold 10,000-run listing more than half of what
      // its JSON.parse calls did. Same characters as decoding line by line. Decoded length equal to the byte length
      // with no U+FFFD means every byte was ASCII (a multi-byte sequence shortens it; an invalid byte is a U+FFFD).
      const text = buf.toString('utf8', at, cut)
      if (text.length === cut - at && !text.includes('\ufffd')) {
        for (let i = 0; i < text.length;) {
          const nl = text.indexOf('\n', i)
          if (nl > i) line(text.slice(i, nl), base + at + i, base + at + nl)
          i = nl + 1
        }
      } else {
        for (let i = at; i < cut;) {
          const nl = buf.indexOf(10, i)
          if (nl > i) line(buf.toString('utf8', i, nl), base + i, base + nl)
          i = nl + 1
        }
      }
      at = cut
    }
    if (at < buf.length) {
      carry.push(buf.subarray(at))
      carryAt = base + at
    }
    base += buf.length
  }
  // the last line, with no newline after it
  if (carry.length > 0) line(Buffer.concat(carry).toString('utf8'), carryAt, base)
}
