import pc from 'picocolors'
import { hasNonFinite, nonFiniteReplacer } from '../src/model/json-numbers.js'
import { isLabbookError } from '../src/errors.js'
import type { CliIO, OutStream } from './io.js'

export type Colors = ReturnType<typeof pc.createColors>

/** Colour only on a terminal, never with NO_COLOR set (https://no-color.org) or TERM=dumb; FORCE_COLOR wins. */
export function colorsFor(stream: OutStream, env: NodeJS.ProcessEnv): Colors {
  const force = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0'
  const off = (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.TERM === 'dumb'
  return pc.createColors(force || (!off && stream.isTTY === true))
}

export function out(io: CliIO, text: string): void {
  io.stdout.write(text.endsWith('\n') ? text : text + '\n')
}

/** Messages (what was done, warnings) go to stderr so stdout stays data. */
export function say(io: CliIO, text: string): void {
  io.stderr.write(text.endsWith('\n') ? text : text + '\n')
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, hasNonFinite(value) ? nonFiniteReplacer : undefined, 2) + '\n'
}

export function formatAge(ms: number, now = Date.now()): string {
  const d = now - ms
  if (d < 60_000) return 'just now'
  if (d < 3_600_000) return `${Math.floor(d / 60_000)}m ago`
  if (d < 172_800_000) return `${Math.floor(d / 3_600_000)}h ago`
  if (d < 60 * 86_400_000) return `${Math.floor(d / 86_400_000)}d ago`
  return new Date(ms).toISOString().slice(0, 10)
}

export interface Column {
  header: string
  /** Right-align (numbers). */
  right?: boolean
  /** Colour applied after padding, so widths are computed on plain text. */
  color?: (plain: string) => string
  /** A column that may be dropped when the terminal is narrow (dropped from the right). */
  optional?: boolean
  /**
   * When the terminal is narrow, columns with the highest `drop` go first (the rightmost of equals first); a column
   * with neither `drop` nor `optional` always stays. `optional` alone counts as drop 1.
   */
  drop?: number
  /** Cells longer than this are cut with an ellipsis when fitting a terminal. */
  max?: number
}

/**
 * Renders rows as aligned columns. With `width` (a terminal), long cells are cut to their column's `max` and
 * droppable columns are dropped (highest `drop` first, then from the right) until the table fits; without it
 * (piped), nothing is cut. `dropped` words the line printed under the table when columns were dropped.
 */
/**
 * Text from the data as the terminal should show it: control characters (an ESC from a run name written by an old
 * version or another tool, a newline in a tag) become visible escapes instead of being interpreted.
 * @example printable('a\u001b[2Jb') // 'a\\u001b[2Jb'
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

export function renderTable(columns: Column[], rows: string[][], o: { width?: number; colors?: Colors; dropped?: (n: number) => string } = {}): string {
  let cols = columns.map((c, i) => ({ ...c, i }))
  const cell = (r: string[], i: number, c: Column) => {
    const v = printable(r[i] ?? '')
    return o.width !== undefined && c.max !== undefined && v.length > c.max ? v.slice(0, c.max - 1) + '…' : v
  }
  const widthOf = (c: (typeof cols)[number]) => Math.max(c.header.length, ...rows.map((r) => cell(r, c.i, c).length))
  let widths = cols.map(widthOf)
  if (o.width !== undefined) {
    const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1)
    const rank = (c: Column) => c.drop ?? (c.optional ? 1 : -1)
    while (total() > o.width) {
      let drop = -1
      for (let k = cols.length - 1; k >= 0; k--) if (rank(cols[k]!) >= 0 && (drop < 0 || rank(cols[k]!) > rank(cols[drop]!))) drop = k
      if (drop < 0) break
      cols = cols.filter((_, k) => k !== drop)
      widths = widths.filter((_, k) => k !== drop)
    }
  }
  const bold = o.colors?.bold ?? ((s: string) => s)
  const pad = (s: string, w: number, right?: boolean) => (right ? s.padStart(w) : s.padEnd(w))
  const lines = [cols.map((c, k) => bold(pad(c.header, widths[k]!, c.right))).join('  ').trimEnd()]
  for (const r of rows) {
    const parts = cols.map((c, k) => {
      const plain = cell(r, c.i, c)
      const padded = pad(plain, widths[k]!, c.right)
      return c.color && plain ? padded.replace(plain, c.color(plain)) : padded
    })
    lines.push(parts.join('  ').trimEnd())
  }
  const hidden = columns.length - cols.length
  if (hidden > 0 && o.dropped) lines.push((o.colors?.dim ?? ((x: string) => x))(o.dropped(hidden)))
  return lines.join('\n') + '\n'
}

/** The terminal's width for tables: the stream's own, else $COLUMNS, else 100; undefined when not a terminal. */
export function terminalWidth(io: CliIO): number | undefined {
  if (!io.stdout.isTTY) return undefined
  return io.stdout.columns || Number(io.env.COLUMNS) || 100
}

/**
 * A time for people: local time with its UTC offset (`2026-01-01 10:30:00 +01:00`), or UTC with `utc`
 * (`2026-01-01 09:30:00 UTC`).
 */
export function formatTime(ms: number, utc = false): string {
  const d = new Date(ms)
  if (Number.isNaN(d.getTime())) return String(ms)
  const p = (n: number) => String(n).padStart(2, '0')
  if (utc) return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`
  const off = -d.getTimezoneOffset()
  const sign = off < 0 ? '-' : '+'
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${sign}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`
}

/** `code: message`, then `hint: …`, on stderr; the stack (and causes) only with --verbose. */
export function printError(io: CliIO, e: unknown, verbose: boolean): void {
  const c = colorsFor(io.stderr, io.env)
  if (isLabbookError(e)) {
    say(io, `${c.red(c.bold(e.code))}: ${e.message}`)
    if (e.hint) say(io, `${c.dim('hint:')} ${e.hint}`)
  } else {
    const err = e as NodeJS.ErrnoException
    const code = typeof err?.code === 'string' ? err.code : 'INTERNAL'
    say(io, `${c.red(c.bold(code))}: ${err?.message ?? String(e)}`)
    if (!verbose) say(io, `${c.dim('hint:')} this looks like a bug or an environment problem; run again with --verbose for the stack trace.`)
  }
  if (verbose) {
    let cur: unknown = e
    let depth = 0
    while (cur instanceof Error && depth < 5) {
      say(io, c.dim((depth ? 'caused by: ' : '') + (cur.stack ?? String(cur))))
      cur = cur.cause
      depth++
    }
  }
}
