/** INVALID_FILTER errors that point at the offending text with a caret line. */
import { LabbookError } from '../errors.js'

const WINDOW = 72

/**
 * Builds the error for a problem at `start..end` (string offsets) of `source`.
 * The message reads: what is wrong, then the line with a caret under the token.
 */
export function filterError(source: string, start: number, end: number, problem: string, hint?: string, what = 'filter'): LabbookError {
  start = Math.max(0, Math.min(start, source.length))
  end = Math.max(start + 1, Math.min(end, source.length + 1))
  const lineStart = source.lastIndexOf('\n', start - 1) + 1
  let lineEnd = source.indexOf('\n', start)
  if (lineEnd < 0) lineEnd = source.length
  const line = source.slice(lineStart, lineEnd)
  const lineNo = source.slice(0, lineStart).split('\n').length
  const column = start - lineStart
  // Long filters show a window around the caret so the pointer stays readable.
  let from = 0
  if (line.length > WINDOW && column > WINDOW / 2) from = Math.min(column - Math.floor(WINDOW / 2), line.length - WINDOW)
  const shown = (from > 0 ? '…' : '') + line.slice(from, from + WINDOW) + (from + WINDOW < line.length ? '…' : '')
  const pad = column - from + (from > 0 ? 1 : 0)
  const width = Math.max(1, Math.min(end - start, lineEnd - start, WINDOW - (column - from)))
  const where = lineNo > 1 ? ` (line ${lineNo}, column ${column + 1})` : ` (column ${column + 1})`
  const message = `Invalid ${what}: ${problem}${where}\n  ${printable(shown)}\n  ${' '.repeat(pad)}${'^'.repeat(width)}`
  return new LabbookError('INVALID_FILTER', message, hint, { position: start, end, line: lineNo, column: column + 1, input: source, what })
}

// Tabs and control characters would shift the caret; show them as single visible characters.
function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\t' ? ' ' : '\u00b7'))
}
