/** Side-by-side comparison of runs: data first (`compareRuns`), then plain-text and Markdown renderings of that data. Browser-safe. */
import type { RunSummary } from '../model/run.js'
import { formatDuration, formatNumber } from '../model/display-numbers.js'
import { asText } from '../query/fields.js'
import { bestRun, type Goal, type GoalSource, type JudgeConfig, metricGoal, primaryMetrics } from '../judge/index.js'

export interface CompareOptions {
  /** Goals and primary metrics from labbook.config.yaml (src/judge decides; without it, goals come from the name rule). */
  goals?: JudgeConfig
  /** Tags of the runs' experiment (goals and primary metric set by tag), when they share one. */
  experimentTags?: Record<string, string>
  /** Keep only rows whose values differ between runs. @default false */
  diffOnly?: boolean
}

/** One line of text values, one per run (undefined: the run lacks it). */
export interface CompareRow {
  key: string
  values: (string | undefined)[]
  /** Not every run has the same value (a missing value differs from any value). */
  differs: boolean
}

export interface MetricCell {
  latest: number
  min: number
  max: number
  step: number
  count: number
}

export interface MetricRow {
  key: string
  /** undefined: informational (telemetry or `goal: none`), never judged. */
  goal?: Goal
  goalSource: GoalSource
  /** A primary metric of these runs (src/judge `primaryMetrics`). */
  primary: boolean
  values: (MetricCell | undefined)[]
  /** Indices (into `runs`) of the eligible runs (FINISHED, finite value) tied for the best latest value; empty when fewer than two runs have a number or none is eligible. */
  best: number[]
  differs: boolean
}

export interface ComparedRun {
  id: string
  name: string
  experiment: string
  status: string
  startTime: number
  endTime?: number
  /** ms; undefined while running. */
  duration?: number
}

export interface Comparison {
  runs: ComparedRun[]
  /** status, user, start, duration, commit, branch, dirty, parent. */
  info: CompareRow[]
  params: CompareRow[]
  metrics: MetricRow[]
  tags: CompareRow[]
  diffOnly: boolean
}

/**
 * Compares runs side by side: params, metrics (latest/min/max, best per goal), tags, code and durations.
 * @example renderComparisonMarkdown(compareRuns([a, b], { diffOnly: true }))
 */
export function compareRuns(runs: readonly RunSummary[], o: CompareOptions = {}): Comparison {
  const diffOnly = o.diffOnly ?? false
  const keep = <T extends { differs: boolean }>(rows: T[]) => (diffOnly ? rows.filter((r) => r.differs) : rows)
  const info: CompareRow[] = [
    row('status', runs.map((r) => r.status)),
    row('user', runs.map((r) => r.user)),
    row('start', runs.map((r) => new Date(r.startTime).toISOString())),
    row('duration', runs.map((r) => (r.endTime === undefined ? undefined : formatDuration(r.endTime - r.startTime)))),
    row('commit', runs.map((r) => r.source?.commit)),
    row('branch', runs.map((r) => r.source?.branch)),
    row('dirty', runs.map((r) => (r.source?.dirty === undefined ? undefined : String(r.source.dirty)))),
    row('parent', runs.map((r) => r.parent)),
  ].filter((r) => r.values.some((v) => v !== undefined))
  const params = unionKeys(runs.map((r) => r.params)).map((k) => row(k, runs.map((r) => (Object.hasOwn(r.params, k) ? asText(r.params[k]) : undefined))))
  const tags = unionKeys(runs.map((r) => r.tags)).map((k) => row(k, runs.map((r) => (Object.hasOwn(r.tags, k) ? r.tags[k] : undefined))))
  const judge = { config: o.goals, tags: o.experimentTags }
  const primary = primaryMetrics(runs, judge)
  const informational = (k: string) => (metricGoal(k, judge).goal === undefined ? 1 : 0)
  const metricKeys = unionKeys(runs.map((r) => r.metrics))
    .sort((a, b) => rank(primary, a) - rank(primary, b) || informational(a) - informational(b) || (a < b ? -1 : a > b ? 1 : 0))
  const metrics = metricKeys.map((key): MetricRow => {
    const { goal, source } = metricGoal(key, judge)
    const values = runs.map((r): MetricCell | undefined => {
      if (!Object.hasOwn(r.metrics, key)) return undefined
      const s = r.metrics[key]
      return { latest: s.value, min: s.min, max: s.max, step: s.step, count: s.count }
    })
    const withNumber = values.filter((v) => v !== undefined && !Number.isNaN(v.latest)).length
    const top = goal && withNumber >= 2 ? bestRun(runs, key, goal) : undefined
    const best = top ? runs.flatMap((r, i) => (r.status === 'FINISHED' && r.lifecycle !== 'deleted' && r.metrics[key]?.value === top.metrics[key]!.value ? [i] : [])) : []
    return { key, ...(goal ? { goal } : {}), goalSource: source, primary: primary.includes(key), values, best, differs: differs(values.map((v) => v?.latest)) }
  })
  return {
    runs: runs.map((r) => ({
      id: r.id, name: r.name, experiment: r.experiment, status: r.status, startTime: r.startTime,
      ...(r.endTime === undefined ? {} : { endTime: r.endTime, duration: r.endTime - r.startTime }),
    })),
    info: keep(info),
    params: keep(params),
    metrics: keep(metrics),
    tags: keep(tags),
    diffOnly,
  }
}

