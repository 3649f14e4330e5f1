// The report must fit in one GitHub comment (65,536 characters) however many runs, metrics and params a PR has.
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { generateRuns } from '../../bench/generate.js'
import { Labbook } from '../../src/index.js'
import { mermaidChart, mermaidNumber } from '../../src/report/pr-chart.js'
import { GITHUB_COMMENT_LIMIT, PR_REPORT_MARKER, renderPrReportMarkdown } from '../../src/report/pr-markdown.js'
import { buildPrReport, type PrMetric, type PrReport, type PrRunRef } from '../../src/report/pr-report.js'

const bytes = (s: string) => Buffer.byteLength(s, 'utf8')
const dirs: string[] = []
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

function hugeReport(n: number): PrReport {
  const site = 'https://example.org/' + 'deep/'.repeat(20) + 'lab'
  const run = (i: number, status: PrRunRef['status'] = 'FINISHED'): PrRunRef => ({
    id: `run${String(i).padStart(22, '0')}`, name: `run ${i} | ${'名前'.repeat(40)}\n<script>`, status, startTime: i, commit: 'a'.repeat(40), prCommit: 'a'.repeat(40),
    match: 'commit', url: `${site}/runs/run${i}/`,
  })
  const metrics: PrMetric[] = Array.from({ length: n }, (_, i) => ({
    key: `metric/${i}/${'x'.repeat(200)}`, goal: i % 2 ? 'minimize' : 'maximize', goalSource: 'inferred',
    baseline: { value: i + 0.123456, run: run(i) }, pr: { value: i + 0.5, run: run(i + 1) }, delta: 0.376544, relative: 1.5, change: i % 2 ? 'worse' : 'better',
    series: Array.from({ length: 60 }, (_, s) => ({ label: `c${s}`, value: s / 7 })), compareUrl: `${site}/compare/?runs=a,b`,
  }))
  return {
    version: 1, base: { ref: 'origin/main', commit: 'b'.repeat(40) }, head: { ref: 'HEAD', commit: 'c'.repeat(40), branch: 'feat' }, mergeBase: 'd'.repeat(40),
    commits: Array.from({ length: n }, (_, i) => ({ commit: String(i).padStart(40, '0'), subject: `commit ${i}`, runs: [run(i).id] })),
    runs: Array.from({ length: n }, (_, i) => run(i, i % 2 ? 'FAILED' : 'FINISHED')),
    baselineRuns: n, metrics,
    params: Array.from({ length: n }, (_, i) => ({ key: `param_${i}`, baseline: 'v|'.repeat(3000), pr: '`x`\n'.repeat(1500) })),
    paramsOf: { baseline: run(0), pr: run(1), metric: metrics[0]!.key },
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
      key: 'val/loss', goal: 'minimize', goalSource: 'inferred', change: 'new',
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
})
