/** The pull-request report as one GitHub comment (Markdown), kept under GitHub's size limit. Browser-safe, pure. */
import { escapeMarkdownCell, formatNumber } from './compare.js'
import { mermaidChart } from './pr-chart.js'
import type { MetricChange, PrMetric, PrReport, PrRunRef, Verdict } from './pr-report.js'

/** The first line of every report: the workflow finds its own comment by it and edits it in place. */
export const PR_REPORT_MARKER = '<!-- labbook-report -->'

/** GitHub rejects comments over 65,536 characters; we count UTF-8 bytes (never fewer than characters) to be safe. */
export const GITHUB_COMMENT_LIMIT = 65_536

export interface PrMarkdownOptions {
  /** Size budget in UTF-8 bytes. @default 65536 */
  maxBytes?: number
  /** Rows per table before a "… N more" line. @default { metrics: 40, params: 40, failed: 30, runs: 100, charts: 4 } */
  limits?: Partial<Limits>
}

interface Limits { metrics: number; params: number; failed: number; runs: number; charts: number }
const DEFAULT_LIMITS: Limits = { metrics: 40, params: 40, failed: 30, runs: 100, charts: 4 }

const VERDICT: Record<Verdict, [string, string]> = {
  better: ['🟢', 'Better'],
  worse: ['🔴', 'Worse'],
  mixed: ['🟡', 'Mixed'],
  same: ['⚪', 'No change'],
  'no-baseline': ['🆕', 'No baseline to compare with'],
  'no-results': ['⚪', 'No results yet'],
  'no-runs': ['⚪', 'No runs for this pull request'],
}

const CHANGE: Record<MetricChange, string> = { better: '🟢 better', worse: '🔴 worse', same: '⚪ same', new: '🆕 new', missing: '–' }
const ARROW = { maximize: '↑', minimize: '↓' } as const

/**
 * Renders the report as the body of one PR comment: marker, verdict, metrics table, charts, params, failed runs, PR runs.
 * Tables are cut with a "… N more" line until the whole fits in `maxBytes`.
 * @example await writeFile('report.md', renderPrReportMarkdown(await buildPrReport(book, { base: 'origin/main' })))
 */
export function renderPrReportMarkdown(report: PrReport, o: PrMarkdownOptions = {}): string {
  const max = o.maxBytes ?? GITHUB_COMMENT_LIMIT
  let limits: Limits = { ...DEFAULT_LIMITS, ...o.limits }
  for (;;) {
    const text = render(report, limits)
    if (byteLength(text) <= max) return text
    if (limits.metrics <= 1 && limits.params <= 0 && limits.failed <= 0 && limits.runs <= 0 && limits.charts <= 0) {
      // Only one row left and still too big (an absurd budget): cut the text itself, on a line boundary.
      return cutTo(text, max)
    }
    limits = {
      metrics: Math.max(1, Math.floor(limits.metrics / 2)), params: Math.floor(limits.params / 2), failed: Math.floor(limits.failed / 2),
      runs: Math.floor(limits.runs / 2), charts: Math.floor(limits.charts / 2),
    }
  }
}

function render(r: PrReport, limits: Limits): string {
  const out: string[] = [PR_REPORT_MARKER, '### 🧪 labbook report', '', verdictLine(r), '']
  const cell = (s: string) => escapeMarkdownCell(s)
  const shown = r.metrics.filter((m) => m.change !== 'missing' || m.baseline)
  if (shown.length) {
    out.push('| Metric | Baseline | PR best | Δ | Δ % | Verdict |', '|---|---:|---:|---:|---:|---|')
    for (const m of shown.slice(0, limits.metrics)) {
      const side = (s: PrMetric['baseline']) => (s ? `${num(s.value)}<br><sub>${runLink(s.run)}${s.run.commit ? ` · ${code(s.run.commit.slice(0, 7))}` : ''}</sub>` : '–')
      const cmp = m.compareUrl ? ` [compare](${url(m.compareUrl)})` : ''
      out.push(`| ${cell(m.key)} ${ARROW[m.goal]} | ${side(m.baseline)} | ${side(m.pr)} | ${m.delta === undefined ? '–' : signed(m.delta)} | ${m.relative === undefined ? '–' : signedPct(m.relative)} | ${CHANGE[m.change]}${cmp} |`)
    }
    more(out, shown.length - limits.metrics, 'metric')
    out.push('')
  }

  const charts = r.metrics.slice(0, limits.charts).flatMap((m) => {
    const c = mermaidChart(m)
    return c ? [{ m, c }] : []
  })
  if (charts.length) {
    const along = r.commits.filter((c) => c.runs.length).length > 1 ? 'per PR commit (best run of each)' : 'per PR run'
    out.push('<details><summary>📈 Charts</summary>', '', `<sub>${escapeMarkdownCell(`Values ${along}; the flat line is the baseline.`)}</sub>`, '')
    for (const { c } of charts) out.push('```mermaid', c, '```', '')
    out.push('</details>', '')
  }

  if (r.params.length && r.paramsOf && limits.params > 0) {
    const p = r.paramsOf
    out.push(`**Params that differ** (baseline ${runLink(p.baseline)} vs PR best ${runLink(p.pr)}, by ${cell(p.metric)})`, '', '| Param | Baseline | PR best |', '|---|---|---|')
    for (const d of r.params.slice(0, limits.params)) out.push(`| ${cell(d.key)} | ${val(d.baseline)} | ${val(d.pr)} |`)
    more(out, r.params.length - limits.params, 'param')
    out.push('')
  }

  if (r.failed.length) {
    out.push(`**${r.failed.length} failed run${r.failed.length === 1 ? '' : 's'}**`, '')
    if (limits.failed > 0) {
      out.push('| Run | Status | Commit |', '|---|---|---|')
      for (const f of r.failed.slice(0, limits.failed)) out.push(`| ${runLink(f)} | ${f.status} | ${commitCell(f)} |`)
      more(out, r.failed.length - limits.failed, 'failed run')
    }
    out.push('')
  }

  if (r.runs.length && limits.runs > 0) {
    out.push(`<details><summary>${r.runs.length} run${r.runs.length === 1 ? '' : 's'} of this PR</summary>`, '', '| Run | Status | Commit | Found by |', '|---|---|---|---|')
    for (const x of r.runs.slice(0, limits.runs)) out.push(`| ${runLink(x)} | ${x.status} | ${commitCell(x)} | ${x.match ?? ''} |`)
    more(out, r.runs.length - limits.runs, 'run')
    out.push('', '</details>', '')
  }

  out.push(`<sub>${footer(r)}</sub>`, '')
  return out.join('\n')
}

