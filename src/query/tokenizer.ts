/** Filter text → tokens. Linear, no backtracking, browser-safe. */
import { filterError } from './error.js'

export type TokenType =
  | 'name' // bare word: metrics.acc, status, AND, TRUE
  | 'string' // 'single quoted'
  | 'dquote' // "double quoted": a key in field position, a string in value position
  | 'backtick' // `quoted key`
  | 'number'
  | 'op' // = == != <> < <= > >=
  | 'dot'
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'eof'

export interface Token {
  type: TokenType
  /** Decoded text: quotes removed and escapes resolved; operators normalised (`==` → `=`, `<>` → `!=`). */
  value: string
  start: number
  end: number
}

// Names start with a letter or "_" and may go on with letters, digits, marks and . - / : (MLflow key characters).
const NAME_START = /[\p{L}_]/u
const NAME_PART = /[\p{L}\p{N}\p{M}_.\-/:]/uy
const NUMBER = /[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/y
const OPS = ['<=', '>=', '!=', '<>', '==', '=', '<', '>']

/** What the tokenizer calls the input in messages ("filter" or "order-by"). */
export function tokenize(src: string, what = 'filter'): Token[] {
  const out: Token[] = []
  let i = 0
  const n = src.length
  while (i < n) {
    const c = src[i]
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || c === '\u00a0') {
      i++
      continue
    }
    const start = i
    if (c === "'" || c === '"' || c === '`') {
      const { value, end } = readQuoted(src, i, c, what)
      out.push({ type: c === "'" ? 'string' : c === '"' ? 'dquote' : 'backtick', value, start, end })
      i = end
      continue
    }
    if (c === '(' || c === ')' || c === ',') {
      out.push({ type: c === '(' ? 'lparen' : c === ')' ? 'rparen' : 'comma', value: c, start, end: i + 1 })
      i++
      continue
    }
    const op = OPS.find((o) => src.startsWith(o, i))
    if (op) {
      out.push({ type: 'op', value: op === '==' ? '=' : op === '<>' ? '!=' : op, start, end: i + op.length })
      i += op.length
      continue
    }
    if (isDigit(c) || ((c === '-' || c === '+' || c === '.') && isNumberAhead(src, i))) {
      NUMBER.lastIndex = i
      const m = NUMBER.exec(src)!
      const end = i + m[0].length
      NUMBER.lastIndex = 0
      if (end < n && isNamePart(src, end)) {
        throw filterError(src, start, end + 1, `"${src.slice(start, end + 1)}" is neither a number nor a name`,
          'Quote keys that start with a digit: metrics.`1st-loss`, and text values: \'abc\'.', what)
      }
      out.push({ type: 'number', value: m[0], start, end })
      i = end
      continue
    }
    if (c === '.') {
      out.push({ type: 'dot', value: '.', start, end: i + 1 })
      i++
      continue
    }
    const cp = src.codePointAt(i)!
    const ch = String.fromCodePoint(cp)
    if (NAME_START.test(ch)) {
      i += ch.length
      while (i < n && isNamePart(src, i)) i += src.codePointAt(i)! > 0xffff ? 2 : 1
      out.push({ type: 'name', value: src.slice(start, i), start, end: i })
      continue
    }
    throw filterError(src, start, start + ch.length, `unexpected character "${ch}"`,
      c === '!' ? 'Not-equal is written != (or <>); negate a condition with NOT.' : 'Quote keys with special characters in backticks: metrics.`val loss`.', what)
  }
  out.push({ type: 'eof', value: '', start: n, end: n })
  return out
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9'
}

function isNumberAhead(src: string, i: number): boolean {
  const next = src[i + 1]
  if (src[i] === '.') return isDigit(next)
  return isDigit(next) || (next === '.' && isDigit(src[i + 2]))
}

function isNamePart(src: string, i: number): boolean {
  NAME_PART.lastIndex = i
  return NAME_PART.test(src)
}

/**
 * A quoted run. Inside single and double quotes, a doubled quote ('it''s') or a backslash-escaped one ('it\'s') stands for the quote
 * and \\ for a backslash; any other backslash is kept (so 'C:\data' works). Backticks escape themselves by doubling.
 */
function readQuoted(src: string, start: number, q: string, what: string): { value: string; end: number } {
  let i = start + 1
  let value = ''
  const n = src.length
  while (i < n) {
    const c = src[i]
    if (c === '\\' && q !== '`' && (src[i + 1] === q || src[i + 1] === '\\')) {
      value += src[i + 1]
      i += 2
      continue
    }
    if (c === q) {
      if (src[i + 1] === q) {
        value += q
        i += 2
        continue
      }
      return { value, end: i + 1 }
    }
    value += c
    i++
  }
  const kind = q === "'" ? 'string' : q === '"' ? 'double-quoted text' : 'backtick-quoted key'
  throw filterError(src, start, start + 1, `unterminated ${kind}: no closing ${q}`, `Close it with ${q}; write a ${q} inside as ${q}${q}.`, what)
}
