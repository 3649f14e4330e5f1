import { defineCommand } from 'citty'
import { loadGoalConfig } from '../src/report/config.js'
import { renderPrReportMarkdown } from '../src/report/pr-markdown.js'
import { buildPrReport, regressions, worsening } from '../src/report/pr-report.js'
import { formatNumber } from '../src/report/compare.js'
import { usage } from './args.js'
import { withBook } from './book.js'
import { ctx, setExit } from './context.js'
import { withExamples } from './help.js'
import { out, say, toJson } from './output.js'

export default withExamples(defineCommand({
  meta: { name: 'report', description: "Pull-request report: the PR's runs against the best runs of the base branch (Markdown or JSON)" },
  args: {
    base: { type: 'string', description: 'The branch the PR merges into, e.g. origin/main (required)', valueHint: 'REF' },
    head: { type: 'string', description: 'The PR tip (default: HEAD)', valueHint: 'REF' },
    'head-branch': { type: 'string', description: "The PR's branch name, for runs whose commit this clone lacks (default: $GITHUB_HEAD_REF when set, else the branch --head names)", valueHint: 'NAME' },
    experiment: { type: 'string', alias: 'e', description: 'Only runs of this experiment (name or id)', valueHint: 'NAME' },
    md: { type: 'boolean', description: 'Print Markdown for a PR comment (the default)' },
    json: { type: 'boolean', description: 'Print the report as JSON' },
    'site-url': { type: 'string', description: 'Published labbook site, to link run and compare pages', valueHint: 'URL' },
    'fail-on-regression': { type: 'string', description: 'Exit 1 when a primary metric got worse by more than PCT percent', valueHint: 'PCT' },
  },
  async run({ args }) {
    const { io } = ctx()
    if (!args.base) throw usage('--base is required.', 'Name the branch the PR merges into, e.g. --base origin/main.')
    if (args.md && args.json) throw usage('Choose one of --md and --json.')
    const pctText = args['fail-on-regression']
    const pct = pctText === undefined ? undefined : Number(String(pctText).replace(/%$/, ''))
    if (pct !== undefined && (!Number.isFinite(pct) || pct < 0 || String(pctText).trim() === '')) throw usage(`--fail-on-regression must be a percentage like 2 or 0.5, got ${JSON.stringify(pctText)}.`)
    const siteUrl = args['site-url'] ? String(args['site-url']) : undefined
    if (siteUrl && !/^https?:\/\//.test(siteUrl)) throw usage(`--site-url must start with http:// or https://, got ${JSON.stringify(siteUrl)}.`)
    await withBook(async (book) => {
      const goals = await loadGoalConfig(book.repo)
      const report = await buildPrReport(book, {
        base: String(args.base), head: args.head ? String(args.head) : undefined,
        headBranch: args['head-branch'] ? String(args['head-branch']) : io.env.GITHUB_HEAD_REF || undefined, siteUrl, goals,
        experiment: args.experiment ? String(args.experiment) : undefined,
      })
      if (args.json) out(io, toJson(report))
      else io.stdout.write(renderPrReportMarkdown(report))
      if (pct !== undefined) {
        const bad = regressions(report, pct)
        if (bad.length) {
          for (const m of bad) {
            const w = worsening(m)
            say(io, `regression: ${m.key} ${formatNumber(m.baseline!.value)} -> ${formatNumber(m.pr!.value)} (${Number.isFinite(w) ? w.toFixed(2) + '%' : 'from 0'} worse, limit ${pct}%)`)
          }
          setExit(1)
        }
      }
    }, { recover: false })
  },
}), [
  'labbook report --base origin/main > report.md',
  'labbook report --base main --head feature --json',
  'labbook report --base origin/main --site-url https://me.github.io/repo --fail-on-regression 2',
])