function row(key: string, values: (string | undefined)[]): CompareRow {
  return { key, values, differs: differs(values) }
}

function differs<T>(values: T[]): boolean {
  return values.some((v) => !Object.is(v, values[0]))
}

function unionKeys(objs: Record<string, unknown>[]): string[] {
  const s = new Set<string>()
  for (const o of objs) for (const k of Object.keys(o)) s.add(k)
  return [...s].sort()
}

function rank(primary: string[], key: string): number {
  const i = primary.indexOf(key)
  return i < 0 ? primary.length : i
}

const ARROW: Record<Goal, string> = { maximize: '↑', minimize: '↓' }
const arrow = (g: Goal | undefined) => (g ? ARROW[g] : '·')

function metricLatest(c: MetricCell | undefined): string | undefined {
  return c === undefined ? undefined : formatNumber(c.latest)
}

function metricRange(c: MetricCell | undefined): string | undefined {
  return c === undefined ? undefined : `${formatNumber(c.min)} … ${formatNumber(c.max)}`
}

function runLabel(r: ComparedRun): string {
  return r.name && r.name !== r.id ? `${r.name} (${r.id.slice(0, 8)})` : r.id.slice(0, 8)
}

function goalLegend(c: Comparison): string {
  const list = (src: GoalSource) => c.metrics.filter((m) => m.goalSource === src && m.goal).map((m) => `${m.key} ${arrow(m.goal)}`).join(', ')
  const cfg = list('config'), tag = list('tag'), inf = list('name')
  const info = c.metrics.filter((m) => !m.goal).map((m) => m.key).join(', ')
  return [cfg && `Goals from labbook.config.yaml: ${cfg}.`, tag && `Goals from experiment tags: ${tag}.`, inf && `Goals inferred from the name (loss, error, time… minimize): ${inf}.`,
    info && `Informational (· never judged): ${info}.`].filter(Boolean).join(' ')
}

// ---------------------------------------------------------------- text

const TEXT_CELL = 40

/** Terminal columns a string takes: CJK, fullwidth forms and emoji take two. */
export function displayWidth(s: string): number {
  let w = 0
  for (const ch of s) w += WIDE.test(ch) ? 2 : 1
  return w
}
const WIDE = /[\u1100-\u115F\u2E80-\u303E\u3041-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1FAFF}\u{20000}-\u{3FFFD}]/u

