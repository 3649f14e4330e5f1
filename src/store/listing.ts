/**
 * The listing table: every run summary of one `runs/` tree, kept as the summary lines themselves (in listRuns order:
 * newest first) plus one column per field (attributes, each metric's latest value, each param and tag). A query
 * reads the few columns its filter and order name, picks its rows, and parses only those rows' lines, so
 * `ls --filter … --limit 50` over 100,000 runs never builds 100,000 run objects.
 *
 * Saved under `.git/labbook/listing/<runs tree id>.bin` (docs/format.md "Private state"): keyed by content, so it
 * can never be stale (a new run changes the runs tree id, so a new tip that changed runs gets a new file); losing it
 * loses nothing (the next listing rebuilds it from the branch). Written to a temp name and renamed.
 */
import fs from 'node:fs'
import { join } from 'node:path'
import { reviveRun, summaryNumber, summaryReplacer, type CompactRun } from '../format/summaries.js'
import type { DamagedRun } from '../model/book.js'
import type { RunSummary } from '../model/run.js'
import { columnGetter, lineScanner, type LineScan, type ScannedLine } from '../format/summary-scan.js'


/**
 * One field over the rows: `rows` lists the rows that have it (ascending; absent when every row has it) and
 * `values` their values, Float64Array when all are numbers.
 */
export interface Column {
  rows?: Uint32Array
  values: Float64Array | unknown[]
}

/** Attribute columns, by the RunSummary property they hold (`source.commit` is run.source.commit). */
export const ATTRIBUTE_COLUMNS = ['id', 'name', 'status', 'user', 'startTime', 'endTime', 'lifecycle', 'experiment', 'parent', 'source.commit', 'source.branch', 'source.dirty'] as const
export type AttributeColumn = (typeof ATTRIBUTE_COLUMNS)[number]

/** Column names: an attribute column, or `m:`/`p:`/`t:` plus a metric, param or tag key. */
export type ColumnName = AttributeColumn | `m:${string}` | `p:${string}` | `t:${string}`

/**
 * A summary line as build() takes it: its bytes are `bytes[start, end)` (no newline), `raw` its compact object.
 * `bytes` may be pieces (as git's pipe delivered a file): the range counts over them laid end to end.
 */
export interface LineSource { raw: CompactRun; bytes: Buffer | readonly Buffer[]; start: number; end: number }

const MAGIC = 'LBLIST1\n'
const FILE_VERSION = 1
/** Listing files kept: the newest few (a reader of an older revision keeps its own). */
const KEEP_FILES = 3

/** Rows' lines read one by one from a loaded file before the whole lines section is read instead. */
const LINE_READS = 256

/** The lines section of a loaded file: `read(at, len)` reads bytes of it. */
interface LinesInFile { len: number; reads: number; read: (at: number, len: number) => Buffer }

/** Closes a loaded table's file when the table is collected. */
const closeWhenCollected = new FinalizationRegistry<number>((fd) => { try { fs.closeSync(fd) } catch { /* closed */ } })

/**
 * Where the lines section starts in a file written while its table was built (ListingFile): the header before it is
 * padded with spaces to this length (JSON allows them), so the lines can be written before the header is known.
 */
const STREAMED_BODY_AT = 64 * 1024
/** A temp file older than this in the listing directory was left by a process that died while building (removed). */
const STALE_TEMP_MS = 60 * 60 * 1000

/** Writes all of `b` at `pos` of `fd` (writeSync may write less than asked). */
function writeAt(fd: number, b: Buffer, pos: number): void {
  for (let i = 0; i < b.length;) i += fs.writeSync(fd, b, i, b.length - i, pos + i)
}

/** The disk refused the lines of a listing file being written while its table was built (internal: never surfaces). */
export class ListingWriteError extends Error {}

