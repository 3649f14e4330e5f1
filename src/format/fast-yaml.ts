/**
 * A fast reader for the YAML that labbook itself writes (block mappings two levels deep, flow mappings of scalars,
 * plain / single- / double-quoted scalars), ~20× faster than the general parser. It returns undefined on anything
 * outside that subset, and callers then use the `yaml` package. A differential test checks it against `yaml` on
 * random documents, and every document labbook writes is verified to read back exactly through it.
 */

const NULL = /^(?:~|[Nn]ull|NULL)?$/
const BOOL_TRUE = /^(?:[Tt]rue|TRUE)$/
const BOOL_FALSE = /^(?:[Ff]alse|FALSE)$/
const INT = /^[-+]?[0-9]+$/
const INT_OCT = /^0o[0-7]+$/
const INT_HEX = /^0x[0-9a-fA-F]+$/
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/
const FLOAT_SPECIAL = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/
const FAIL = Symbol('fail')

type Value = unknown

export function fastParseYaml(text: string): Record<string, Value> | undefined {
  const lines = text.split('\n')
  const root: Record<string, Value> = {}
  let nested: Record<string, Value> | undefined
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!
    if (line.endsWith('\r')) return undefined
    if (line === '' || line.startsWith('#')) continue
    let target = root
    if (line.startsWith('  ')) {
      if (!nested || line.startsWith('   ')) return undefined
      target = nested
      line = line.slice(2)
    } else nested = undefined
    const kv = splitKey(line)
    if (!kv) return undefined
    const [key, rest] = kv
    if (Object.prototype.hasOwnProperty.call(target, key) || key === '__proto__') return undefined
    if (rest === '') {
      if (target !== root) return undefined // deeper nesting: not ours
      const next = lines[i + 1]
      if (next !== undefined && next.startsWith('  ')) {
        nested = {}
        root[key] = nested
      } else root[key] = null
      continue
    }
    const v = rest.startsWith('{') ? flowMap(rest) : scalar(rest)
    if (v === FAIL) return undefined
    target[key] = v
  }
  return root
}

function splitKey(line: string): [string, string] | undefined {
  if (line.startsWith('"') || line.startsWith("'")) {
    const end = quotedEnd(line, 0)
    if (end < 0 || line[end + 1] !== ':') return undefined
    const key = scalar(line.slice(0, end + 1))
    if (typeof key !== 'string') return undefined
    const rest = line.slice(end + 2)
    if (rest !== '' && !rest.startsWith(' ')) return undefined
    return [key, rest.slice(1)]
  }
  const colon = line.indexOf(': ')
  const key = colon < 0 ? (line.endsWith(':') ? line.slice(0, -1) : undefined) : line.slice(0, colon)
  if (key === undefined || key === '' || !plainOk(key)) return undefined
  const resolved = plain(key)
  if (typeof resolved !== 'string') return undefined
  return [key, colon < 0 ? '' : line.slice(colon + 2)]
}

/** Index of the closing quote of the quoted scalar starting at `start`, or -1. */
function quotedEnd(s: string, start: number): number {
  const q = s[start]
  for (let i = start + 1; i < s.length; i++) {
    if (q === '"' && s[i] === '\\') { i++; continue }
    if (s[i] === q) {
      if (q === "'" && s[i + 1] === "'") { i++; continue }
      return i
    }
  }
  return -1
}

function plainOk(s: string): boolean {
  if (s === '' || s !== s.trim() || s.includes(' #') || s.includes(': ') || s.endsWith(':') || UNSAFE_CHARS.test(s)) return false
  const c = s[0]!
  if ('?:,[]{}#&*!|>\'"%@`'.includes(c)) return false
  if (c === '-' && (s.length === 1 || s[1] === ' ' || s.startsWith('---'))) return false
  return !s.startsWith('...')
}

const UNSAFE_CHARS = /[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]/

