/** The pull-request report as one GitHub comment (Markdown), kept under GitHub's size limit. Browser-safe, pure. */
import { escapeMarkdownCell } from './compare.js'
import { formatNumber } from '../model/display-numbers.js'
import { mermaidChart } from './pr-chart.js'
import type { SampleStats, Verdict as MetricVerdictWord } from '../judge/index.js'
import { type ExperimentVerdict, type PrExperiment, type PrGroup, type PrMetric, type PrReport, type PrRunRef, type Verdict } from './pr-report.js'

/** The first line of every report: the workflow finds its own comment by it and edits it in place. */
export const PR_REPORT_MARKER = '<!-- labbook-report -->'

/** GitHub rejects comments over 65,536 characters; we count UTF-8 bytes (never fewer than characters) to be safe. */
export const GITHUB_COMMENT_LIMIT = 65_536

export interface PrMarkdownOptions {
  /** Size budget in UTF-8 bytes. @default 65536 */
  maxBytes?: number
  /** Rows per table before a "… N more" line. @default { experiments: 20, metrics: 40, params: 40, failed: 30, runs: 100, charts: 4 } */
  limits?: Partial<Limits>
}

interface Limits { experiments: number; metrics: number; params: number; failed: number; runs: number; charts: number }
const DEFAULT_LIMITS: Limits = { experiments: 20, metrics: 40, params: 40, failed: 30, runs: 100, charts: 4 }

const VERDICT: Record<Verdict, [string, string]> = {
  better: ['🟢', 'Better'],
  worse: ['🔴', 'Worse'],
  mixed: ['🟡', 'Mixed'],
  inconclusive: ['⚪', 'Inconclusive'],
  'no-baseline': ['🆕', 'No baseline to compare with'],
  'no-results': ['⚪', 'No results yet'],
  'no-runs': ['⚪', 'No runs for this pull request'],
}

const EXP_VERDICT: Record<ExperimentVerdict, string> = {
  better: '🟢 better', worse: '🔴 worse', mixed: '🟡 mixed', inconclusive: '⚪ inconclusive',
  'no-baseline': '🆕 no baseline', 'no-results': '⚪ no results', 'no-pr-runs': 'not in this PR',
}
const METRIC_VERDICT: Record<MetricVerdictWord, string> = { better: '🟢 better', worse: '🔴 worse', inconclusive: '⚪ inconclusive', 'no-data': '– no data' }
const ARROW = { maximize: '↑', minimize: '↓' } as const

/**
 * Renders the report as the body of one PR comment: marker, verdict, one table per experiment (primary metrics; the
 * informational ones collapsed), charts, params, failed runs, PR runs. Tables are cut with a "… N more" line until the
 * whole fits in `maxBytes`.
 * @example await writeFile('report.md', renderPrReportMarkdown(await buildPrReport(book, { base: 'origin/main' })))
 */
export function renderPrReportMarkdown(report: PrReport, o: PrMarkdownOptions = {}): string {
  const max = o.maxBytes ?? GITHUB_COMMENT_LIMIT
  let limits: Limits = { ...DEFAULT_LIMITS, ...o.limits }
  for (;;) {
    const text = render(report, limits)
    if (byteLength(text) <= max) return text
    if (limits.experiments <= 1 && limits.metrics <= 1 && limits.params <= 0 && limits.failed <= 0 && limits.runs <= 0 && limits.charts <= 0) {
      // Only one row left and still too big (an absurd budget): cut the text itself, on a line boundary.
      return cutTo(text, max)
    }
    limits = {
      experiments: Math.max(1, Math.floor(limits.experiments / 2)), metrics: Math.max(1, Math.floor(limits.metrics / 2)), params: Math.floor(limits.params / 2), failed: Math.floor(limits.failed / 2),
      runs: Math.floor(limits.runs / 2), charts: Math.floor(limits.charts / 2),
    }
  }
}

/**
 * The verdict table alone (experiment, metric, baseline, PR, difference, verdict): the summary of the GitHub check run.
 * @example renderVerdictTable(report)
 */