/**
 * A listing file being written while its table is built from the branch: each summary file's bytes go to the temp file
 * as git delivers them, at STREAMED_BODY_AT, and are not kept in memory (a fresh clone's 100,000 runs are ~97 MB of
 * lines; holding them cost a cold listing a fault per fresh page, ~0.3-0.5 s, and writing them at the end ~0.2 s).
 * The table reads the lines of the rows it returns back from the file; save() writes the rest and renames it.
 */
export class ListingFile {
  private written = 0

  private constructor(private readonly tmp: string, private readonly fd: number) {}

  /** A new temp file under `dir` for the table of `key`; undefined when it cannot be made (a read-only .git). */
  static create(dir: string, key: string): ListingFile | undefined {
    try {
      fs.mkdirSync(dir, { recursive: true })
      const tmp = join(dir, `${key}.bin.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`)
      return new ListingFile(tmp, fs.openSync(tmp, 'w+'))
    } catch {
      return undefined
    }
  }

  /** Appends bytes to the lines section (ListingWriteError when the disk refuses them: build in memory instead). */
  append(piece: Buffer): void {
    try {
      writeAt(this.fd, piece, STREAMED_BODY_AT + this.written)
    } catch (e) {
      throw new ListingWriteError((e as Error).message, { cause: e })
    }
    this.written += piece.length
  }

  /** The lines section written so far, as a table reads it. */
  lines(): LinesInFile {
    const fd = this.fd
    return {
      len: this.written,
      reads: 0,
      read: (at, len) => {
        const b = Buffer.from(new ArrayBuffer(len))
        if (fs.readSync(fd, b, 0, len, STREAMED_BODY_AT + at) !== len) throw new RangeError('short read')
        return b
      },
    }
  }

  /**
   * Writes the header and `tail` (the sections after the lines, laid out from the lines' end) and renames the file to
   * `<key>.bin`; false when the header does not fit before the lines (the caller writes the whole file instead). The
   * descriptor stays open for the table's reads, closed when the table is collected.
   */
  finish(table: ListingTable, header: (linesLen: number) => { head: Buffer; tail: Buffer[] }, file: string): boolean {
    const { head, tail } = header(this.written)
    if (MAGIC.length + 4 + head.length > STREAMED_BODY_AT) return false
    let at = STREAMED_BODY_AT + this.written
    for (const part of tail) {
      writeAt(this.fd, part, at)
      at += part.length
    }
    const lead = Buffer.alloc(STREAMED_BODY_AT, 0x20)
    lead.write(MAGIC, 'latin1')
    lead.writeUInt32LE(STREAMED_BODY_AT - MAGIC.length - 4, MAGIC.length)
    head.copy(lead, MAGIC.length + 4)
    writeAt(this.fd, lead, 0)
    fs.renameSync(this.tmp, file)
    closeWhenCollected.register(table, this.fd)
    return true
  }

  /** Closes and removes the temp file (the table was built another way, or holds its lines in memory now). */
  discard(): void {
    try { fs.closeSync(this.fd) } catch { /* closed */ }
    this.removeTemp()
  }

  /** Removes the temp file's name (an open descriptor still reads it). */
  removeTemp(): void {
    try { fs.rmSync(this.tmp, { force: true }) } catch { /* best effort */ }
  }
}

interface Section { at: number; len: number }
interface ColumnHead { rows?: Section; f64?: Section; json?: Section; dict?: Section; codes?: Section; wide?: boolean }
interface Header { v: number; key: string; n: number; damaged: DamagedRun[]; lines: Section; spans: Section; columns: Record<string, ColumnHead> }

export class ListingTable {
  /** Columns decoded from the file or computed from the rows, by name (null: no row has the field). */
  private readonly columns = new Map<string, Column | null>()
  /** The compact object of each row, once parsed (a column neither the file nor the build holds was asked for). */
  private raws: Array<CompactRun> | undefined
  private bases: number[] | undefined
  /** Whether a column was computed that the file does not hold yet (save() then writes it). */
  dirty = false
  /** The file its lines were written to while it was built, until save() completes it. */
  private pending: ListingFile | undefined

