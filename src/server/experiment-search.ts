/**
 * `experiments/search`'s filter and order: MLflow's small experiment grammar — `name`, `creation_time`,
 * `last_update_time` (optionally prefixed `attribute.`) and `tags.<key>`, compared with = != LIKE ILIKE
 * (and < <= > >= for times), joined by AND. The run filter language lives in src/query; this one is
 * small enough not to share it.
 */
import type { Experiment } from '../model/experiment.js'
import { invalid } from './errors.js'

type Op = '=' | '!=' | 'LIKE' | 'ILIKE' | '<' | '<=' | '>' | '>='
interface Clause { field: { kind: 'attr'; name: string } | { kind: 'tag'; key: string }; op: Op; value: string | number }

const CLAUSE = /^\s*((?:attributes?\.)?(?:name|creation_time|last_update_time)|tags?\.(?:`[^`]+`|"[^"]+"|[\w.\-/ :]+?))\s*(=|!=|<=|>=|<|>|LIKE|ILIKE)\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?\d+)\s*$/i

export function parseExperimentFilter(filter: string | undefined): Clause[] {
  if (!filter || !filter.trim()) return []
  return filter.split(/\s+AND\s+/i).map((part) => {
    const m = CLAUSE.exec(part)
    if (!m) throw invalid(`Invalid experiment filter '${filter}': could not parse '${part.trim()}'. Expected e.g. name LIKE 'iris%' AND tags.team = 'ml'.`)
    const [, rawField, rawOp, rawValue] = m as unknown as [string, string, string, string]
    const op = rawOp.toUpperCase() as Op
    const value = /^-?\d+$/.test(rawValue) ? Number(rawValue) : rawValue.slice(1, -1).replace(/\\(.)/g, '$1')
    const lower = rawField.toLowerCase()
    if (lower.startsWith('tag')) {
      let key = rawField.slice(rawField.indexOf('.') + 1)
      if (/^[`"]/.test(key)) key = key.slice(1, -1)
      return { field: { kind: 'tag', key }, op, value }
    }
    return { field: { kind: 'attr', name: lower.replace(/^attributes?\./, '') }, op, value }
  })
}

function like(pattern: string, s: string, ci: boolean): boolean {
  const re = '^' + pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.') + '$'
  return new RegExp(re, ci ? 'is' : 's').test(s)
}

function test(c: Clause, e: Experiment): boolean {
  let actual: string | number | undefined
  if (c.field.kind === 'tag') actual = e.tags?.[c.field.key]
  else if (c.field.name === 'name') actual = e.name
  else if (c.field.name === 'creation_time') actual = e.createdAt
  else actual = e.updatedAt ?? e.createdAt
  if (actual === undefined) return false
  const v = c.value
  switch (c.op) {
    case '=': return actual === v || String(actual) === String(v)
    case '!=': return String(actual) !== String(v)
    case 'LIKE': return like(String(v), String(actual), false)
    case 'ILIKE': return like(String(v), String(actual), true)
    case '<': return Number(actual) < Number(v)
    case '<=': return Number(actual) <= Number(v)
    case '>': return Number(actual) > Number(v)
    case '>=': return Number(actual) >= Number(v)
  }
}

export function filterExperiments(list: Experiment[], clauses: Clause[]): Experiment[] {
  return clauses.length ? list.filter((e) => clauses.every((c) => test(c, e))) : list
}

/** order_by entries like "name ASC", "creation_time DESC"; default newest first, then id. */
export function sortExperiments(list: Experiment[], orderBy: string[]): Experiment[] {
  const keys = orderBy.map((o) => {
    const m = /^\s*(?:attributes?\.)?(name|creation_time|last_update_time|experiment_id)\s*(ASC|DESC)?\s*$/i.exec(o)
    if (!m) throw invalid(`Invalid order_by clause '${o}'. Expected one of name, creation_time, last_update_time, experiment_id, optionally followed by ASC or DESC.`)
    return { field: m[1]!.toLowerCase(), desc: (m[2] ?? 'ASC').toUpperCase() === 'DESC' }
  })
  if (!keys.length) keys.push({ field: 'creation_time', desc: true })
  keys.push({ field: 'experiment_id', desc: false })
  const get = (e: Experiment, f: string): string | number =>
    f === 'name' ? e.name : f === 'creation_time' ? e.createdAt : f === 'last_update_time' ? (e.updatedAt ?? e.createdAt) : e.id
  return list.slice().sort((a, b) => {
    for (const k of keys) {
      const x = get(a, k.field), y = get(b, k.field)
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0
      if (c) return k.desc ? -c : c
    }
    return 0
  })
}
