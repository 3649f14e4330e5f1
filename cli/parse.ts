/**
 * Strict argument parsing for one command, on `node:util.parseArgs`. Commands keep citty's declarative `args`
 * (types, aliases, defaults, help text, positional names); this module is what citty's lenient parser left out:
 * an unknown option is an error with a did-you-mean, an option that needs a value and has none is an error, a
 * value-less option given twice is an error unless the option is declared `repeatable()`, and `--step -1` works.
 * The result has citty's shape (`args._`, positional names, kebab and camel keys), so commands read it as before.
 */
import { parseArgs } from 'node:util'
import type { ArgDef, ArgsDef } from 'citty'
import { closest } from '../src/model/suggest.js'
import { GLOBAL_ARGS, usage } from './args.js'

const REPEATABLE = new WeakSet<object>()

/** Marks an option that may be given several times (`-p a=1 -p b=2`); commands read every value with `collect()`. */
export function repeatable<T extends ArgDef>(def: T): T {
  REPEATABLE.add(def)
  return def
}

export type ParsedArgs = Record<string, unknown> & { _: string[] }

interface Option {
  canonical: string
  kind: 'boolean' | 'value'
  negated?: boolean
  def: ArgDef
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (m) => '-' + m.toLowerCase())
}

function camel(s: string): string {
  return s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

function aliases(def: ArgDef): string[] {
  const a = (def as { alias?: string | string[] }).alias
  return Array.isArray(a) ? a : a ? [a] : []
}

/** Every spelling of every option: `--params-file`, `--paramsFile`, `-p`, `--no-push`. */
function optionTable(def: ArgsDef): Map<string, Option> {
  const table = new Map<string, Option>()
  for (const [name, d] of Object.entries(def)) {
    if (d.type === 'positional') continue
    const kind = d.type === 'boolean' ? 'boolean' : 'value'
    for (const spelling of new Set([name, kebab(name), camel(name), ...aliases(d)])) {
      table.set(spelling, { canonical: name, kind, def: d })
      if (kind === 'boolean' && spelling.length > 1) table.set(`no-${spelling}`, { canonical: name, kind, negated: true, def: d })
    }
  }
  return table
}

const dash = (name: string) => (name.length === 1 ? `-${name}` : `--${name}`)

/**
 * Parses `argv` (the command's own tokens, globals already taken out) against its `args` definition.
 * @example parseCommandArgs(['--limit', '5', 'abc'], lsArgs, 'labbook ls')
 */
export function parseCommandArgs(argv: string[], def: ArgsDef, command: string, hint?: string): ParsedArgs {
  const table = optionTable(def)
  const dashes = argv.indexOf('--')
  const head = dashes < 0 ? argv : argv.slice(0, dashes)
  const tail = dashes < 0 ? [] : argv.slice(dashes + 1)
  const helpHint = hint ?? `Run \`${command} --help\` for its options.`

  // Our own pass first, for messages that name the option and the fix; parseArgs then does the splitting.
  const normalized: string[] = []
  const seen = new Map<string, string>()
  for (let i = 0; i < head.length; i++) {
    const token = head[i]!
    if (!token.startsWith('-') || token === '-' || /^-\d/.test(token)) {
      normalized.push(token)
      continue
    }
    const long = token.startsWith('--')
    const eq = token.indexOf('=')
    const name = token.slice(long ? 2 : 1, eq < 0 ? undefined : eq)
    const inline = eq < 0 ? undefined : token.slice(eq + 1)
    if (!long && name.length > 1) throw usage(`Unknown option ${token}.`, `Options of one letter stand alone (-p KEY=VALUE); ${helpHint.charAt(0).toLowerCase()}${helpHint.slice(1)}`)
    const opt = table.get(name)
    if (!opt) {
      const near = closest(name, [...table.keys(), ...Object.keys(GLOBAL_ARGS), 'help'].filter((n) => n.length > 1 || !long))
      throw usage(`Unknown option ${long ? '--' : '-'}${name}${near ? `: did you mean ${dash(near)}?` : '.'}`, helpHint)
    }
    if (opt.kind === 'boolean') {
      if (inline !== undefined) throw usage(`${dash(name)} takes no value, got ${JSON.stringify(inline)}.`, helpHint)
      normalized.push(`--${opt.negated ? 'no-' : ''}${opt.canonical}`)
    } else {
      let value = inline
      if (value === undefined) {
        const next = head[i + 1]
        if (next === undefined || (next.startsWith('-') && next !== '-' && !/^-\d/.test(next) && next !== '')) {
          throw usage(`${dash(name)} needs a value${next === undefined ? '' : `, but ${next} follows it`}.`, `Write it as ${dash(name)} ${(opt.def as { valueHint?: string }).valueHint ?? 'VALUE'}; ${helpHint.charAt(0).toLowerCase()}${helpHint.slice(1)}`)
        }
        value = next
        i++
      }
      normalized.push(`--${opt.canonical}=${value}`)
    }
    const prev = seen.get(opt.canonical)
    if (prev !== undefined && !REPEATABLE.has(opt.def)) {
      throw usage(`${dash(opt.canonical)} is given twice (as ${prev} and ${token}); it takes one value.`, helpHint)
    }
    seen.set(opt.canonical, token)
  }

  const options: Record<string, { type: 'string' | 'boolean'; multiple: true }> = {}
  for (const o of table.values()) {
    options[o.canonical] = { type: o.kind === 'boolean' ? 'boolean' : 'string', multiple: true }
    if (o.kind === 'boolean') options[`no-${o.canonical}`] = { type: 'boolean', multiple: true }
  }
  const { values, positionals } = parseArgs({ args: normalized, options, strict: true, allowPositionals: true })

  const out: ParsedArgs = { _: [...positionals, ...tail] }
  const set = (name: string, v: unknown) => {
    out[name] = v
    out[kebab(name)] = v
    out[camel(name)] = v
  }
  for (const [name, d] of Object.entries(def)) {
    if (d.type === 'positional') continue
    const given = values[name] as Array<string | boolean> | undefined
    const negated = values[`no-${name}`] as boolean[] | undefined
    if (negated?.length) set(name, false)
    else if (given?.length) set(name, given[given.length - 1])
    else if ((d as { default?: unknown }).default !== undefined) set(name, (d as { default?: unknown }).default)
    const enumOptions = (d as { options?: string[] }).options
    if (d.type === 'enum' && enumOptions && out[name] !== undefined && !enumOptions.includes(String(out[name]))) {
      throw usage(`--${name} must be one of ${enumOptions.join(', ')}, got ${JSON.stringify(out[name])}.`, helpHint)
    }
    if ((d as { required?: boolean }).required && out[name] === undefined) throw usage(`${command} needs --${name}.`, helpHint)
  }
  const rest = [...positionals]
  for (const [name, d] of Object.entries(def)) {
    if (d.type !== 'positional') continue
    const v = rest.shift()
    if (v !== undefined) set(name, v)
    else if ((d as { default?: unknown }).default !== undefined) set(name, (d as { default?: unknown }).default)
    else if ((d as { required?: boolean }).required !== false) {
      throw usage(`${command} needs ${(d as { valueHint?: string }).valueHint ?? name.toUpperCase()}.`, helpHint)
    }
  }
  return out
}