  private constructor(
    /** The runs tree id it lists. */
    readonly key: string,
    /** Rows (runs, deleted ones included). */
    readonly n: number,
    /**
     * The summary lines, in no particular order: the summary files as read, one segment each (never copied into one
     * buffer), or the file's one segment. A span is an offset into the segments laid end to end. A table loaded
     * from its file reads them from there: the lines of the rows asked for, all of them once many are.
     */
    private segments: Buffer[] | LinesInFile,
    /** Where row r's line is in `lines`: bytes [spans[2r], spans[2r+1]). */
    private readonly spans: Uint32Array,
    readonly damaged: DamagedRun[],
    /** Decodes a column the file holds (undefined: the file lacks it). */
    private readonly stored: (name: string) => Column | null | undefined = () => undefined,
    private readonly storedNames: readonly string[] = [],
  ) {}

  /**
   * A field's column; undefined when no row has the field. Decoded from the file on first use, or computed from the
   * rows' lines when the file does not hold it (a field no earlier query named): the next save() keeps it.
   */
  column(name: ColumnName): Column | undefined {
    if (!this.columns.has(name)) this.prepare([name])
    return this.columns.get(name) ?? undefined
  }

  /** The full run summary of one row (parses its line). */
  run(row: number): RunSummary {
    return reviveRun(this.raw(row))
  }

