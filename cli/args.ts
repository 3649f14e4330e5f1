import type { ArgsDef } from 'citty'
import { LabbookError } from '../src/errors.js'
import type { ParamValue } from '../src/model/run.js'
import { numberFromJson } from '../src/model/json-numbers.js'
import { paramFromText } from '../src/model/param.js'

/** Flags every command accepts (taken out of argv by main.ts before citty sees it). */
export const GLOBAL_ARGS = {
  repo: { type: 'string', description: 'Repository to work in (default: the git root above the current directory)', valueHint: 'DIR' },
  branch: { type: 'string', description: 'Branch holding the runs (default: `branch:` in labbook.config.yaml, else "labbook")', valueHint: 'NAME' },
  verbose: { type: 'boolean', description: 'Print stack traces with errors' },
} as const satisfies ArgsDef

/** The arguments before a `--`: what options may appear in (the rest belongs to the wrapped command). */
export function beforeDashes(argv: string[]): string[] {
  const i = argv.indexOf('--')
  return i < 0 ? argv : argv.slice(0, i)
}

export function afterDashes(argv: string[]): string[] {
  const i = argv.indexOf('--')
  return i < 0 ? [] : argv.slice(i + 1)
}

/**
 * All values of a repeatable option (`-p a=1 -p b=2`, `--param=a=1`); citty keeps only the last one.
 * Only looks before `--`.
 */
export function collect(argv: string[], names: string[]): string[] {
  const flags = new Set(names.map((n) => (n.length === 1 ? `-${n}` : `--${n}`)))
  const head = beforeDashes(argv)
  const out: string[] = []
  for (let i = 0; i < head.length; i++) {
    const a = head[i]!
    const eq = a.indexOf('=')
    if (a.startsWith('-') && eq > 0 && flags.has(a.slice(0, eq))) out.push(a.slice(eq + 1))
    else if (flags.has(a)) {
      const v = head[i + 1]
      if (v === undefined) throw usage(`${a} needs a value.`)
      out.push(v)
      i++
    }
  }
  return out
}

/** Splits `KEY=VALUE` at the first `=`. */
export function splitPair(text: string, what: string): [string, string] {
  const eq = text.indexOf('=')
  if (eq <= 0) throw usage(`Expected ${what} as KEY=VALUE, got ${JSON.stringify(text)}.`)
  return [text.slice(0, eq), text.slice(eq + 1)]
}

/** A param value from the command line, by the one rule shared with JSON numbers (src/model/param.ts). */
export const parseParamValue: (text: string) => ParamValue = paramFromText

export function parseMetricValue(key: string, text: string): number {
  const t = text.trim()
  const special = numberFromJson(t) ?? { nan: NaN, inf: Infinity, '+inf': Infinity, '-inf': -Infinity }[t.toLowerCase()]
  if (special !== undefined) return special
  const n = Number(t)
  if (t === '' || Number.isNaN(n)) throw new LabbookError('INVALID_VALUE', `Metric ${key} must be a number, got ${JSON.stringify(text)}.`, 'Write it like loss=0.25 (NaN, Infinity and -Infinity are allowed).', { key })
  return n
}

export function parseInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined
  const n = Number(text)
  if (!Number.isSafeInteger(n)) throw usage(`--${name} must be an integer, got ${JSON.stringify(text)}.`)
  return n
}

export function usage(message: string, hint?: string, data: Record<string, unknown> = {}): LabbookError {
  return new LabbookError('USAGE', message, hint, data)
}