function scalar(s: string): Value | typeof FAIL {
  if (s.startsWith('"')) {
    if (quotedEnd(s, 0) !== s.length - 1) return FAIL
    const body = s.slice(1, -1)
    if (!body.includes('\\')) return body
    if (/\\[^"\\/bfnrtu]/.test(body.replace(/\\\\/g, ''))) return FAIL
    try {
      return JSON.parse(`"${body}"`)
    } catch {
      return FAIL
    }
  }
  if (s.startsWith("'")) {
    if (quotedEnd(s, 0) !== s.length - 1) return FAIL
    return s.slice(1, -1).replace(/''/g, "'")
  }
  if (s === '{}') return {}
  if (!plainOk(s)) return FAIL
  return plain(s)
}

const DECIMAL = /^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/

/** YAML 1.2 core schema resolution of a plain scalar, as the yaml package does it (checked by the differential test). */
function plain(s: string): Value {
  const c = s.charCodeAt(0)
  if ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46) {
    if (DECIMAL.test(s)) return INT.test(s) || FLOAT.test(s) || FLOAT_EXP.test(s) ? Number(s) : s
    if (INT_OCT.test(s)) return parseInt(s.slice(2), 8)
    if (INT_HEX.test(s)) return parseInt(s.slice(2), 16)
    if (FLOAT_SPECIAL.test(s)) return s.endsWith('nan') || s.endsWith('NaN') || s.endsWith('NAN') ? NaN : s.startsWith('-') ? -Infinity : Infinity
    return s
  }
  if (c === 126 || c === 110 || c === 78 || s === '') return NULL.test(s) ? null : s
  if (c === 116 || c === 84) return BOOL_TRUE.test(s) ? true : s
  if (c === 102 || c === 70) return BOOL_FALSE.test(s) ? false : s
  return s
}

const SUMMARY_FIELDS: Record<string, true> = { value: true, step: true, timestamp: true, min: true, max: true, count: true }

/** `{ a: 1, b: .nan }` with plain keys and plain scalar values only. */
function flowMap(s: string): Record<string, Value> | typeof FAIL {
  if (s === '{}') return {}
  if (!s.startsWith('{ ') || !s.endsWith(' }')) return FAIL
  const out: Record<string, Value> = {}
  for (const part of s.slice(2, -2).split(', ')) {
    const colon = part.indexOf(': ')
    if (colon <= 0) return FAIL
    const k = part.slice(0, colon), v = part.slice(colon + 2)
    if (k === '__proto__' || (!Object.hasOwn(SUMMARY_FIELDS, k) && !/^[A-Za-z_][\w]*$/.test(k))) return FAIL
    // Numbers are nearly all a flow map holds (metric summaries): one regex decides, Number() converts.
    const value = DECIMAL.test(v) ? Number(v) : /^[-+.\w]+$/.test(v) ? plain(v) : FAIL
    if (value === FAIL || typeof value === 'string' || Object.prototype.hasOwnProperty.call(out, k)) return FAIL
    out[k] = value
  }
  return out
}

/**
 * The writer's half, for run.yaml: a mapping two levels deep (flow mappings of scalars one level further under the
 * keys in `flow`) whose strings are all plain-safe ASCII (double-quoted when YAML would read them as something else,
 * `"0"`, as the yaml package writes them), and whose numbers are finite.
 * Returns the bytes the yaml package writes for it (encodeRun's options; the differential test in
 * test/format/roundtrip.test.ts holds the two to the same bytes), ~50× faster; undefined for anything else, and the
 * caller then uses the yaml package.
 */
export function fastStringifyYaml(doc: Record<string, Value>, flow: ReadonlySet<string>): string | undefined {
  let out = ''
  for (const k of Object.keys(doc)) {
    const v = doc[k]
    const key = plainKey(k)
    if (key === undefined) return undefined
    if (v === null || typeof v !== 'object') {
      const s = plainScalar(v)
      if (s === undefined) return undefined
      out += `${key}: ${s}\n`
      continue
    }
    if (Array.isArray(v)) return undefined
    const inner = v as Record<string, Value>
    const keys = Object.keys(inner)
    if (keys.length === 0) {
      out += `${key}: {}\n`
      continue
    }
    out += `${key}:\n`
    for (const k2 of keys) {
      const v2 = inner[k2]
      const key2 = plainKey(k2)
      if (key2 === undefined) return undefined
      let s: string | undefined
      if (v2 !== null && typeof v2 === 'object') {
        if (!flow.has(k) || Array.isArray(v2)) return undefined
        s = flowScalars(v2 as Record<string, Value>)
      } else s = plainScalar(v2)
      if (s === undefined) return undefined
      out += `  ${key2}: ${s}\n`
    }
  }
  return out
}

/**
 * ASCII that YAML reads as a plain scalar in block and flow context alike: no `:`, `#`, `,`, brackets, braces,
 * quotes, backslash or backtick, no indicator first, no space at either end (paths and commands are the common case).
 */
const PLAIN_ASCII = /^[A-Za-z0-9_./](?:[A-Za-z0-9_./@+=~()<>%$^;*&!? -]*[A-Za-z0-9_./@+=~()<>%$^;*&!?-])?$/

/** A key as written: plain, or double-quoted when YAML would read it as a number, boolean or null (`"0"`). */
function plainKey(k: string): string | undefined {
  // an implicit key is at most 1024 characters; longer ones the yaml package writes as `? key`
  return k.length <= 1000 ? plainString(k) : undefined
}

function plainString(s: string): string | undefined {
  if (!PLAIN_ASCII.test(s)) return undefined
  return typeof plain(s) === 'string' ? s : `"${s}"`
}

function plainScalar(v: Value): string | undefined {
  if (typeof v === 'string') return plainString(v)
  // the yaml package writes a finite number as JSON does; -0 it writes as 0 (so encodeRun's check quotes the document)
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0) ? JSON.stringify(v) : undefined
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  return undefined
}

function flowScalars(m: Record<string, Value>): string | undefined {
  const keys = Object.keys(m)
  if (keys.length === 0) return '{}'
  let out = '{ '
  for (let i = 0; i < keys.length; i++) {
    const s = plainScalar(m[keys[i]!])
    const key = plainKey(keys[i]!)
    if (s === undefined || key === undefined) return undefined
    out += (i ? ', ' : '') + key + ': ' + s
  }
  return out + ' }'
}