  private raw(row: number): CompactRun {
    const start = this.spans[2 * row]!, end = this.spans[2 * row + 1]!
    const inFile = this.segments
    if (!Array.isArray(inFile)) {
      // a few rows (the answer to a limited query): their lines only; many: the whole lines section once
      if (inFile.reads++ < LINE_READS) return JSON.parse(inFile.read(start, end - start).toString('utf8'))
      this.segments = [inFile.read(0, inFile.len)]
    }
    const segments = this.segments as Buffer[]
    // the segment holding `start`: binary search over where each begins
    const bases = (this.bases ??= segments.reduce<number[]>((b, seg, i) => (b.push(i === 0 ? 0 : b[i - 1]! + segments[i - 1]!.length), b), []))
    let lo = 0, hi = bases.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (bases[mid]! <= start) lo = mid
      else hi = mid - 1
    }
    const seg = segments[lo]!
    if (end - bases[lo]! <= seg.length) return JSON.parse(seg.toString('utf8', start - bases[lo]!, end - bases[lo]!))
    // a line that runs on into the next segments (a file read in pieces)
    const bytes: Buffer[] = []
    for (let i = lo, at = start; at < end; i++) {
      const from = at - bases[i]!
      const to = Math.min(segments[i]!.length, end - bases[i]!)
      bytes.push(segments[i]!.subarray(from, to))
      at += to - from
    }
    return JSON.parse(Buffer.concat(bytes).toString('utf8'))
  }

  private rows(): Array<CompactRun> {
    if (!this.raws) {
      this.raws = new Array(this.n)
      for (let i = 0; i < this.n; i++) this.raws[i] = this.raw(i)
    }
    return this.raws
  }

  /**
   * Builds the table from summary lines (the bytes `bytes[start, end)`, without the newline) and their compact
   * objects (src/format/summaries.ts), in any order: rows are put in listRuns order (start time newest first, then
   * id descending). The `names` columns are computed now, others when first asked for. (A reader building from the
   * branch uses ListingBuilder directly, so no compact object outlives its line.)
   */
  static build(key: string, rows: LineSource[], damaged: DamagedRun[], names: readonly ColumnName[] = []): ListingTable {
    const b = new ListingBuilder(names)
    for (const r of rows) b.add(r.raw, r.bytes, r.start, r.end)
    return b.finish(key, damaged)
  }

  /** @internal ListingBuilder's constructor of a table (its columns already computed). */
  static fromBuilt(key: string, segments: Buffer[] | ListingFile, spans: Uint32Array, damaged: DamagedRun[], columns: Map<string, Column | null>): ListingTable {
    const inFile = segments instanceof ListingFile
    const table = new ListingTable(key, spans.length / 2, inFile ? segments.lines() : segments, spans, damaged)
    if (inFile) table.pending = segments
    for (const [name, c] of columns) table.columns.set(name, c)
    table.dirty = true
    return table
  }

  /**
   * Computes every column of `names` the table does not hold yet, in one pass over the rows (parsing their lines
   * once if this process has not), so a query naming several new fields reads the lines once, not once a field.
   */
  prepare(names: readonly ColumnName[]): void {
    const missing: ColumnName[] = []
    for (const name of new Set(names)) {
      if (this.columns.has(name)) continue
      const c = this.stored(name)
      if (c === undefined) missing.push(name)
      else this.columns.set(name, c)
    }
    if (missing.length === 0) return
    const raws = this.rows()
    const b = new ListingBuilder(missing)
    for (let i = 0; i < raws.length; i++) b.gatherRow(raws[i]!)
    const identity = new Uint32Array(this.n)
    for (let i = 0; i < this.n; i++) identity[i] = i
    for (const [name, c] of b.columnsIn(identity)) this.columns.set(name, c)
    this.dirty = true
  }

  /** The table as file bytes (see decode). */
  encode(): Buffer {
    return Buffer.concat(this.encodeParts())
  }

  private encodeParts(): Buffer[] {
    // the segments end to end, as the spans count
    if (!Array.isArray(this.segments)) this.segments = [this.segments.read(0, this.segments.len)]
    const linesLen = this.segments.reduce((n, seg) => n + seg.length, 0)
    const { head, tail } = this.header(linesLen)
    const prefix = Buffer.alloc(MAGIC.length + 4)
    prefix.write(MAGIC, 'latin1')
    prefix.writeUInt32LE(head.length, MAGIC.length)
    // sections are 8-aligned relative to the body, and the body starts 8-aligned in the file
    const lead = Buffer.concat([prefix, head])
    const pad = Buffer.alloc((8 - (lead.length % 8)) % 8)
    return [lead, pad, ...this.segments, ...tail]
  }

  /**
   * The header (JSON) and the sections after the lines (row spans, then columns, each 8-aligned), for a body whose
   * lines section is its first `linesLen` bytes.
   */
  private header(linesLen: number): { head: Buffer; tail: Buffer[] } {
    const tail: Buffer[] = []
    let at = linesLen
    const section = (b: Buffer): Section => {
      const pad = (8 - (at % 8)) % 8
      if (pad) { tail.push(Buffer.alloc(pad)); at += pad }
      tail.push(b)
      const s = { at, len: b.length }
      at += b.length
      return s
    }
    const bytes = (a: Uint32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)
    const lines = { at: 0, len: linesLen }
    const spans = section(bytes(this.spans))
    const columns: Record<string, ColumnHead> = {}
    const names = new Set([...this.storedNames, ...this.columns.keys()])
    for (const name of names) {
      const c = this.column(name as ColumnName) ?? { rows: new Uint32Array(0), values: [] }
      const head: ColumnHead = {}
      if (c.rows) head.rows = section(bytes(c.rows))
      if (c.values instanceof Float64Array) head.f64 = section(bytes(c.values))
      else {
        // few distinct values (status, experiment, a param of a sweep): a dictionary and one code per row
        const ids = new Map<unknown, number>()
        for (const v of c.values) {
          if (ids.has(v)) continue
          if (ids.size > c.values.length / 4) break
          ids.set(v, ids.size)
        }
        if (ids.size <= c.values.length / 4) {
          const wide = ids.size > 0xffff
          const codes = wide ? new Uint32Array(c.values.length) : new Uint16Array(c.values.length)
          for (let i = 0; i < c.values.length; i++) codes[i] = ids.get(c.values[i])!
          head.dict = section(Buffer.from(JSON.stringify([...ids.keys()], summaryReplacer)))
          head.codes = section(Buffer.from(codes.buffer, codes.byteOffset, codes.byteLength))
          if (wide) head.wide = true
        } else head.json = section(Buffer.from(JSON.stringify(c.values, summaryReplacer)))
      }
      columns[name] = head
    }
    const header: Header = { v: FILE_VERSION, key: this.key, n: this.n, damaged: this.damaged, lines, spans, columns }
    return { head: Buffer.from(JSON.stringify(header)), tail }
  }

  /** Reads a table from file bytes; undefined when they are not a listing file of this version for `key`. */
  static decode(file: Buffer, key: string): ListingTable | undefined {
    return ListingTable.open(file.length, (at, len) => file.subarray(at, at + len), key)
  }

  /**
   * The saved table for `key` under `dir`, if there is a good one. Only its header and row spans are read now; a
   * column when a query asks for it, and a row's line when the row is returned (the lines are ~90% of the file).
   */
  static load(dir: string, key: string): ListingTable | undefined {
    let fd: number
    try {
      fd = fs.openSync(join(dir, `${key}.bin`), 'r')
    } catch {
      return undefined
    }
    let keep = false
    try {
      const size = fs.fstatSync(fd).size
      // a fresh ArrayBuffer per read: 8-aligned for the typed arrays over it
      const read = (at: number, len: number) => {
        const b = Buffer.from(new ArrayBuffer(len))
        if (fs.readSync(fd, b, 0, len, at) !== len) throw new RangeError('short read')
        return b
      }
      const table = ListingTable.open(size, read, key)
      // The file stays open while the table lives: rows' lines are read from it (a save renames a new file over
      // it, and a replaced or pruned file stays readable through its descriptor).
      if (table) { keep = true; closeWhenCollected.register(table, fd) }
      return table
    } catch {
      return undefined
    } finally {
      if (!keep) fs.closeSync(fd)
    }
  }

  /** A table over a file of `size` bytes that `read(at, len)` reads; undefined when it is not one for `key`. */
  private static open(size: number, read: (at: number, len: number) => Buffer, key: string): ListingTable | undefined {
    if (size < MAGIC.length + 4) return undefined
    const prefix = read(0, MAGIC.length + 4)
    if (prefix.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined
    const headLen = prefix.readUInt32LE(MAGIC.length)
    if (MAGIC.length + 4 + headLen > size) return undefined
    let head: Header
    try {
      head = JSON.parse(read(MAGIC.length + 4, headLen).toString('utf8'))
    } catch {
      return undefined
    }
    if (head.v !== FILE_VERSION || head.key !== key) return undefined
    const lead = MAGIC.length + 4 + headLen
    const bodyAt = lead + ((8 - (lead % 8)) % 8)
    const bodyLen = size - bodyAt
    const check = (s: Section) => {
      if (!(s.at >= 0 && s.len >= 0 && s.at + s.len <= bodyLen)) throw new RangeError('section out of range')
      return s
    }
    // typed arrays need 8-aligned offsets: bytes that do not start at one are copied once
    const section = (s: Section) => {
      const b = read(bodyAt + check(s).at, s.len)
      return b.byteOffset % 8 === 0 ? b : Buffer.from(b)
    }
    try {
      const lines = check(head.lines)
      const sp = section(head.spans)
      const spans = new Uint32Array(sp.buffer, sp.byteOffset, sp.length / 4)
      if (spans.length !== 2 * head.n) return undefined
      for (let i = 0; i < spans.length; i += 2) if (!(spans[i]! <= spans[i + 1]! && spans[i + 1]! <= lines.len)) return undefined
      // a column the file cannot give (damaged since it was opened) is computed from the lines instead
      const source = (name: string): Column | null | undefined => {
        try {
          return stored(name)
        } catch {
          return undefined
        }
      }
      const stored = (name: string): Column | null | undefined => {
        if (!Object.hasOwn(head.columns, name)) return undefined
        const c = head.columns[name]!
        const json = (x: Section) => reviveValues(JSON.parse(section(x).toString('utf8')))
        let values: Float64Array | unknown[]
        if (c.f64) {
          const b = section(c.f64)
          values = new Float64Array(b.buffer, b.byteOffset, b.length / 8)
        } else if (c.dict && c.codes) {
          const dict = json(c.dict)
          const b = section(c.codes)
          const codes = c.wide ? new Uint32Array(b.buffer, b.byteOffset, b.length / 4) : new Uint16Array(b.buffer, b.byteOffset, b.length / 2)
          values = new Array(codes.length)
          for (let i = 0; i < codes.length; i++) values[i] = dict[codes[i]!]
        } else values = json(c.json!)
        if (values.length === 0) return null
        const rows = c.rows && section(c.rows)
        return { rows: rows ? new Uint32Array(rows.buffer, rows.byteOffset, rows.length / 4) : undefined, values }
      }
      const linesInFile: LinesInFile = { len: lines.len, reads: 0, read: (at, len) => read(bodyAt + lines.at + at, len) }
      return new ListingTable(key, head.n, linesInFile, spans, head.damaged ?? [], source, Object.keys(head.columns))
    } catch {
      return undefined
    }
  }

  /** Saves the table under `dir` (best effort: a read-only .git still lists) and drops all but the newest few. */
  save(dir: string): void {
    try {
      fs.mkdirSync(dir, { recursive: true })
      const file = join(dir, `${this.key}.bin`)
      const pending = this.pending
      this.pending = undefined
      // the lines are in the file already (written while the table was built): add the header and the rest
      if (pending) {
        let done = false
        try {
          done = pending.finish(this, (len) => this.header(len), file)
        } catch {
          pending.removeTemp() // the table still reads its lines through the open descriptor
          return
        }
        if (done) {
          this.dirty = false
          this.prune(dir)
          return
        }
      }
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
      const fd = fs.openSync(tmp, 'w')
      try {
        let pos = 0
        for (const part of this.encodeParts()) { writeAt(fd, part, pos); pos += part.length }
      } finally {
        fs.closeSync(fd)
      }
      fs.renameSync(tmp, file)
      pending?.discard()
      this.dirty = false
      this.prune(dir)
    } catch { /* the listing file is a cache; without it the next listing reads the branch again */ }
  }

  /** Drops all but the newest few files, and temp files left by processes that died while writing one. */
  private prune(dir: string): void {
    const now = Date.now()
    const files = fs.readdirSync(dir).map((f) => ({ f, t: fs.statSync(join(dir, f)).mtimeMs }))
    for (const { f, t } of files) if (f.endsWith('.tmp') && now - t > STALE_TEMP_MS) fs.rmSync(join(dir, f), { force: true })
    const old = files.filter(({ f }) => f.endsWith('.bin')).sort((a, b) => b.t - a.t)
    for (const { f } of old.slice(KEEP_FILES)) fs.rmSync(join(dir, f), { force: true })
  }
}

