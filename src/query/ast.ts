/**
 * The filter AST: what `parseFilter` returns and every other layer passes around.
 * Plain JSON (no classes, no positions), so it can be cached, sent to the browser or built by hand.
 */

/** Which part of a run a field reads. */
export type FieldKind = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset'

/** A reference to one value of a run: `metrics.acc` is `{ kind: 'metric', key: 'acc' }`; attributes use canonical keys (`start_time`, `run_name`, `source.commit`…). */
export interface FieldRef {
  kind: FieldKind
  key: string
}

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>='
export type Literal = string | number | boolean

export type FilterAst =
  /** The empty filter: every run matches. */
  | { type: 'all' }
  | { type: 'and'; items: FilterAst[] }
  | { type: 'or'; items: FilterAst[] }
  | { type: 'not'; item: FilterAst }
  | { type: 'compare'; field: FieldRef; op: CompareOp; value: Literal }
  | { type: 'like'; field: FieldRef; caseInsensitive: boolean; negated: boolean; pattern: string }
  | { type: 'in'; field: FieldRef; negated: boolean; values: Literal[] }
  | { type: 'null'; field: FieldRef; negated: boolean }

const PREFIX: Record<Exclude<FieldKind, 'attribute'>, string> = { metric: 'metrics', param: 'params', tag: 'tags', dataset: 'datasets' }
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$/

/** The field as filter text: `metrics.acc`, ``params.`learning rate` ``, `start_time`. */
export function formatField(f: FieldRef): string {
  if (f.kind === 'attribute') return f.key
  const key = PLAIN_KEY.test(f.key) ? f.key : '`' + f.key.replace(/`/g, '``') + '`'
  return `${PREFIX[f.kind]}.${key}`
}

export function formatLiteral(v: Literal): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v)
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE'
  return "'" + v.replace(/\\/g, '\\\\').replace(/'/g, "''") + "'"
}

/**
 * Turns an AST back into filter text that parses to the same AST (used for URLs and messages).
 * @example formatFilter(parseFilter('metrics.acc>0.9 and params.lr="0.1"')) // "metrics.acc > 0.9 AND params.lr = '0.1'"
 */
export function formatFilter(ast: FilterAst): string {
  return fmt(ast, 0)
}

// Precedence levels: 0 = OR, 1 = AND, 2 = NOT / comparison.
function fmt(ast: FilterAst, parent: number): string {
  switch (ast.type) {
    case 'all':
      return ''
    case 'or': {
      const s = ast.items.map((i) => fmt(i, 0)).join(' OR ')
      return parent > 0 ? `(${s})` : s
    }
    case 'and': {
      const s = ast.items.map((i) => fmt(i, 1)).join(' AND ')
      return parent > 1 ? `(${s})` : s
    }
    case 'not':
      return `NOT ${fmt(ast.item, 2)}`
    case 'compare':
      return `${formatField(ast.field)} ${ast.op} ${formatLiteral(ast.value)}`
    case 'like':
      return `${formatField(ast.field)} ${ast.negated ? 'NOT ' : ''}${ast.caseInsensitive ? 'ILIKE' : 'LIKE'} ${formatLiteral(ast.pattern)}`
    case 'in':
      return `${formatField(ast.field)} ${ast.negated ? 'NOT IN' : 'IN'} (${ast.values.map(formatLiteral).join(', ')})`
    case 'null':
      return `${formatField(ast.field)} IS ${ast.negated ? 'NOT ' : ''}NULL`
  }
}

/**
 * Every field a filter reads, in the order they appear (repeats included): what a caller must load to evaluate it.
 * @example filterFields(parseFilter('metrics.acc > 0.9 and params.lr = 0.1')) // [{kind:'metric',key:'acc'}, {kind:'param',key:'lr'}]
 */
export function filterFields(ast: FilterAst): FieldRef[] {
  switch (ast.type) {
    case 'all': return []
    case 'and': case 'or': return ast.items.flatMap(filterFields)
    case 'not': return filterFields(ast.item)
    default: return [ast.field]
  }
}