function clip(s: string, max: number): string {
  if (s === '') return '""'
  const flat = s.replace(/\r?\n|\r/g, '⏎').replace(/\t/g, ' ')
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat
}

/** Cuts text to `width` terminal columns, ending in `…` when cut. */
function fitCell(s: string, width: number): string {
  if (displayWidth(s) <= width) return s
  let out = '', w = 0
  for (const ch of s) {
    const cw = WIDE.test(ch) ? 2 : 1
    if (w + cw > width - 1) break
    out += ch
    w += cw
  }
  return out + '…'
}

/** Colours for a terminal (picocolors' `createColors()` fits); each missing one leaves text plain. */
export type TextStyle = Partial<Record<'bold' | 'dim' | 'green' | 'red' | 'yellow' | 'cyan', (s: string) => string>>

export interface TextOptions {
  /** Terminal columns to fit: long values are cut with `…` and runs that do not fit are left out, with a line saying so. Without it (piped) nothing but the 40-character cap applies. */
  width?: number
  /** Colours (only on a terminal; the caller decides NO_COLOR). @default none */
  style?: TextStyle
  /** The label of each run id (e.g. the shortest unique prefixes). @default the first 8 characters */
  ids?: ReadonlyMap<string, string>
  /** How start times read (the CLI: local time, the offset once in the row's name, or UTC with `--utc`). @default UTC to the minute, `Z` on each */
  time?: { key: string; format: (ms: number) => string }
}

/** Narrowest a run column gets before runs are left out. */
const MIN_RUN_COL = 10
/** Short form of a commit in text (the full one is in --json). */
const SHORT_SHA = 7

type Kind = 'plain' | 'title' | 'diff' | 'best' | 'missing' | 'range' | 'status' | 'commit' | 'id'

/**
 * A plain-text table for terminals: `≠` marks rows that differ, `★` the best value of a metric among finished runs.
 * Commits and run ids are short (full in `--json`); with `width`, it fits the terminal.
 * @example console.log(renderComparisonText(compareRuns(runs), { width: 80 }))
 */