/**
 * Gathers a listing table line by line, as the summary files are parsed: each line's place and, from its compact
 * object, the start time and id (for the row order) and the values of the named columns. The compact object is not
 * kept, so a cold listing holds the lines' bytes and a few columns, never every run's parsed object at once.
 */
export class ListingBuilder {
  /** Where each file's bytes begin in the lines section (weak: a file written to `file` is not kept). */
  private readonly base = new WeakMap<Buffer | readonly Buffer[], number>()
  private readonly parts: Buffer[] = []
  private total = 0
  private readonly at: number[] = []
  private readonly starts: number[] = []
  private readonly ids: string[] = []
  private readonly cols: Array<{ name: string; get: (raw: CompactRun) => unknown; src: number[]; values: unknown[]; numbers: boolean }>
  /** Rows gathered so far. */
  private count = 0

  /**
   * @param names the columns computed while the lines are added
   * @param file where the lines go as they are added (ListingFile), instead of being kept in memory
   */
  constructor(names: readonly ColumnName[], private readonly file?: ListingFile) {
    this.cols = [...new Set(names)].map((name) => ({ name, get: columnGetter(name), src: [], values: [], numbers: true }))
  }

  /** One line: its bytes `bytes[start, end)` (no newline; over pieces laid end to end) and its compact object. */
  add(raw: CompactRun, bytes: Buffer | readonly Buffer[], start: number, end: number): void {
    this.place(bytes, start, end, raw.startTime, raw.id)
    this.gatherRow(raw)
  }

