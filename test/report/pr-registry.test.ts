// labbook report mentions the model registry changes a PR brings: versions registered from the PR's runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { renderPrReportMarkdown } from '../../src/report/pr-markdown.js'
import { buildPrReport } from '../../src/report/pr-report.js'
import { prRepo, type PrRepo } from '../helpers/pr-repo.js'

let f: PrRepo
let book: Labbook
beforeAll(async () => {
  f = await prRepo()
  book = await Labbook.open({ repo: f.repo.dir, recover: false })
})
afterAll(async () => {
  await book?.close()
  f?.repo.cleanup()
})

describe('PR report: model registry', () => {
  it('lists the versions registered from the PR runs (stage, aliases), not those of base runs', async () => {
    const prRun = f.runs['feat-p1']!
    const baseRun = Object.entries(f.runs).find(([name]) => !name.startsWith('feat'))![1]
    await book.models.createVersion('iris', { source: `runs:/${baseRun}/model`, runId: baseRun, createModel: true })
    const v = await book.models.createVersion('iris', { source: `runs:/${prRun}/model`, runId: prRun })
    await book.models.setAlias('iris', 'challenger', v.version)
    await book.models.transitionStage('iris', v.version, 'Staging')
    const r = await buildPrReport(book, { base: 'main', head: 'feature' })
    expect(r.models).toEqual([{ model: 'iris', version: 2, stage: 'Staging', aliases: ['challenger'], runId: prRun }])
    const md = renderPrReportMarkdown(r)
    expect(md).toContain('**Model registry**: 1 version registered from this PR\'s runs')
    expect(md).toMatch(/\| iris \| 2 \| Staging \| @challenger \| .*feat-p1/)
  })
})