export function renderVerdictTable(r: PrReport): string {
  const out = [verdictLine(r), '', '| Experiment | Metric | Baseline | PR | Δ (95% CI) | Verdict |', '|---|---|---:|---:|---:|---|']
  for (const e of r.experiments) {
    const primary = e.metrics.filter((m) => m.primary)
    if (!primary.length) out.push(`| ${escapeMarkdownCell(e.name)} | – | – | – | – | ${EXP_VERDICT[e.verdict]} |`)
    for (const m of primary) out.push(`| ${escapeMarkdownCell(e.name)} | ${metricCell(m)} | ${stat(m.baseline)} | ${stat(m.pr)} | ${delta(m)} | ${m.verdict ? METRIC_VERDICT[m.verdict] : '·'} |`)
  }
  out.push('', `<sub>${escapeMarkdownCell(STATS_NOTE, 10_000)}</sub>`, '')
  return out.join('\n')
}

const STATS_NOTE = 'Values are means over a group of repeats (runs of one configuration that differ only in their seed) ± the 95% confidence interval of the mean; Δ is the difference of means with its 95% interval (Welch). Only FINISHED runs count.'

function render(r: PrReport, limits: Limits): string {
  const out: string[] = [PR_REPORT_MARKER, '### 🧪 labbook report', '', verdictLine(r), '']
  const cell = (s: string) => escapeMarkdownCell(s)
  const touched = r.experiments.filter((e) => e.prRuns > 0)
  let single = false
  for (const e of touched.slice(0, limits.experiments)) {
    out.push(`#### ${cell(e.name)} · ${EXP_VERDICT[e.verdict]}`, '')
    out.push(sides(r, e), '')
    const primary = e.metrics.filter((m) => m.primary), info = e.metrics.filter((m) => !m.primary)
    if (primary.length) {
      out.push('| Metric | Baseline | PR | Δ (95% CI) | Verdict |', '|---|---:|---:|---:|---|')
      for (const m of primary.slice(0, limits.metrics)) out.push(metricRow(m))
      more(out, primary.length - limits.metrics, 'metric')
      out.push('')
      const lonely = primary.filter((m) => m.verdict === 'inconclusive' && !m.ci && m.minEffect === undefined)
      if (lonely.length) {
        single = true
        const keys = lonely.map((m) => '`' + m.key.replace(/`/g, "'") + '`').join(', ')
        out.push(`> ℹ️ With one run on a side, noise cannot be told from change, so the verdict stays inconclusive. For a real verdict run repeats: \`labbook run --repeat 5 -- <your command>\` (each gets \`-p seed=i\` and \`$LABBOOK_SEED\`), or set \`min_effect\` for ${keys} in labbook.config.yaml.`, '')
      }
    } else out.push('_No primary metric: nothing to judge (set `primary:` in labbook.config.yaml)._', '')
    if (info.length && limits.metrics > 0) {
      out.push(`<details><summary>${info.length} informational metric${info.length === 1 ? '' : 's'} (not judged)</summary>`, '', '| Metric | Baseline | PR | Δ (95% CI) |', '|---|---:|---:|---:|')
      for (const m of info.slice(0, limits.metrics)) out.push(`| ${metricCell(m)} | ${stat(m.baseline)} | ${stat(m.pr)} | ${delta(m)} |`)
      more(out, info.length - limits.metrics, 'metric')
      out.push('', '</details>', '')
    }
    if (e.params.length && limits.params > 0) {
      out.push('<details><summary>Params that differ (baseline configuration vs PR configuration)</summary>', '', '| Param | Baseline | PR |', '|---|---|---|')
      for (const d of e.params.slice(0, limits.params)) out.push(`| ${cell(d.key)} | ${val(d.baseline)} | ${val(d.pr)} |`)
      more(out, e.params.length - limits.params, 'param')
      out.push('', '</details>', '')
    }
  }
  if (touched.length > limits.experiments) {
    const rest = touched.slice(limits.experiments)
    out.push(`… ${rest.length} more experiment${rest.length === 1 ? '' : 's'}: ${rest.slice(0, 10).map((e) => `${cell(e.name)} ${EXP_VERDICT[e.verdict]}`).join(', ')}${rest.length > 10 ? ', …' : ''} (\`labbook report --json\` has them all).`, '')
  }
  const listed = r.experiments.filter((e) => e.prRuns === 0)
  if (listed.length) {
    const names = listed.slice(0, 20).map((e) => `${cell(e.name)} (${e.baselineRuns} baseline run${e.baselineRuns === 1 ? '' : 's'})`)
    out.push(`<sub>Not judged, no runs in this PR: ${names.join(', ')}${listed.length > 20 ? `, and ${listed.length - 20} more` : ''}.</sub>`, '')
  }

  const chartable = touched.flatMap((e) => e.metrics.filter((m) => m.primary).map((m) => ({ e, m })))
  const charts = chartable.slice(0, limits.charts).flatMap(({ e, m }) => {
    const c = mermaidChart(m)
    return c ? [{ e, c }] : []
  })
  if (charts.length) {
    const along = r.commits.filter((c) => c.runs.length).length > 1 ? 'per PR commit (best finished run of each)' : 'per finished PR run'
    out.push('<details><summary>📈 Charts</summary>', '', `<sub>${escapeMarkdownCell(`Values ${along}; the flat line is the baseline mean.`)}</sub>`, '')
    for (const { c } of charts) out.push('```mermaid', c, '```', '')
    out.push('</details>', '')
  }

  if (r.failed.length) {
    out.push(`**${r.failed.length} failed run${r.failed.length === 1 ? '' : 's'}** (shown, never counted)`, '')
    if (limits.failed > 0) {
      out.push('| Run | Status | Commit |', '|---|---|---|')
      for (const f of r.failed.slice(0, limits.failed)) out.push(`| ${runLink(f)} | ${f.status} | ${commitCell(f)} |`)
      more(out, r.failed.length - limits.failed, 'failed run')
    }
    out.push('')
  }

  if (r.models?.length) {
    out.push(`**Model registry**: ${r.models.length} version${r.models.length === 1 ? '' : 's'} registered from this PR's runs`, '', '| Model | Version | Stage | Aliases | Run |', '|---|---|---|---|---|')
    const byId = new Map(r.runs.map((x) => [x.id, x]))
    for (const m of r.models.slice(0, limits.runs)) {
      const run = byId.get(m.runId)
      out.push(`| ${escapeMarkdownCell(m.model)} | ${m.version} | ${m.stage} | ${m.aliases.map((a) => '@' + escapeMarkdownCell(a)).join(' ')} | ${run ? runLink(run) : escapeMarkdownCell(m.runId)} |`)
    }
    more(out, r.models.length - limits.runs, 'version')
    out.push('')
  }

  if (r.runs.length && limits.runs > 0) {
    out.push(`<details><summary>${r.runs.length} run${r.runs.length === 1 ? '' : 's'} of this PR</summary>`, '', '| Run | Status | Commit | Found by |', '|---|---|---|---|')
    for (const x of r.runs.slice(0, limits.runs)) out.push(`| ${runLink(x)} | ${x.status} | ${commitCell(x)} | ${x.match ?? ''} |`)
    more(out, r.runs.length - limits.runs, 'run')
    out.push('', '</details>', '')
  }

  out.push(`<sub>${footer(r, single)}</sub>`, '')
  return out.join('\n')
}

function sides(r: PrReport, e: PrExperiment): string {
  const group = (g: PrGroup | undefined, what: string) => {
    if (!g) return `${what}: none eligible`
    const link = runLink({ id: g.best.id, name: g.best.name, ...(r.siteUrl ? { url: `${r.siteUrl}/runs/${encodeURIComponent(g.best.id)}/` } : {}) })
    const n = g.runs.length
    return `${what}: ${n === 1 ? `run ${link}` : `${n} runs (best ${link})`}${g.commit ? ` on ${code(g.commit.slice(0, 7))}` : ''}`
  }
  const url = e.compareUrl
  return [group(e.baseline, 'Baseline'), group(e.pr, 'PR'), url ? `[compare](${safeUrl(url)})` : ''].filter(Boolean).join(' · ')
}

function metricCell(m: PrMetric): string {
  return `${escapeMarkdownCell(m.key)} ${m.goal ? ARROW[m.goal] : '·'}`
}

function metricRow(m: PrMetric): string {
  return `| ${metricCell(m)} | ${stat(m.baseline)} | ${stat(m.pr)} | ${delta(m)} | ${m.verdict ? METRIC_VERDICT[m.verdict] : '·'} |`
}

/** mean ± half the 95% CI (n ≥ 2), or the single value; n under it. */
function stat(s: SampleStats | undefined): string {
  if (!s) return '–'
  if (!s.ci) return s.n === 1 ? num(s.mean) : `${num(s.mean)}<br><sub>n=${s.n}</sub>`
  return `${num(s.mean)} ± ${num((s.ci[1] - s.ci[0]) / 2)}<br><sub>n=${s.n}</sub>`
}

function delta(m: PrMetric): string {
  if (m.diff === undefined) return '–'
  const ci = m.ci ? ` (${signed(m.ci[0])} … ${signed(m.ci[1])})` : ''
  const pct = m.relative === undefined ? '' : `<br><sub>${signedPct(m.relative)}</sub>`
  return `${signed(m.diff)}${ci}${pct}`
}

function verdictLine(r: PrReport): string {
  const [icon, word] = VERDICT[r.verdict]
  const base = escapeMarkdownCell(r.base.ref.replace(/^origin\//, ''))
  const runs = `${r.runs.length} run${r.runs.length === 1 ? '' : 's'}`
  const commitsWithRuns = r.commits.filter((c) => c.runs.length).length
  const where = commitsWithRuns > 0 ? ` on ${commitsWithRuns} commit${commitsWithRuns === 1 ? '' : 's'}` : ''
  const failed = r.failed.length ? `, ${r.failed.length} failed` : ''
  if (r.verdict === 'no-runs') return `${icon} **${word}** (no run's commit is between ${base} and ${code(r.head.commit.slice(0, 7))}).`
  if (r.verdict === 'no-results') return `${icon} **${word}**: none of the PR's ${runs}${where} finished with a value for a primary metric${failed}.`
  if (r.verdict === 'no-baseline') return `${icon} **${word}**: no finished run on ${base} at or before the merge-base in the PR's experiments. ${runs}${where}${failed}.`
  const decided = r.experiments.flatMap((e) => e.metrics.filter((m) => m.primary && (m.verdict === 'better' || m.verdict === 'worse')).map((m) => ({ e, m })))
  const many = r.experiments.filter((e) => e.prRuns > 0).length > 1
  const parts = decided.slice(0, 3).map(({ e, m }) =>
    `${many ? escapeMarkdownCell(e.name) + ' ' : ''}${escapeMarkdownCell(m.key)} ${num(m.baseline!.mean)} → ${num(m.pr!.mean)}${m.relative === undefined ? '' : ` (${signedPct(m.relative)})`} ${m.verdict === 'better' ? '🟢' : '🔴'}`)
  const rest = decided.length - parts.length
  const against = r.verdict === 'better' || r.verdict === 'worse' ? `${word} than ${base}**` : `${word}** against ${base}`
  const why = r.verdict === 'inconclusive' ? ': no primary metric changed beyond noise' : ''
  return `${icon} **${against}${why}${parts.length ? ': ' + parts.join(', ') + (rest > 0 ? `, and ${rest} more` : '') : ''}. ${runs}${where}${failed}.`
}

function footer(r: PrReport, single: boolean): string {
  const base = escapeMarkdownCell(r.base.ref)
  const mb = r.mergeBase ? code(r.mergeBase.slice(0, 7)) : 'the merge-base'
  const sourced = r.experiments.flatMap((e) => e.metrics).filter((m) => m.goal && m.goalSource === 'name').length
  return [
    `Baseline: per experiment, the best group of finished runs (${r.baselineRuns} run${r.baselineRuns === 1 ? '' : 's'} in all) on the first-parent history of ${base} up to ${mb}; PR: the PR's best group. A group is the runs of one configuration on one commit that differ only in their seed.`,
    escapeMarkdownCell(STATS_NOTE, 10_000) + (single ? ' A verdict needs two runs on each side, or `min_effect`.' : ''),
    `↑ higher is better, ↓ lower is better, · informational${sourced ? ' (goals not set in labbook.config.yaml come from the name)' : ''}.`,
    r.siteUrl ? `[All runs](${safeUrl(r.siteUrl + '/')})` : '',
  ].filter(Boolean).join('<br>')
}

function more(out: string[], n: number, what: string): void {
  if (n > 0) out.push(`| … ${n} more ${what}${n === 1 ? '' : 's'} | | |`)
}

function runLink(x: Pick<PrRunRef, 'id' | 'name' | 'url'>): string {
  const name = escapeMarkdownCell(x.name || x.id.slice(0, 8), 60)
  return x.url ? `[${name}](${safeUrl(x.url)})` : name
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

function safeUrl(u: string): string {
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
