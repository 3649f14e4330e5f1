/** FilterAst → predicate. Compiled once into closures, so the per-run cost is a few property reads. */
import type { DatasetInput, RunSummary } from '../model/run.js'
import type { CompareOp, FieldRef, FilterAst, Literal } from './ast.js'
import { asNumber, asText, fieldGetter, fieldType, type DatasetField, type FieldValue } from './fields.js'
import { likeMatcher } from './like.js'

export type RunPredicate = (run: RunSummary) => boolean

export interface CompileOptions {
  /** Experiment names by id: with it, `experiment = 'mnist'` matches the name as well as the id. */
  experimentNames?: Record<string, string>
}

/**
 * Compiles a filter AST into a predicate over run summaries.
 * Semantics follow MLflow: a run without the key never matches a comparison (not even `!=`), and NaN compares like IEEE
 * floats in Python (only `!=` is true). NOT inverts the whole match, so `NOT metrics.acc > 0.9` keeps runs without `acc`.
 * @example runs.filter(compileFilter(parseFilter('metrics.acc > 0.9')))
 */
export function compileFilter(ast: FilterAst, options: CompileOptions = {}): RunPredicate {
  switch (ast.type) {
    case 'all':
      return () => true
    case 'and': {
      // Cheap tests first: AND has no side effects, so the order only changes speed.
      const ps = [...ast.items].sort((a, b) => cost(a) - cost(b)).map((i) => compileFilter(i, options))
      if (ps.length === 2) {
        const [a, b] = ps
        return (r) => a(r) && b(r)
      }
      return (r) => {
        for (const p of ps) if (!p(r)) return false
        return true
      }
    }
    case 'or': {
      const ps = ast.items.map((i) => compileFilter(i, options))
      return (r) => {
        for (const p of ps) if (p(r)) return true
        return false
      }
    }
    case 'not': {
      const p = compileFilter(ast.item, options)
      return (r) => !p(r)
    }
    default: {
      const names = options.experimentNames
      if (ast.field.kind === 'attribute' && ast.field.key === 'experiment' && names) {
        // Match the id or the name; a negative test must hold for both.
        const byId = leaf(ast, fieldGetter(ast.field))
        const byName = leaf(ast, (r: RunSummary) => (Object.hasOwn(names, r.experiment) ? names[r.experiment] : undefined))
        const negative = (ast.type === 'compare' && ast.op === '!=') || ((ast.type === 'in' || ast.type === 'like') && ast.negated)
        if (ast.type === 'null') return byId
        return negative ? (r) => byId(r) && byName(r) : (r) => byId(r) || byName(r)
      }
      if (ast.field.kind === 'dataset') {
        // MLflow: a run matches when any of its datasets does
        const key = ast.field.key as DatasetField
        const one = leaf(ast, (d: DatasetInput) => d[key])
        return (r) => {
          const ds = r.datasets
          if (!ds) return false
          for (const d of ds) if (one(d)) return true
          return false
        }
      }
      return leaf(ast, fieldGetter(ast.field))
    }
  }
}

/** A rough relative cost of evaluating a node (attribute reads are cheapest, LIKE and text parsing dearest). */
function cost(ast: FilterAst): number {
  switch (ast.type) {
    case 'all': return 0
    case 'and': case 'or': return ast.items.reduce((s, i) => s + cost(i), 0)
    case 'not': return cost(ast.item)
    default: {
      const base = ast.field.kind === 'attribute' ? 1 : ast.field.kind === 'metric' ? 2 : 3
      const extra = ast.type === 'like' ? 2 : ast.type === 'compare' && typeof ast.value === 'number' && ast.field.kind !== 'metric' && ast.field.kind !== 'attribute' ? 2 : 0
      return base + extra
    }
  }
}

/** A filter's leaf: one test of one field (a comparison, LIKE, IN or IS NULL). */
export type FilterLeaf = Extract<FilterAst, { field: FieldRef }>

/**
 * A leaf's test on one value of its field (`undefined`: the run lacks it), with exactly the semantics `compileFilter`
 * gives the leaf on a run: for callers that hold a field's values apart from the runs (the site's runs table tests each
 * distinct value of a column once). Dataset leaves test one dataset's field; a run matches when any of its datasets does.
 * @example valueTest(parseFilter('metrics.acc > 0.9') as FilterLeaf)(0.95) // true
 */
export function valueTest(ast: FilterLeaf): (value: FieldValue) => boolean {
  return leaf(ast, (v: FieldValue) => v)
}

function leaf<R>(ast: FilterLeaf, get: (r: R) => FieldValue): (r: R) => boolean {
  const type = fieldType(ast.field)
  switch (ast.type) {
    case 'null':
      return ast.negated ? (r) => get(r) !== undefined : (r) => get(r) === undefined
    case 'like': {
      const m = likeMatcher(ast.pattern, ast.caseInsensitive)
      const neg = ast.negated
      return (r) => {
        const v = asText(get(r))
        return v !== undefined && m(v) !== neg
      }
    }
    case 'in': {
      const strings = new Set<string>()
      const numbers = new Set<number>()
      const bools = new Set<boolean>()
      for (const v of ast.values) {
        if (typeof v === 'number') numbers.add(v)
        else if (typeof v === 'boolean') bools.add(v)
        else strings.add(v)
      }
      const neg = ast.negated
      const member = (v: FieldValue): boolean | undefined => {
        if (v === undefined) return undefined
        if (type === 'number') return typeof v === 'number' ? numbers.has(v) && !Number.isNaN(v) : undefined
        if (type === 'boolean') return typeof v === 'boolean' ? bools.has(v) : undefined
        // Text (params, tags, string attributes): as text, or as a number for number literals.
        const t = asText(v)!
        if (strings.has(t)) return true
        if (numbers.size > 0) {
          const n = asNumber(v)
          if (n !== undefined && numbers.has(n) && !Number.isNaN(n)) return true
        }
        return false
      }
      return (r) => {
        const m = member(get(r))
        return m !== undefined && m !== neg
      }
    }
    case 'compare':
      return compare(type, ast.op, ast.value, get)
  }
}

function compare<R>(type: ReturnType<typeof fieldType>, op: CompareOp, value: Literal, get: (r: R) => FieldValue): (r: R) => boolean {
  if (typeof value === 'number') {
    const cmp = numberOp(op, value)
    if (type === 'number') {
      return (r) => {
        const v = get(r)
        return typeof v === 'number' && cmp(v)
      }
    }
    // Our extension: params/tags compared with a number literal compare as numbers; values that are not numbers never match.
    return (r) => {
      const n = asNumber(get(r))
      return n !== undefined && cmp(n)
    }
  }
  if (typeof value === 'boolean') {
    return op === '=' ? (r) => get(r) === value : (r) => { const v = get(r); return v !== undefined && v !== value }
  }
  // Text: = and != only (the parser rejects the rest).
  if (op === '=') {
    return (r) => {
      const v = get(r)
      return v !== undefined && (v === value || (typeof v !== 'string' && String(v) === value))
    }
  }
  return (r) => {
    const v = get(r)
    return v !== undefined && asText(v) !== value
  }
}

function numberOp(op: CompareOp, x: number): (v: number) => boolean {
  switch (op) {
    case '=': return (v) => v === x
    case '!=': return (v) => v !== x
    case '<': return (v) => v < x
    case '<=': return (v) => v <= x
    case '>': return (v) => v > x
    case '>=': return (v) => v >= x
  }
}
