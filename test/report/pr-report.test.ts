// The pull-request report against a real repository: main with runs, a PR branch with better and worse runs, a rebased branch.
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { Labbook } from '../../src/index.js'
import { buildPrReport, regressions, type PrReport } from '../../src/report/pr-report.js'
import { PR_REPORT_MARKER, renderPrReportMarkdown } from '../../src/report/pr-markdown.js'
import { captureIO } from '../helpers/cli.js'
import { prRepo, type PrRepo } from '../helpers/pr-repo.js'

let f: PrRepo
let book: Labbook
let before: string

beforeAll(async () => {
  f = await prRepo()
  before = f.repo.userState()
  book = await Labbook.open({ repo: f.repo.dir, recover: false })
})
afterAll(async () => {
  await book?.close()
  f?.repo.cleanup()
})

async function cli(argv: string[]) {
  const c = captureIO(f.repo.dir, { GITHUB_HEAD_REF: undefined })
  const r = await main(argv, c.io)
  return { ...r, stdout: c.stdout(), stderr: c.stderr() }
}

const names = (refs: Array<{ name: string }>) => refs.map((r) => r.name)

describe('buildPrReport', () => {
  let r: PrReport
  beforeAll(async () => {
    r = await buildPrReport(book, { base: 'main', head: 'feature' })
  })

  it('finds the PR runs by commit, and by branch when this clone lacks the commit', () => {
    expect(r.mergeBase).toBe(f.commits.m)
    expect(r.head).toEqual({ ref: 'feature', commit: f.commits.p3, branch: 'feature' })
    expect(r.commits.map((c) => c.commit)).toEqual([f.commits.p1, f.commits.p2, f.commits.p3])
    expect(r.runs.map((x) => [x.name, x.match])).toEqual([
      ['feat-p1', 'commit'], ['wide | net v2 <i>', 'commit'], ['feat-p3-crash', 'commit'], ['feat-remote', 'branch'],
    ])
    expect(names(r.failed)).toEqual(['feat-p3-crash'])
  })

  it('takes the best base group on first-parent history up to the merge-base, not the latest, not a side branch, not a failed run', () => {
    // Candidates: base-c0, base-c1, base-c2, base-m. Excluded: side-s1 (second parent), after-c4 (after the merge-base), base-c2-crash (FAILED).
    expect(r.baselineRuns).toBe(4)
    expect(r.experiments).toHaveLength(1)
    const e = r.experiments[0]!
    expect(e).toMatchObject({ name: 'cifar', baseline: { best: { name: 'base-c1' }, commit: f.commits.c1 }, pr: { best: { name: 'wide | net v2 <i>' }, commit: f.commits.p2 } })
    const acc = e.metrics.find((m) => m.key === 'accuracy')!
    expect(acc).toMatchObject({ primary: true, goal: 'maximize', baseline: { n: 1, mean: 0.85 }, pr: { n: 1, mean: 0.88 }, verdict: 'inconclusive' })
    expect(acc.relative).toBeCloseTo(3.5294, 3)
    expect(acc.reason).toMatch(/one run/)
    // Informational: every other metric of the two groups, never judged into the verdict.
    expect(e.metrics.filter((m) => !m.primary).map((m) => m.key)).toEqual(['epoch_time', 'loss'])
    expect(e.verdict).toBe('inconclusive')
    expect(r.verdict).toBe('inconclusive')
  })

  it('lists the params that differ between the baseline and the PR configurations', () => {
    expect(r.experiments[0]!.params).toEqual([
      { key: 'layers', baseline: '2', pr: '4' },
      { key: 'note', baseline: 'warm|up `x` <b>bold</b>' },
      { key: 'optimizer', pr: 'adam' },
    ])
  })

  it('finds a run whose commit a rebase rewrote through its patch-id', async () => {
    const rb = await buildPrReport(book, { base: 'main', head: 'rb' })
    expect(rb.mergeBase).toBe(f.commits.c4)
    expect(rb.runs).toMatchObject([{ name: 'rb-before-rebase', commit: f.commits.r1old, prCommit: f.commits.r1, match: 'patch-id' }])
    // The base moved on: after-c4 is now at the merge-base, and the best; one run a side: inconclusive, unless min_effect decides.
    expect(rb.experiments[0]).toMatchObject({ baseline: { best: { name: 'after-c4' } }, verdict: 'inconclusive' })
    const gated = await buildPrReport(book, { base: 'main', head: 'rb', goals: { metrics: { accuracy: { min_effect: 0.05 } } } })
    expect(gated.experiments[0]!.metrics[0]).toMatchObject({ key: 'accuracy', verdict: 'worse', minEffect: 0.05 })
    expect(gated.verdict).toBe('worse')
  })

  it('says so when the PR has no runs, and rejects a ref that does not exist', async () => {
    const none = await buildPrReport(book, { base: 'main', head: 'main', headBranch: 'nothing-here' })
    expect(none).toMatchObject({ verdict: 'no-runs', runs: [], commits: [] })
    expect(renderPrReportMarkdown(none)).toContain('No runs for this pull request')
    await expect(buildPrReport(book, { base: 'no-such-branch' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })

  it('says "no results" when the PR only has failed runs', async () => {
    const onlyFailed = { repo: f.repo.dir, listRuns: async () => (await book.listRuns()).filter((x) => x.name === 'feat-p3-crash' || x.name.startsWith('base-')) }
    const r = await buildPrReport(onlyFailed, { base: 'main', head: 'feature' })
    expect(r).toMatchObject({ verdict: 'no-results', failed: [{ name: 'feat-p3-crash' }] })
    expect(renderPrReportMarkdown(r)).toContain("⚪ **No results yet**: none of the PR's 1 run on 1 commit finished with a value for a primary metric, 1 failed.")
  })

  it('gates only on primary metrics judged worse', async () => {
    expect(regressions(r)).toEqual([]) // single runs: inconclusive
    const lossFirst = await buildPrReport(book, { base: 'main', head: 'feature', goals: { primary: ['loss'], metrics: { loss: { min_effect: 0.005 } } } })
    expect(regressions(lossFirst).map((x) => [x.experiment.name, x.metric.key])).toEqual([['cifar', 'loss']])
    const noisy = await buildPrReport(book, { base: 'main', head: 'feature', goals: { primary: ['loss'], metrics: { loss: { min_effect: 0.02 } } } })
    expect(regressions(noisy)).toEqual([])
  })
})

describe('Markdown', () => {
  it('matches the golden file for a mixed PR (site links, escaping, charts)', async () => {
    const r = await buildPrReport(book, { base: 'main', head: 'feature', siteUrl: 'https://example.org/lab/' })
    const md = renderPrReportMarkdown(r)
    expect(md.split('\n')[0]).toBe(PR_REPORT_MARKER)
    await expect(f.normalize(md)).toMatchFileSnapshot('./golden/pr-feature.md')
  })

  it('matches the golden file for a rebased PR without a site', async () => {
    const md = renderPrReportMarkdown(await buildPrReport(book, { base: 'main', head: 'rb' }))
    expect(md).not.toContain('](http')
    await expect(f.normalize(md)).toMatchFileSnapshot('./golden/pr-rebased.md')
  })

  it('never lets user text break a table row or inject HTML', async () => {
    const md = renderPrReportMarkdown(await buildPrReport(book, { base: 'main', head: 'feature' }))
    expect(md).not.toMatch(/<i>|<b>/)
    for (const line of md.split('\n').filter((l) => l.startsWith('| '))) {
      // Every row of a table has the same number of unescaped pipes as its header.
      expect(line.replace(/\\\|/g, '').split('|').length).toBeGreaterThanOrEqual(4)
    }
    expect(md).toContain('wide \\| net v2 &lt;i&gt;')
    expect(md).toContain('warm\\|up \\`x\\` &lt;b&gt;bold&lt;/b&gt;')
  })
})

describe('labbook report (CLI)', () => {
  it('prints Markdown by default and JSON with --json', async () => {
    const md = await cli(['report', '--base', 'main', '--head', 'feature'])
    expect(md.exitCode).toBe(0)
    expect(md.stdout.startsWith(PR_REPORT_MARKER + '\n')).toBe(true)
    const js = await cli(['report', '--base', 'main', '--head', 'feature', '--json', '--site-url', 'https://example.org/lab'])
    expect(js.exitCode).toBe(0)
    const data = JSON.parse(js.stdout) as PrReport
    expect(Object.keys(data)).toEqual(['version', 'base', 'head', 'mergeBase', 'commits', 'runs', 'baselineRuns', 'experiments', 'failed', 'verdict', 'siteUrl'])
    expect(data.version).toBe(2)
    expect(data.experiments[0]!.metrics.map((m) => [m.key, m.primary, m.verdict])).toEqual([['accuracy', true, 'inconclusive'], ['epoch_time', false, 'no-data'], ['loss', false, 'inconclusive']])
    expect(data.experiments[0]).toMatchObject({ compareUrl: `https://example.org/lab/compare/?runs=${f.runs['base-c1']},${f.runs['wide | net v2 <i>']}` })
    expect(data.runs[0]).toMatchObject({ url: `https://example.org/lab/runs/${f.runs['feat-p1']}/` })
    expect(data.siteUrl).toBe('https://example.org/lab')
  })

  it('--fail-on-regression exits 1 on a primary metric judged worse, says which and by how much, and still prints the report', async () => {
    const ok = await cli(['report', '--base', 'main', '--head', 'feature', '--fail-on-regression'])
    expect(ok.exitCode).toBe(0) // one run a side: inconclusive is never a failure
    expect(ok.stderr).toBe('')
    const cfg = join(f.repo.dir, 'labbook.config.yaml')
    writeFileSync(cfg, 'primary: [loss]\nmetrics:\n  loss: { min_effect: 0.005 }\n')
    try {
      const bad = await cli(['report', '--base', 'main', '--head', 'feature', '--fail-on-regression'])
      expect(bad.exitCode).toBe(1)
      expect(bad.stdout).toContain(PR_REPORT_MARKER)
      expect(bad.stderr).toContain('regression: cifar loss 0.4 (n=1) -> 0.41 (n=1): +0.01, min_effect 0.005, 2.50% worse')
    } finally {
      rmSync(cfg)
    }
  })

  it('only gates on the primary metrics of labbook.config.yaml', async () => {
    const cfg = join(f.repo.dir, 'labbook.config.yaml')
    writeFileSync(cfg, 'primary: [accuracy]\nmetrics:\n  accuracy: max\n')
    try {
      const r = await cli(['report', '--base', 'main', '--head', 'feature', '--json', '--fail-on-regression'])
      expect(r.exitCode).toBe(0)
      expect((JSON.parse(r.stdout) as PrReport).experiments[0]!.metrics.filter((m) => m.primary).map((m) => [m.key, m.goalSource])).toEqual([['accuracy', 'config']])
      writeFileSync(cfg, 'metrics:\n  accuracy: upwards\n')
      const bad = await cli(['report', '--base', 'main', '--head', 'feature'])
      expect(bad.exitCode).toBe(1)
      expect(bad.stderr).toContain('INVALID_VALUE')
      writeFileSync(cfg, 'metrics: [unclosed\n')
      expect((await cli(['report', '--base', 'main', '--head', 'feature'])).stderr).toMatch(/INVALID_VALUE.*not valid YAML/)
    } finally {
      rmSync(cfg)
    }
  })

  it('limits the report to one experiment with -e', async () => {
    const r = await cli(['report', '--base', 'main', '--head', 'feature', '--json', '-e', 'cifar'])
    expect((JSON.parse(r.stdout) as PrReport).runs).toHaveLength(4)
    const missing = await cli(['report', '--base', 'main', '-e', 'imagenet'])
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr).toContain('EXPERIMENT_NOT_FOUND')
  })

  it('rejects bad usage with exit code 2', async () => {
    expect((await cli(['report'])).exitCode).toBe(2)
    expect((await cli(['report', '--base', 'main', '--md', '--json'])).exitCode).toBe(2)
    expect((await cli(['report', '--base', 'main', '--fail-on-regression', 'lots'])).exitCode).toBe(2)
    const missing = await cli(['report', '--base', 'nope'])
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toContain('INVALID_ARGUMENT')
  })

  it("leaves the user's worktree, index, HEAD and branches untouched", () => {
    expect(f.repo.userState()).toBe(before)
  })
})
