/** A 1,000,000-point metric: drawn from 1,500 points with its spike kept, the full history loads on demand without freezing the page. */
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { summarize } from '../../src/model/metric.js'
import type { MetricPoint } from '../../src/model/run.js'
import { buildSite } from '../../src/site/build/index.js'
import { decodeSeries } from '../../src/site/browser/charts/series.js'
import { MemorySource } from '../../src/site/build/memory-source.js'
import { readSeriesFile } from '../../src/site/build/site-data.js'
import type { PreviewServer } from '../../src/site/build/preview.js'
import { builtSite, type BuiltSite } from '../helpers/built-site.js'
import { fakeRuns } from '../helpers/site-fixtures.js'

let site: BuiltSite<void, { out: string }>
let out: string, srv: PreviewServer, browser: Browser, runId: string
const N = 1_000_000, SPIKE = 654_321

beforeAll(async () => {
  const f = fakeRuns({ runs: 1, steps: 5, experiments: 1 })
  const run = f.runs[0]!
  const history = run.history as MetricPoint[]
  for (let i = 0; i < N; i++) history.push({ key: 'big', value: Math.sin(i / 5000) + (i === SPIKE ? 10 : 0), step: i, timestamp: 1_700_000_000_000 + i * 7 })
  run.summary.metrics = summarize(history)
  runId = run.summary.id
  // From a MemorySource (the repository stays empty); the Astro scratch folder in its .git/labbook, as a repo build's
  site = await builtSite({ populate: async () => {}, build: async (r, out) => {
    await buildSite({ source: new MemorySource(f.experiments, f.runs), out, workDir: join(r.dir, '.git', 'labbook', 'site-work'), logLevel: 'error' })
    return { out }
  } })
  ;({ srv, browser } = site)
  out = site.built.out
}, 120_000)
afterAll(() => site?.close())

it('draws 1,500 points with the spike, then the full history on demand', async () => {
  const files = readdirMetric()
  const drawn = readSeriesFile(out, files.drawn)
  expect(drawn.n).toBe(N)
  expect(drawn.dq!.length).toBeLessThanOrEqual(1500)
  const d = decodeSeries(drawn)
  expect(d.step.at(-1)).toBe(N - 1)
  expect(d.step).toContain(SPIKE)
  expect(Math.max(...d.value)).toBeGreaterThan(9) // sin(...) + 10 at the spike; everything else stays within ±1
  const page = await browser.newPage()
  await page.goto(`${srv.url}runs/${runId}/`, { waitUntil: 'networkidle' })
  const fig = page.locator('.run-charts figure[data-metric="big"]')
  await fig.locator('svg').waitFor()
  const t0 = Date.now()
  await fig.getByRole('button', { name: 'Load full history' }).click()
  await expect.poll(() => fig.getByRole('button').count(), { timeout: 10_000 }).toBe(0)
  expect(Date.now() - t0).toBeLessThan(5_000)
  // The page still answers at once.
  expect(await page.evaluate(async () => { const t = performance.now(); await new Promise((r) => setTimeout(r, 0)); return performance.now() - t })).toBeLessThan(200)
  await page.close()
})

function readdirMetric() {
  const idx = ['acc', 'big', 'loss', 'val_loss'].indexOf('big')
  return { drawn: `data/runs/${runId}/series.bin#${idx}`, full: join(out, 'data', 'runs', runId, 'm', `${idx}.full.json`) }
}