  /** One line as this builder's scanner read it (not a tombstone), and its bytes as add() takes them. */
  addScanned(line: ScannedLine, bytes: Buffer | readonly Buffer[], start: number, end: number): void {
    this.place(bytes, start, end, line.startTime, line.id)
    this.gatherValues(line.values!)
  }

  /** Reads summary lines for this builder's columns, in its order (addScanned takes what it gives). */
  scanner(): LineScan {
    return lineScanner(this.cols.map((c) => c.name as ColumnName))
  }

  private place(bytes: Buffer | readonly Buffer[], start: number, end: number, startTime: number, id: string): void {
    let b = this.base.get(bytes)
    if (b === undefined) {
      b = this.total
      this.base.set(bytes, b)
      for (const piece of Buffer.isBuffer(bytes) ? [bytes] : bytes) {
        if (this.file) this.file.append(piece)
        else this.parts.push(piece)
        this.total += piece.length
      }
      if (this.total > 0xffffffff) throw new RangeError('listing larger than 4 GB')
    }
    this.at.push(b + start, b + end)
    this.starts.push(startTime)
    this.ids.push(id)
  }

  /** @internal the named columns' values of the next row. */
  gatherRow(raw: CompactRun): void {
    this.gatherValues(this.cols.map((c) => c.get(raw)))
  }

