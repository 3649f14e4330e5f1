/** Tokens → FilterAst. Recursive descent with MLflow's typing rules checked here, so a bad filter fails before any run is read. */
import type { CompareOp, FieldRef, FilterAst, Literal } from './ast.js'
import { formatField } from './ast.js'
import { filterError } from './error.js'
import { DATASET_FIELDS, attributeKey, fieldType, prefixKind } from './fields.js'
import { type Token, tokenize } from './tokenizer.js'

/** Parentheses deeper than this are refused (a guard against stack exhaustion, not a real-world limit). */
export const MAX_DEPTH = 64

const EXAMPLE_HINT = 'A filter looks like: metrics.acc > 0.9 AND params.model = \'cnn\' OR status = \'FAILED\'.'
const FIELD_HINT = 'Fields are metrics.<key>, params.<key>, tags.<key> or attributes such as status, run_name, start_time, source.commit; quote odd keys: metrics.`val loss`.'
const OPERATOR_HINT = 'Operators: = != < <= > >= LIKE ILIKE IN NOT IN IS NULL IS NOT NULL.'
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'LIKE', 'ILIKE', 'IS', 'NULL', 'TRUE', 'FALSE'])

/**
 * Parses an MLflow-style filter (plus OR, NOT, parentheses and IS [NOT] NULL) into an AST; throws LabbookError INVALID_FILTER.
 * @example parseFilter("metrics.acc > 0.9 AND params.model = 'cnn'")
 */
export function parseFilter(text: string): FilterAst {
  if (typeof text !== 'string') throw filterError('', 0, 0, `expected text, got ${typeof text}`)
  const p = new Parser(text, tokenize(text))
  if (p.peek().type === 'eof') return { type: 'all' }
  const ast = p.expr(0)
  const t = p.peek()
  if (t.type !== 'eof') {
    if (t.type === 'rparen') throw p.err(t, 'unbalanced ")": nothing to close', 'Remove it or add the matching "(".')
    throw p.err(t, `expected AND, OR or the end of the filter, found ${p.describe(t)}`, 'Join conditions with AND or OR. ' + EXAMPLE_HINT)
  }
  return ast
}

/**
 * Parses one field reference as used by order-by and `--columns`: `metrics.acc`, ``params.`learning rate` ``, `start_time`.
 * @example parseFieldRef('metrics.`val loss`') // { kind: 'metric', key: 'val loss' }
 */
export function parseFieldRef(text: string): FieldRef {
  const p = new Parser(text, tokenize(text, 'field'), 'field')
  const f = p.field().field
  const t = p.peek()
  if (t.type !== 'eof') throw p.err(t, `unexpected ${p.describe(t)} after ${formatField(f)}`, FIELD_HINT)
  return f
}

/**
 * Parses a comma-separated list of fields, as `labbook ls --columns` takes it; commas inside quoted keys are part of the key.
 * @example parseFieldList('params.lr, metrics.`val,acc`, status') // three FieldRefs
 */
export function parseFieldList(text: string): FieldRef[] {
  const p = new Parser(text, tokenize(text, 'column list'), 'column list')
  const out: FieldRef[] = []
  if (p.peek().type === 'eof') return out
  for (;;) {
    out.push(p.field().field)
    const t = p.next()
    if (t.type === 'eof') return out
    if (t.type !== 'comma') throw p.err(t, `expected "," or the end after ${formatField(out[out.length - 1])}, found ${p.describe(t)}`, 'Example: params.lr,metrics.acc,status')
  }
}

export class Parser {
  private i = 0
  constructor(readonly src: string, readonly toks: Token[], readonly what = 'filter') {}

  peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]
  }
  next(): Token {
    const t = this.peek()
    if (this.i < this.toks.length - 1) this.i++
    return t
  }
  isWord(t: Token, w: string): boolean {
    return t.type === 'name' && t.value.toUpperCase() === w
  }
  err(t: Token, problem: string, hint?: string) {
    return filterError(this.src, t.start, t.end, problem, hint, this.what)
  }
  describe(t: Token): string {
    switch (t.type) {
      case 'eof': return 'the end of the filter'
      case 'string': return `'${t.value}'`
      case 'dquote': return `"${t.value}"`
      case 'backtick': return `\`${t.value}\``
      default: return `"${this.src.slice(t.start, t.end)}"`
    }
  }

  /** OR has the lowest precedence, then AND, then NOT. */
  expr(depth: number): FilterAst {
    if (depth > MAX_DEPTH) throw this.err(this.peek(), `parentheses nested more than ${MAX_DEPTH} deep`, 'Simplify the filter.')
    const items = [this.conj(depth)]
    while (this.isWord(this.peek(), 'OR')) {
      this.next()
      items.push(this.conj(depth))
    }
    return items.length === 1 ? items[0] : { type: 'or', items: items.flatMap((a) => (a.type === 'or' ? a.items : [a])) }
  }

  conj(depth: number): FilterAst {
    const items = [this.unary(depth)]
    while (this.isWord(this.peek(), 'AND')) {
      this.next()
      items.push(this.unary(depth))
    }
    return items.length === 1 ? items[0] : { type: 'and', items: items.flatMap((a) => (a.type === 'and' ? a.items : [a])) }
  }

  unary(depth: number): FilterAst {
    // A loop, not recursion: "NOT NOT NOT …" must not grow the stack.
    let nots = 0
    while (this.isWord(this.peek(), 'NOT')) {
      this.next()
      nots++
    }
    const inner = this.primary(depth)
    if (nots % 2 === 0) return inner
    return inner.type === 'not' ? inner.item : { type: 'not', item: inner }
  }

  primary(depth: number): FilterAst {
    const t = this.peek()
    if (t.type === 'lparen') {
      this.next()
      if (this.peek().type === 'rparen') throw this.err(this.peek(), 'empty parentheses', EXAMPLE_HINT)
      const e = this.expr(depth + 1)
      const close = this.peek()
      if (close.type !== 'rparen') {
        throw this.err(close, `expected ")" to close the "(" at column ${t.start + 1}, found ${this.describe(close)}`, 'Join conditions with AND or OR inside parentheses.')
      }
      this.next()
      return e
    }
    return this.comparison()
  }

  /** FIELD [.KEY]: entity-prefixed keys, quoted keys, or bare/quoted attribute names. */
  field(): { field: FieldRef; tok: Token; end: number } {
    const t = this.peek()
    const adjacent = (a: Token, b: Token) => a.end === b.start
    const isKeyTok = (k: Token) => k.type === 'name' || k.type === 'backtick' || k.type === 'dquote' || k.type === 'number'
    if (t.type === 'eof') throw this.err(t, 'expected a field such as metrics.acc, found the end of the filter', FIELD_HINT)
    if (t.type === 'name') {
      if (KEYWORDS.has(t.value.toUpperCase())) throw this.err(t, `expected a field such as metrics.acc, found the keyword ${t.value.toUpperCase()}`, FIELD_HINT)
      this.next()
      const dot = t.value.indexOf('.')
      if (dot > 0) {
        const prefix = t.value.slice(0, dot)
        const rest = t.value.slice(dot + 1)
        const kind = prefixKind(prefix)
        if (kind) {
          let key = rest
          let end = t.end
          if (rest === '') {
            const k = this.peek()
            if ((k.type === 'backtick' || k.type === 'dquote') && adjacent(t, k)) {
              this.next()
              key = k.value
              end = k.end
            } else throw this.err(k.type === 'eof' || !adjacent(t, k) ? t : k, `expected a key after "${t.value}"`, FIELD_HINT)
          }
          return { field: this.resolve(kind, key, t, end), tok: t, end }
        }
      }
      // A bare attribute (status, created) or one of ours with a dot (source.commit).
      return { field: this.resolve('attribute', t.value, t, t.end), tok: t, end: t.end }
    }
    if (t.type === 'backtick' || t.type === 'dquote') {
      this.next()
      const d = this.peek()
      // `params`.lr and "params"."lr": a quoted entity type, as MLflow allows.
      if (d.type === 'dot' && adjacent(t, d)) {
        const kind = prefixKind(t.value)
        const k = this.peek(1)
        if (!kind) throw this.err(t, `unknown field type "${t.value}"`, FIELD_HINT)
        if (!isKeyTok(k) || !adjacent(d, k)) throw this.err(d, `expected a key after "${this.src.slice(t.start, d.end)}"`, FIELD_HINT)
        this.next()
        this.next()
        const key = k.type === 'name' || k.type === 'number' ? this.src.slice(k.start, k.end) : k.value
        return { field: this.resolve(kind, key, t, k.end), tok: t, end: k.end }
      }
      return { field: this.resolve('attribute', t.value, t, t.end), tok: t, end: t.end }
    }
    throw this.err(t, `expected a field such as metrics.acc, found ${this.describe(t)}`, FIELD_HINT)
  }

  private resolve(kind: ReturnType<typeof prefixKind>, key: string, t: Token, end: number): FieldRef {
    const at = { ...t, end }
    if (kind === 'dataset') {
      const k = key.toLowerCase()
      if (!(DATASET_FIELDS as readonly string[]).includes(k)) throw this.err(at, `unknown dataset field "${key}"`, `Dataset fields: ${DATASET_FIELDS.map((f) => 'datasets.' + f).join(', ')}.`)
      return { kind: 'dataset', key: k }
    }
    if (kind === 'attribute') {
      const canonical = attributeKey(key)
      if (!canonical) {
        const prefixed = prefixKind(key)
        if (prefixed && prefixed !== 'attribute') throw this.err(at, `expected a key after "${key}", as in ${key}.acc`, FIELD_HINT)
        const guess = /^[\p{L}_][\p{L}\p{N}_]*$/u.test(key) ? `Did you mean params.${key}, metrics.${key} or tags.${key}? ` : ''
        throw this.err(at, `unknown attribute "${key}"`, guess + FIELD_HINT)
      }
      return { kind: 'attribute', key: canonical }
    }
    if (key === '') throw this.err(at, 'empty key', FIELD_HINT)
    return { kind: kind!, key }
  }

  comparison(): FilterAst {
    const { field, tok } = this.field()
    const name = formatField(field)
    const type = fieldType(field)
    const opTok = this.peek()
    // IS [NOT] NULL
    if (this.isWord(opTok, 'IS')) {
      this.next()
      let negated = false
      if (this.isWord(this.peek(), 'NOT')) {
        this.next()
        negated = true
      }
      const n = this.peek()
      if (!this.isWord(n, 'NULL')) throw this.err(n, `expected NULL after "IS${negated ? ' NOT' : ''}", found ${this.describe(n)}`, `Write ${name} IS NULL or ${name} IS NOT NULL.`)
      this.next()
      return { type: 'null', field, negated }
    }
    let negated = false
    if (this.isWord(opTok, 'NOT')) {
      const after = this.peek(1)
      if (!this.isWord(after, 'IN') && !this.isWord(after, 'LIKE') && !this.isWord(after, 'ILIKE')) {
        throw this.err(after, `expected IN, LIKE or ILIKE after "${name} NOT", found ${this.describe(after)}`, OPERATOR_HINT)
      }
      this.next()
      negated = true
    }
    const o = this.peek()
    if (this.isWord(o, 'LIKE') || this.isWord(o, 'ILIKE')) {
      this.next()
      const word = o.value.toUpperCase()
      if (type === 'number' || type === 'boolean') {
        throw this.err(o, `${word} matches text, but ${name} is a ${type}`, type === 'number' ? `Compare numbers with = != < <= > >=, e.g. ${name} >= 0.5.` : `Write ${name} = TRUE.`)
      }
      const v = this.peek()
      if (v.type !== 'string' && v.type !== 'dquote') throw this.err(v, `expected a quoted pattern after ${name} ${word}, found ${this.describe(v)}`, `Example: ${name} ${word} 'resnet%' (% any text, _ one character).`)
      this.next()
      return { type: 'like', field, caseInsensitive: word === 'ILIKE', negated, pattern: v.value }
    }
    if (this.isWord(o, 'IN')) {
      this.next()
      return { type: 'in', field, negated, values: this.list(field, name) }
    }
    if (o.type !== 'op') {
      throw this.err(o, `expected an operator after ${this.src.slice(tok.start, o.start).trimEnd() || name}, found ${this.describe(o)}`, OPERATOR_HINT)
    }
    this.next()
    const op = o.value as CompareOp
    const v = this.peek()
    const value = this.literal(field, name, op)
    if (typeof value === 'string' && op !== '=' && op !== '!=') {
      const numeric = type === 'number' ? '' : type === 'text' ? ` Use a number literal to compare numerically: ${name} ${op} 0.01.` : ''
      throw this.err(v, `${op} needs a number, but ${name} ${op} ${this.describe(v)} compares text`, `Text compares with = != LIKE ILIKE IN.${numeric}`)
    }
    if (typeof value === 'boolean' && op !== '=' && op !== '!=') throw this.err(o, `${op} cannot compare TRUE/FALSE`, `Write ${name} = TRUE or ${name} = FALSE.`)
    return { type: 'compare', field, op, value }
  }

  /** One right-hand value, type-checked against the field. */
  literal(field: FieldRef, name: string, op: string): Literal {
    const v = this.peek()
    const type = fieldType(field)
    let value: Literal
    if (v.type === 'number') {
      value = Number(v.value)
      if (!Number.isFinite(value)) throw this.err(v, `${this.describe(v)} is too large for a number`, 'Numbers are 64-bit floats (up to about 1.8e308).')
    }
    else if (v.type === 'string' || v.type === 'dquote') value = v.value
    else if (v.type === 'name' && (this.isWord(v, 'TRUE') || this.isWord(v, 'FALSE'))) value = this.isWord(v, 'TRUE')
    else if (v.type === 'backtick') throw this.err(v, `backticks quote keys, not values: ${this.describe(v)}`, `Quote text values in single quotes: ${name} ${op} '${v.value}'.`)
    else if (this.isWord(v, 'NULL')) throw this.err(v, `${name} ${op} NULL is never true`, `Write ${name} IS NULL or ${name} IS NOT NULL.`)
    else if (v.type === 'name') throw this.err(v, `expected a value after ${name} ${op}, found the bare word ${this.describe(v)}`, `Quote text values: ${name} ${op} '${v.value}'.`)
    else throw this.err(v, `expected a value after ${name} ${op}, found ${this.describe(v)}`, `Example: ${name} ${op} ${type === 'number' ? '0.5' : "'value'"}.`)
    this.next()
    if (type === 'number' && typeof value !== 'number') {
      throw this.err(v, `${name} is a number, so it cannot be compared with ${this.describe(v)}`, `Write a number without quotes: ${name} ${op} 0.5.`)
    }
    if (type === 'boolean') {
      if (value === 'true' || value === 'false') value = value === 'true'
      if (typeof value !== 'boolean') throw this.err(v, `${name} is TRUE or FALSE, not ${this.describe(v)}`, `Write ${name} = TRUE or ${name} = FALSE.`)
    }
    if (type === 'text' && typeof value === 'boolean') {
      throw this.err(v, `${name} is text; quote the value`, `Write ${name} ${op} '${v.value.toLowerCase()}'.`)
    }
    if (type === 'string' && typeof value !== 'string') {
      throw this.err(v, `${name} is text, so compare it with a quoted value, not ${this.describe(v)}`, `Write ${name} ${op} '${this.src.slice(v.start, v.end)}'.`)
    }
    return value
  }

  /** ( value, value, … ) */
  list(field: FieldRef, name: string): Literal[] {
    const open = this.peek()
    if (open.type !== 'lparen') throw this.err(open, `expected a list in parentheses after ${name} IN, found ${this.describe(open)}`, `Example: ${name} IN ('a', 'b').`)
    this.next()
    const values: Literal[] = []
    for (;;) {
      values.push(this.literal(field, name, 'IN'))
      const t = this.next()
      if (t.type === 'rparen') return values
      if (t.type !== 'comma') throw this.err(t, `expected "," or ")" in the IN list, found ${this.describe(t)}`, `Example: ${name} IN ('a', 'b').`)
    }
  }
}
