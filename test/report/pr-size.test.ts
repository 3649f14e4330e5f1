// The report must fit in one GitHub comment (65,536 characters) however many runs, metrics and params a PR has.
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { generateRuns } from '../../bench/generate.js'
import { Labbook } from '../../src/index.js'
import { mermaidChart, mermaidNumber } from '../../src/report/pr-chart.js'
import { GITHUB_COMMENT_LIMIT, PR_REPORT_MARKER, renderPrReportMarkdown } from '../../src/report/pr-markdown.js'
import { buildPrReport, type PrExperiment, type PrMetric, type PrReport, type PrRunRef } from '../../src/report/pr-report.js'

const bytes = (s: string) => Buffer.byteLength(s, 'utf8')
const dirs: string[] = []
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

function hugeReport(n: number): PrReport {
  const site = 'https://example.org/' + 'deep/'.repeat(20) + 'lab'
  const run = (i: number, status: PrRunRef['status'] = 'FINISHED'): PrRunRef => ({
    id: `run${String(i).padStart(22, '0')}`, name: `run ${i} | ${'名前'.repeat(40)}\n<script>`, experiment: 'e', status, startTime: i, commit: 'a'.repeat(40), prCommit: 'a'.repeat(40),
    match: 'commit', url: `${site}/runs/run${i}/`,
  })
  const stats = (mean: number) => ({ n: 5, mean, std: 0.1, min: mean - 0.2, max: mean + 0.2, ci: [mean - 0.124, mean + 0.124] as [number, number] })
  const metrics = (k: number): PrMetric[] => Array.from({ length: k }, (_, i) => ({
    key: `metric/${i}/${'x'.repeat(200)}`, goal: i % 2 ? 'minimize' : 'maximize', goalSource: 'name', primary: i < k / 2,
    baseline: stats(i + 0.123456), pr: stats(i + 0.5), diff: 0.376544, ci: [0.2, 0.55], relative: 1.5, verdict: i % 2 ? 'worse' : 'better', reason: 'the 95% interval of the difference excludes 0',
    series: Array.from({ length: 60 }, (_, s) => ({ label: `c${s}`, value: s / 7 })),
  }))
  const group = (i: number) => ({ label: { lr: 'v|'.repeat(300) }, commit: 'a'.repeat(40), runs: Array.from({ length: 5 }, (_, k) => run(i * 5 + k).id), best: { id: run(i).id, name: run(i).name } })
  const experiments: PrExperiment[] = Array.from({ length: 60 }, (_, e) => ({
    id: `e${e}`, name: `experiment ${e} ${'ü'.repeat(50)}`, verdict: 'mixed', baselineRuns: n, prRuns: n, baseline: group(e), pr: group(e + 1),
    metrics: metrics(e === 0 ? n : 6), compareUrl: `${site}/compare/?runs=a,b`,
    params: Array.from({ length: e === 0 ? n : 3 }, (_, i) => ({ key: `param_${i}`, baseline: 'v|'.repeat(3000), pr: '`x`\n'.repeat(1500) })),
  }))
  return {
    version: 2, base: { ref: 'origin/main', commit: 'b'.repeat(40) }, head: { ref: 'HEAD', commit: 'c'.repeat(40), branch: 'feat' }, mergeBase: 'd'.repeat(40),
    commits: Array.from({ length: n }, (_, i) => ({ commit: String(i).padStart(40, '0'), subject: `commit ${i}`, runs: [run(i).id] })),
    runs: Array.from({ length: n }, (_, i) => run(i, i % 2 ? 'FAILED' : 'FINISHED')),
    baselineRuns: n, experiments,
    failed: Array.from({ length: n / 2 }, (_, i) => run(2 * i + 1, 'FAILED')),
    verdict: 'mixed', siteUrl: site,
  }
}

describe('size limit', () => {
  it('cuts every table with a "… N more" line so 500 runs, metrics and 6,000-character params fit in one comment', () => {
    const md = renderPrReportMarkdown(hugeReport(500))
    expect(bytes(md)).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT)
    expect(md.split('\n')[0]).toBe(PR_REPORT_MARKER)
    expect(md).toMatch(/… \d+ more metrics/)
    expect(md).toMatch(/… \d+ more experiments/)
    expect(md).toMatch(/… \d+ more runs|<\/sub>\n$/)
    expect(md).not.toContain('<script>')
    // Still a useful report: the verdict and the first metric survive.
    expect(md).toContain('🟡 **Mixed**')
    expect(md).toContain('metric/0/')
  })

  it('honours a smaller budget', () => {
    const md = renderPrReportMarkdown(hugeReport(50), { maxBytes: 10_000 })
    expect(bytes(md)).toBeLessThanOrEqual(10_000)
    expect(md.startsWith(PR_REPORT_MARKER)).toBe(true)
  })

  it('stays under the limit for ~500 PR runs in a real repository', async () => {
    const dir = fs.mkdtempSync(join(os.tmpdir(), 'labbook-pr-size-'))
    dirs.push(dir)
    // generateRuns puts every third run on branch "feature" with a commit this clone doesn't have: 500 of 1,500, 10 deleted.
    await generateRuns(dir, 1500, { params: 5, metrics: 4, points: 1, batch: 1500 })
    const book = await Labbook.open({ repo: dir, recover: false })
    try {
      const r = await buildPrReport(book, { base: 'main', head: 'main', headBranch: 'feature' })
      expect(r.runs).toHaveLength(490)
      expect(r.runs.every((x) => x.match === 'branch')).toBe(true)
      expect(r.verdict).toBe('no-baseline')
      const md = renderPrReportMarkdown(r)
      expect(bytes(md)).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT)
      expect(md).toMatch(/… \d+ more runs/)
      expect(md).toMatch(/… \d+ more failed runs/)
    } finally {
      await book.close()
    }
  })
})

describe('Mermaid chart', () => {
  it('writes numbers xychart can parse and labels without quotes', () => {
    expect(mermaidNumber(1e-7)).toBe('0.0000001')
    expect(mermaidNumber(2.5e21)).toBe('2500000000000000000000')
    expect(mermaidNumber(0.123456789)).toBe('0.123457')
    const m: PrMetric = {
      key: 'val/loss', goal: 'minimize', goalSource: 'name', primary: true,
      series: [{ label: 'a"b`c', value: 1 }, { label: 'run ]two[', value: NaN }, { label: 'x', value: 2 }],
    }
    expect(mermaidChart(m)).toBe([
      'xychart-beta',
      '  title "val/loss (lower is better)"',
      '  x-axis ["abc", "x"]',
      '  y-axis 0.9 --> 2.1',
      '  line [1, 2]',
    ].join('\n'))
    expect(mermaidChart({ ...m, series: [{ label: 'one', value: 1 }] })).toBeUndefined()
  })
  it('keeps the end of long run names, where repeats differ (npm run demo: three "rf-n5-d2-seed…" looked alike)', () => {
    const m: PrMetric = { key: 'accuracy', goal: 'maximize', goalSource: 'config', primary: true, series: [0, 1, 2].map((i) => ({ label: `rf-n5-d2-seeds-seed${i}`, value: i })) }
    expect(mermaidChart(m)!.split('\n')[2]).toBe('  x-axis ["rf-n5-d…-seed0", "rf-n5-d…-seed1", "rf-n5-d…-seed2"]')
  })
})