export function renderComparisonText(c: Comparison, o: TextOptions = {}): string {
  const id = (runId: string) => o.ids?.get(runId) ?? runId.slice(0, 8)
  type Cell = { text: string; kind: Kind }
  const cell = (text: string, kind: Kind = 'plain'): Cell => ({ text, kind })
  const rows: Array<{ head: Cell; values: Cell[]; marker?: boolean }> = []
  const section = (title: string) => rows.push({ head: cell(title, 'title'), values: c.runs.map(() => cell('')) })
  const value = (key: string, v: string): Cell => {
    if (key === 'commit') return cell(v.slice(0, SHORT_SHA), 'commit')
    if (key === 'start') return cell(o.time && Number.isFinite(Date.parse(v)) ? o.time.format(Date.parse(v)) : v.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z'))
    if (key === 'parent') return cell(id(v), 'id')
    if (key === 'status') return cell(v, 'status')
    return cell(clip(v, TEXT_CELL))
  }
  const plain = (r: CompareRow) => rows.push({ head: cell(`${r.differs ? '≠ ' : '  '}${clip(r.key === 'start' && o.time ? o.time.key : r.key, TEXT_CELL)}`), marker: r.differs, values: r.values.map((v) => (v === undefined ? cell('-', 'missing') : value(r.key, v))) })
  if (c.info.length) {
    section('run')
    c.info.forEach(plain)
  }
  if (c.params.length) {
    section('params')
    c.params.forEach(plain)
  }
  if (c.metrics.length) {
    section('metrics (latest; min … max)')
    for (const m of c.metrics) {
      rows.push({
        head: cell(`${m.differs ? '≠ ' : '  '}${clip(m.key, TEXT_CELL)} ${arrow(m.goal)}`), marker: m.differs,
        values: m.values.map((v, i) => (v === undefined ? cell('-', 'missing') : m.best.includes(i) ? cell(metricLatest(v)! + ' ★', 'best') : cell(metricLatest(v)!))),
      })
      if (m.values.some((v) => v !== undefined && v.count > 1)) rows.push({ head: cell(''), values: m.values.map((v) => cell(v === undefined ? '' : metricRange(v)!, 'range')) })
    }
  }
  if (c.tags.length) {
    section('tags')
    c.tags.forEach(plain)
  }
  // Two header lines: the name (cut when long) and the short id (never cut: it is what other commands take).
  const names = c.runs.map((r) => cell(clip(r.name && r.name !== r.id ? r.name : '', TEXT_CELL), 'title'))
  const header = c.runs.map((r) => cell(id(r.id), 'id'))

  // Widths: natural, then fitted to the terminal (the key column gives up all but a quarter, runs that cannot get their short id are left out, the widest runs shrink).
  const natural = (j: number) => Math.max(...[names, header, ...rows.map((r) => r.values)].map((cells) => displayWidth(cells[j]!.text)))
  let keyW = Math.max(...rows.map((r) => displayWidth(r.head.text)))
  let widths = c.runs.map((_, j) => natural(j))
  let shown = c.runs.length
  if (o.width !== undefined) {
    const total = () => keyW + widths.slice(0, shown).reduce((a, b) => a + b + 2, 0)
    if (total() > o.width) keyW = Math.min(keyW, Math.max(12, Math.floor(o.width / 4)))
    const minOf = (j: number) => Math.min(widths[j]!, Math.max(MIN_RUN_COL, displayWidth(header[j]!.text)))
    while (shown > 1 && keyW + widths.slice(0, shown).reduce((a, _, j) => a + minOf(j) + 2, 0) > o.width) shown--
    // Shrink the widest run columns until the table fits (never below the short id).
    while (total() > o.width) {
      let widest = 0
      for (let j = 1; j < shown; j++) if (widths[j]! - minOf(j) > widths[widest]! - minOf(widest)) widest = j
      if (widths[widest]! <= minOf(widest)) break
      widths[widest]!--
    }
    widths = widths.slice(0, shown)
  }
  const st = o.style ?? {}
  const paint = (kind: Kind, text: string): string => {
    const f = kind === 'title' ? st.bold : kind === 'best' ? st.green : kind === 'missing' || kind === 'range' || kind === 'id' ? st.dim : kind === 'commit' ? st.yellow
      : kind === 'status' ? (text === 'FINISHED' ? st.green : text === 'FAILED' ? st.red : text === 'KILLED' ? st.yellow : text === 'RUNNING' ? st.cyan : undefined) : undefined
    return f ? f(text) : text
  }
  const pad = (text: string, w: number) => text + ' '.repeat(Math.max(0, w - displayWidth(text)))
  const render = (head: Cell, values: Cell[], marker?: boolean) => {
    // A section title has no values: it may run on over the empty cells.
    if (head.kind === 'title' && values.every((v) => !v.text)) return paint('title', o.width === undefined ? head.text : fitCell(head.text, o.width))
    let h = fitCell(head.text, keyW)
    const painted = marker && h.startsWith('≠ ') && st.yellow ? st.yellow('≠') + paint(head.kind, pad(h, keyW).slice(1)) : paint(head.kind, pad(h, keyW))
    const parts = [painted]
    values.slice(0, shown).forEach((v, j) => {
      const t = fitCell(v.text, widths[j]!)
      parts.push(paint(v.kind, t) + ' '.repeat(widths[j]! - displayWidth(t)))
    })
    h = parts.join('  ')
    return h.trimEnd()
  }
  const lines = [render(cell(''), names), render(cell(''), header), [keyW, ...widths].map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => render(r.head, r.values, r.marker))]
  const hidden = c.runs.length - shown
  const notes = [
    hidden ? `(+${hidden} run${hidden === 1 ? '' : 's'} not shown: ${c.runs.slice(shown).map((r) => id(r.id)).join(', ')}; widen the terminal, compare fewer runs, or use --json)` : '',
    c.diffOnly ? 'Only rows that differ are shown.' : '≠ marks rows that differ.',
    c.metrics.length ? `★ best finished run; ↑ higher is better, ↓ lower is better. ${goalLegend(c)}` : '',
    o.width !== undefined || c.info.some((r) => r.key === 'commit' || r.key === 'parent') ? `Commits and run ids are short${o.width !== undefined ? ', long values cut with …' : ''}; --json has them in full.` : '',
  ].filter(Boolean)
  const dim = st.dim ?? ((x: string) => x)
  return lines.join('\n') + '\n\n' + notes.map((n) => (o.width !== undefined ? wrapText(n, o.width) : n)).map(dim).join('\n') + '\n'
}