function verdictLine(r: PrReport): string {
  const [icon, word] = VERDICT[r.verdict]
  const base = escapeMarkdownCell(r.base.ref.replace(/^origin\//, ''))
  const runs = `${r.runs.length} run${r.runs.length === 1 ? '' : 's'}`
  const commitsWithRuns = r.commits.filter((c) => c.runs.length).length
  const where = commitsWithRuns > 0 ? ` on ${commitsWithRuns} commit${commitsWithRuns === 1 ? '' : 's'}` : ''
  const failed = r.failed.length ? `, ${r.failed.length} failed` : ''
  if (r.verdict === 'no-runs') return `${icon} **${word}** (no run's commit is between ${base} and ${code(r.head.commit.slice(0, 7))}).`
  if (r.verdict === 'no-results') return `${icon} **${word}**: none of the PR's ${runs}${where} finished with a metric${failed}.`
  if (r.verdict === 'no-baseline') return `${icon} **${word}**: no finished run on ${base} at or before the merge-base logged these metrics. ${runs}${where}${failed}.`
  const changed = r.metrics.filter((m) => m.change === 'better' || m.change === 'worse').slice(0, 3)
  const parts = changed.map((m) => `${escapeMarkdownCell(m.key)} ${num(m.baseline!.value)} → ${num(m.pr!.value)}${m.relative === undefined ? '' : ` (${signedPct(m.relative)})`} ${m.change === 'better' ? '🟢' : '🔴'}`)
  const rest = r.metrics.filter((m) => m.change === 'better' || m.change === 'worse').length - changed.length
  const against = r.verdict === 'mixed' || r.verdict === 'same' ? `${word}** against ${base}` : `${word} than ${base}**`
  return `${icon} **${against}${parts.length ? ': ' + parts.join(', ') + (rest > 0 ? `, and ${rest} more` : '') : ''}. ${runs}${where}${failed}.`
}

function footer(r: PrReport): string {
  const base = escapeMarkdownCell(r.base.ref)
  const mb = r.mergeBase ? code(r.mergeBase.slice(0, 7)) : 'the merge-base'
  const inferred = r.metrics.filter((m) => m.goalSource === 'inferred').length
  return [
    `Baseline: the best of ${r.baselineRuns} finished run${r.baselineRuns === 1 ? '' : 's'} on the first-parent history of ${base} up to ${mb}, per metric. PR best: the best finished run of the PR.`,
    `↑ higher is better, ↓ lower is better${inferred ? ' (goals not set in labbook.config.yaml are inferred from the name)' : ''}.`,
    r.siteUrl ? `[All runs](${url(r.siteUrl + '/')})` : '',
  ].filter(Boolean).join('<br>')
}

function more(out: string[], n: number, what: string): void {
  if (n > 0) out.push(`| … ${n} more ${what}${n === 1 ? '' : 's'} | | |`)
}

function runLink(x: PrRunRef): string {
  const name = escapeMarkdownCell(x.name || x.id.slice(0, 8), 60)
  return x.url ? `[${name}](${url(x.url)})` : name
}

function commitCell(x: PrRunRef): string {
  if (!x.commit) return '–'
  const c = code(x.commit.slice(0, 7))
  const dirty = x.dirty ? ' (dirty)' : ''
  return (x.prCommit && x.prCommit !== x.commit ? `${c} → ${code(x.prCommit.slice(0, 7))}` : c) + dirty
}

/** Commit ids are hex, safe inside a code span; anything else goes through the cell escaper first. */
function code(s: string): string {
  return /^[0-9a-f]+$/i.test(s) ? '`' + s + '`' : escapeMarkdownCell(s)
}

function val(v: string | undefined): string {
  return v === undefined ? '–' : v === '' ? '""' : escapeMarkdownCell(v)
}

function url(u: string): string {
  return u.replace(/[\s()<>|`"']/g, (ch) => encodeURIComponent(ch))
}

function num(v: number): string {
  return escapeMarkdownCell(formatNumber(v))
}

function signed(v: number): string {
  return v > 0 ? `+${formatNumber(v)}` : v < 0 ? `−${formatNumber(-v)}` : '0'
}

function signedPct(v: number): string {
  if (!Number.isFinite(v)) return v > 0 ? '+∞%' : '−∞%'
  const s = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)
  return Number(s) === 0 ? '0%' : Number(s) > 0 ? `+${s}%` : `−${s.slice(1)}%`
}

const encoder = new TextEncoder()
function byteLength(s: string): number {
  return encoder.encode(s).length
}

function cutTo(text: string, max: number): string {
  const note = '\n… (cut to fit)\n'
  let t = text
  while (byteLength(t) + byteLength(note) > max && t.length > 0) t = t.slice(0, Math.max(0, t.lastIndexOf('\n', t.length - 2)))
  return t + note
}
