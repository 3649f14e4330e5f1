import { defineCommand } from 'citty'
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { loadConfig } from '../src/format/config-file.js'
import { renderPrReportMarkdown, renderVerdictTable } from '../src/report/pr-markdown.js'
import { buildPrReport, regressions } from '../src/report/pr-report.js'
import { formatNumber } from '../src/model/display-numbers.js'
import { usage } from './args.js'
import { withBook } from './book.js'
import { ctx, setExit } from './context.js'
import { withExamples } from './help.js'
import { out, say, toJson } from './output.js'

export default withExamples(defineCommand({
  meta: { name: 'report', description: "Pull-request report: per experiment, the PR's best group of runs against the base branch's, with a verdict that knows about noise" },
  args: {
    base: { type: 'string', description: 'The branch the PR merges into, e.g. origin/main (required)', valueHint: 'REF' },
    head: { type: 'string', description: 'The PR tip (default: HEAD)', valueHint: 'REF' },
    'head-branch': { type: 'string', description: "The PR's branch name, for runs whose commit this clone lacks (default: $GITHUB_HEAD_REF when set, else the branch --head names)", valueHint: 'NAME' },
    experiment: { type: 'string', alias: 'e', description: 'Only runs of this experiment (name or id)', valueHint: 'NAME' },
    md: { type: 'boolean', description: 'Print Markdown for a PR comment (the default)' },
    json: { type: 'boolean', description: 'Print the report as JSON' },
    'site-url': { type: 'string', description: 'Published labbook site, to link run and compare pages', valueHint: 'URL' },
    metrics: { type: 'string', description: "Judge these metrics (comma-separated) instead of each experiment's primary metrics", valueHint: 'LIST' },
    'verdict-table': { type: 'string', description: 'Also write the verdict table alone (Markdown) to FILE: the summary of a GitHub check run', valueHint: 'FILE' },
    'fail-on-regression': { type: 'boolean', description: 'Exit 1 when a primary metric is judged worse (beyond noise, or by min_effect)' },
  },
  async run({ args }) {
    const { io } = ctx()
    if (!args.base) throw usage('--base is required.', 'Name the branch the PR merges into, e.g. --base origin/main.')
    if (args.md && args.json) throw usage('Choose one of --md and --json.')
    if (args._.length) {
      throw usage(`report takes no positional arguments, got ${JSON.stringify(args._.join(' '))}.`,
        '--fail-on-regression takes no percentage: it fails on a primary metric judged worse. To ignore small changes, set min_effect per metric in labbook.config.yaml.')
    }
    const metrics = args.metrics ? String(args.metrics).split(',').map((s) => s.trim()).filter(Boolean) : undefined
    const siteUrl = args['site-url'] ? String(args['site-url']) : undefined
    if (siteUrl && !/^https?:\/\//.test(siteUrl)) throw usage(`--site-url must start with http:// or https://, got ${JSON.stringify(siteUrl)}.`)
    await withBook(async (book) => {
      const goals = loadConfig(book.repo)
      const report = await buildPrReport(book, {
        base: String(args.base), head: args.head ? String(args.head) : undefined,
        headBranch: args['head-branch'] ? String(args['head-branch']) : io.env.GITHUB_HEAD_REF || undefined, siteUrl, goals,
        experiment: args.experiment ? (await book.getExperiment(String(args.experiment))).id : undefined,
        ...(metrics ? { metrics } : {}),
      })
      if (args.json) out(io, toJson(report))
      else io.stdout.write(renderPrReportMarkdown(report))
      if (args['verdict-table']) writeFileSync(resolve(io.cwd, String(args['verdict-table'])), renderVerdictTable(report))
      if (args['fail-on-regression']) {
        const bad = regressions(report)
        for (const { experiment: e, metric: m } of bad) {
          const side = (x: typeof m.baseline) => (x ? `${formatNumber(x.mean)}${x.ci ? ` ± ${formatNumber((x.ci[1] - x.ci[0]) / 2)}` : ''} (n=${x.n})` : '?')
          const ci = m.ci ? `, 95% CI ${formatNumber(m.ci[0])} … ${formatNumber(m.ci[1])}` : m.minEffect !== undefined ? `, min_effect ${formatNumber(m.minEffect)}` : ''
          const pct = m.relative === undefined ? '' : `, ${Math.abs(m.relative).toFixed(2)}% worse`
          say(io, `regression: ${e.name} ${m.key} ${side(m.baseline)} -> ${side(m.pr)}: ${m.diff! > 0 ? '+' : ''}${formatNumber(m.diff!)}${ci}${pct}`)
        }
        if (bad.length) setExit(1)
      }
    }, { recover: false })
  },
}), [
  'labbook report --base origin/main > report.md',
  'labbook report --base main --head feature --json',
  'labbook report --base origin/main --site-url https://me.github.io/repo --fail-on-regression',
  'labbook report --base origin/main --md --verdict-table verdict.md > report.md',
])