/** Word-wraps a note to the terminal's width. */
function wrapText(text: string, width: number): string {
  const out: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line && displayWidth(line) + 1 + displayWidth(word) > width) { out.push(line); line = word }
    else line = line ? `${line} ${word}` : word
  }
  if (line) out.push(line)
  return out.join('\n')
}

// ---------------------------------------------------------------- markdown

const MD_CELL = 120

/** Makes user text safe inside a GitHub table cell: no pipes or newlines break the row, no Markdown or HTML is interpreted. */
export function escapeMarkdownCell(s: string, max = MD_CELL): string {
  let t = s.length > max ? s.slice(0, max - 1) + '…' : s
  t = t.replace(/[\\`*_[\]|~<>&]/g, (ch) => (ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : '\\' + ch))
  return t.replace(/\r\n|\r|\n/g, '<br>')
}

/**
 * GitHub-flavoured Markdown (pastes cleanly into a pull request): one table per section, **bold** best metric values, ≠ on differing rows.
 * @example await writeFile('compare.md', renderComparisonMarkdown(compareRuns(runs)))
 */
export function renderComparisonMarkdown(c: Comparison): string {
  const out: string[] = []
  const head = `| | ${c.runs.map((r) => escapeMarkdownCell(runLabel(r))).join(' | ')} |`
  const sep = `|---|${c.runs.map(() => '---').join('|')}|`
  const cell = (v: string | undefined) => (v === undefined ? '–' : v === '' ? '""' : escapeMarkdownCell(v))
  const table = (title: string, rows: string[]) => {
    if (!rows.length) return
    out.push(`#### ${title}`, '', head, sep, ...rows, '')
  }
  const mark = (differs: boolean, key: string) => `${differs ? '≠ ' : ''}${escapeMarkdownCell(key)}`
  const plainRows = (rows: CompareRow[]) => rows.map((r) => `| ${mark(r.differs, r.key)} | ${r.values.map(cell).join(' | ')} |`)
  out.push(`### Comparing ${c.runs.length} run${c.runs.length === 1 ? '' : 's'}`, '')
  table('Run', plainRows(c.info))
  table('Params', plainRows(c.params))
  table(
    'Metrics',
    c.metrics.map((m) => {
      const vals = m.values.map((v, i) => {
        if (v === undefined) return '–'
        const latest = escapeMarkdownCell(metricLatest(v)!)
        const range = v.count > 1 ? ` <sub>${escapeMarkdownCell(metricRange(v)!)}</sub>` : ''
        return (m.best.includes(i) ? `**${latest}**` : latest) + range
      })
      return `| ${mark(m.differs, m.key)} ${arrow(m.goal)} | ${vals.join(' | ')} |`
    }),
  )
  table('Tags', plainRows(c.tags))
  const notes = [c.diffOnly ? 'Only rows that differ are shown.' : '≠ marks rows that differ.']
  if (c.metrics.length) notes.push(`Metrics show the latest value (min … max when logged more than once); **bold** is the best finished run; ↑ higher is better, ↓ lower is better. ${escapeMarkdownCell(goalLegend(c), 10_000)}`)
  out.push(`<sub>${notes.join('<br>')}</sub>`, '')
  return out.join('\n')
}