  /** The next row's values of the named columns, in their order (undefined: the row lacks the field). */
  private gatherValues(values: readonly unknown[]): void {
    const i = this.count++
    for (let k = 0; k < this.cols.length; k++) {
      const c = this.cols[k]!
      const v = values[k]
      if (v === undefined) continue
      c.src.push(i)
      c.values.push(v)
      if (typeof v !== 'number') c.numbers = false
    }
  }

  /** The table: rows in listRuns order (start time newest first, then id descending). */
  finish(key: string, damaged: DamagedRun[]): ListingTable {
    const n = this.starts.length
    const { starts, ids } = this
    const order = Array.from({ length: n }, (_, i) => i)
    order.sort((a, b) => starts[b]! - starts[a]! || (ids[a]! < ids[b]! ? 1 : ids[a]! > ids[b]! ? -1 : 0))
    const spans = new Uint32Array(2 * n)
    const rank = new Uint32Array(n)
    for (let row = 0; row < n; row++) {
      const src = order[row]!
      rank[src] = row
      spans[2 * row] = this.at[2 * src]!
      spans[2 * row + 1] = this.at[2 * src + 1]!
    }
    return ListingTable.fromBuilt(key, this.file ?? this.parts, spans, damaged, this.columnsIn(rank))
  }

  /** @internal the gathered columns, each row placed at `rank[its index]`. */
  columnsIn(rank: Uint32Array): Map<string, Column | null> {
    const n = rank.length
    const out = new Map<string, Column | null>()
    for (const c of this.cols) {
      const m = c.src.length
      if (m === 0) { out.set(c.name, null); continue }
      // by row, then the rows that have the field in ascending order
      const slot = new Int32Array(n).fill(-1)
      for (let j = 0; j < m; j++) slot[rank[c.src[j]!]!] = j
      const rows = m === n ? undefined : new Uint32Array(m)
      const values: Float64Array | unknown[] = c.numbers ? new Float64Array(m) : new Array(m)
      let k = 0
      for (let row = 0; row < n; row++) {
        const j = slot[row]!
        if (j < 0) continue
        if (rows) rows[k] = row
        values[k++] = c.values[j] as number
      }
      out.set(c.name, { rows, values })
    }
    return out
  }
}

function reviveValues(values: unknown[]): unknown[] {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v !== null && typeof v === 'object') values[i] = summaryNumber(v)
  }
  return values
}
