/**
 * Issue 16's site: charts as readable as W&B's (fitted y axis with "from zero", drag-to-zoom with full-resolution
 * points, a crosshair with every line's value, one-point metrics as values and bars, system/* collapsed), a failed
 * run's traceback by its badge, home and experiment polish, and the default `_site/` that ignores itself. One real
 * repository, built once through `labbook site build` into `_site/`, driven in headless chromium; screenshots of
 * every page at 1440x900 and 390x844, light and dark, go to test-output/site-h16/.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { Labbook } from '../../src/index.js'
import { crosshairRows, tickNumber } from '../../src/site/browser/charts/line.js'
import type { PreviewServer } from '../../src/site/build/preview.js'
import { captureIO } from '../helpers/cli.js'
import { builtSite, hydrated, type BuiltSite } from '../helpers/built-site.js'
import type { TestRepo } from '../helpers/git-repo.js'

const SHOTS = join(process.cwd(), 'test-output', 'site-h16')
let site: BuiltSite<void, { out: string }>
let repo: TestRepo
let srv: PreviewServer
let browser: Browser
let buildErr = ''
const ids: Record<string, string> = {}
/** The server's address without its trailing slash (the site is built at base /). */
const root = () => srv.url.replace(/\/$/, '')
let expId = ''

beforeAll(async () => {
  rmSync(SHOTS, { recursive: true, force: true })
  mkdirSync(SHOTS, { recursive: true })
  site = await builtSite({ populate: async (r) => {
    repo = r
    const book = await Labbook.open({ repo: repo.dir })
    await book.init()
    const t0 = Date.UTC(2026, 0, 5, 9)
    const exp = await book.experiment('sklearn-sweep')
    expId = exp.id
    await book.experiment('empty-one')
    for (const [i, name] of ['mlp-64', 'mlp-128'].entries()) {
      const run = await exp.startRun({ name, params: { hidden: 64 * (i + 1), lr: 0.001 }, startTime: t0 + i * 3_600_000, source: { commit: 'ab'.repeat(20), branch: 'main' } })
      // 5,000 points: the site draws 1,500 and keeps the full history for zooming.
      for (let s = 0; s < 5000; s++) run.logMetrics({ val_accuracy: 0.85 + 0.13 * (1 - Math.exp(-s / 800)) - 0.005 * i + (s === 2500 ? 0.01 : 0) }, { step: s, timestamp: t0 + s * 100 })
      for (let s = 0; s < 40; s++) run.logMetrics({ train_loss: 1 / (s + 1 + i) }, { step: s, timestamp: t0 + s * 1000 })
      run.logMetric('test_accuracy', 0.93 + 0.01 * i, { step: 0, timestamp: t0 + 999_000 })
      for (let s = 0; s < 5; s++) run.logMetrics({ 'system/cpu_utilization_percentage': 90 + s, 'system/memory_rss_megabytes': 800 + s }, { step: s, timestamp: t0 + s * 10_000 })
      await run.logBytes('labbook/output.log', `epoch 1\nepoch 2\n`)
      await run.end('FINISHED', { endTime: t0 + 1_000_000 })
      ids[name] = run.id
    }
    const failed = await exp.startRun({ name: 'mlp-broken', params: { hidden: 512 }, startTime: t0 + 3 * 3_600_000 })
    failed.logMetric('train_loss', 0.9, { step: 0 })
    failed.setTag('labbook.exit_code', '1')
    await failed.logBytes('labbook/output.log', `${Array.from({ length: 40 }, (_, i) => `epoch ${i}`).join('\n')}\nTraceback (most recent call last):\n  File "train.py", line 12, in <module>\nValueError: hidden=512 does not fit in memory\n`)
    await failed.end('FAILED')
    ids['mlp-broken'] = failed.id
    const running = await exp.startRun({ name: 'mlp-live', startTime: t0 + 4 * 3_600_000 })
    running.logMetric('train_loss', 0.5)
    await running.commit()
    ids['mlp-live'] = running.id
    await book.close()
  }, build: async (r) => {
    // Built through the CLI into the default _site/, with a terminal on stderr so progress shows.
    const c = captureIO(r.dir)
    ;(c.io.stderr as { isTTY?: boolean }).isTTY = true
    const res = await main(['site', 'build'], c.io)
    buildErr = c.stderr()
    expect(res.exitCode, buildErr).toBe(0)
    return { out: join(r.dir, '_site') }
  } })
  ;({ srv, browser } = site)
}, 240_000)

afterAll(() => site?.close())

describe('chart helpers', () => {
  it('log ticks read as numbers, the crosshair lists every run at x', () => {
    expect([0.1, 0.001, 1000, 1e-6, 2e8].map(tickNumber)).toEqual(['0.1', '0.001', '1,000', '1e-6', '2e8'])
    const rows = crosshairRows([
      { run: 'a', x: 0, y: 1 }, { run: 'a', x: 2, y: 3 },
      { run: 'b', x: 1, y: 5 },
    ], { label: 'step' })
    expect(rows.map((r) => r.text)).toEqual(['step 0\na: 1', 'step 1\nb: 5\na: 1', 'step 2\nb: 5\na: 3'])
  })
})

describe('site build into the repository', () => {
  it('the default _site ignores itself and git status stays clean; progress is shown on a terminal', () => {
    expect(readFileSync(join(repo.dir, '_site', '.gitignore'), 'utf8')).toMatch(/^\*$/m)
    expect(repo.git('status', '--porcelain', '--untracked-files=all')).toBe('')
    expect(buildErr).toMatch(/^labbook: collecting runs…$/m)
    expect(buildErr).toMatch(/^labbook: collected \d+ runs in \d+ experiments \(\d+\.\d s\); rendering pages…$/m)
    expect(buildErr).toMatch(/^labbook: pages rendered \(\d+\.\d s\); writing files…$/m)
  })
})

/** The y-axis tick labels of the chart of one metric. */
async function yTicks(page: Page, metric: string): Promise<number[]> {
  return page.$$eval(`.run-charts figure[data-metric="${metric}"] svg g[aria-label="y-axis tick label"] text`, (ts) => ts.map((t) => Number(t.textContent!.replace(/,/g, ''))))
}
async function xTicks(page: Page, metric: string): Promise<number[]> {
  return page.$$eval(`.run-charts figure[data-metric="${metric}"] svg g[aria-label="x-axis tick label"] text`, (ts) => ts.map((t) => Number(t.textContent!.replace(/,/g, ''))))
}

describe('run page charts in chromium', () => {
  it('fits y to the data, "from zero" toggles it; one-point metrics are values; system/* is collapsed', async () => {
    const ctx = await browser.newContext({ colorScheme: 'light', viewport: { width: 1440, height: 900 } })
    const page = await ctx.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`${root()}/runs/${ids['mlp-64']}/`, { waitUntil: 'networkidle' })
    await page.waitForSelector('.run-charts figure[data-metric="val_accuracy"] svg')
    const fitted = await yTicks(page, 'val_accuracy')
    expect(Math.min(...fitted)).toBeGreaterThanOrEqual(0.8)
    expect(await page.$('.run-charts figure[data-metric="val_accuracy"] svg [aria-label="y-axis label"]')).not.toBeNull()
    expect(await page.textContent('.run-charts figure[data-metric="val_accuracy"] svg [aria-label="y-axis label"]')).not.toMatch(/[↑↓]/)
    await hydrated(page, '.run-charts') // its toolbar is server-rendered, inert until then
    await page.check('.run-charts input[name="from-zero"]')
    await page.waitForFunction(() => [...document.querySelectorAll('.run-charts figure[data-metric="val_accuracy"] svg g[aria-label="y-axis tick label"] text')].some((t) => t.textContent === '0'))
    // test_accuracy was logged once: a value, not an empty chart.
    const one = page.locator('.run-charts figure.one-value[data-metric="test_accuracy"]')
    expect(await one.locator('.value').textContent()).toBe('0.93')
    expect(await one.locator('svg').count()).toBe(0)
    // system/* in its own collapsed section, below the model charts.
    const sys = page.locator('details.system-metrics')
    expect(await sys.getAttribute('open')).toBeNull()
    expect(await sys.locator('figure[data-metric="system/cpu_utilization_percentage"]').count()).toBe(1)
    expect(await page.locator('.run-charts > .charts figure[data-metric^="system/"]').count()).toBe(0)
    expect(errors).toEqual([])
    await ctx.close()
  })

  it('drag to zoom on x loads the full history for the range; double-click resets', async () => {
    const ctx = await browser.newContext({ colorScheme: 'light', viewport: { width: 1440, height: 900 } })
    const page = await ctx.newPage()
    await page.goto(`${root()}/runs/${ids['mlp-64']}/`, { waitUntil: 'networkidle' })
    const fig = page.locator('.run-charts figure[data-metric="val_accuracy"]')
    await fig.locator('svg').waitFor()
    expect(await fig.locator('figcaption').textContent()).toContain('drawn downsampled')
    const before = await xTicks(page, 'val_accuracy')
    await fig.scrollIntoViewIfNeeded()
    const box = (await fig.locator('svg').boundingBox())!
    await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.5)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.5, { steps: 5 })
    await page.mouse.up()
    await page.waitForSelector('.run-charts button.reset-zoom')
    // The full history was fetched for the zoomed range: the caption no longer says downsampled.
    await page.waitForFunction(() => !document.querySelector('.run-charts figure[data-metric="val_accuracy"] figcaption')!.textContent!.includes('downsampled'))
    const zoomed = await xTicks(page, 'val_accuracy')
    expect(Math.max(...zoomed) - Math.min(...zoomed)).toBeLessThan((Math.max(...before) - Math.min(...before)) / 3)
    // Only the dragged chart zooms: train_loss (steps 0-39) keeps its whole range.
    expect(Math.max(...(await xTicks(page, 'train_loss')))).toBeLessThan(100)
    // Every step in the range is drawn: the spike at step 2500 is in the full data.
    const pathLen = await fig.locator('svg g[aria-label="line"] path').first().getAttribute('d')
    expect(pathLen!.split(/[ML]/).length).toBeGreaterThan(300)
    await page.screenshot({ path: join(SHOTS, 'run-zoomed-1440-light.png') })
    await fig.locator('svg').dblclick()
    await page.waitForSelector('.run-charts button.reset-zoom', { state: 'detached' })
    await ctx.close()
  })
})

describe('compare in chromium', () => {
  it('the crosshair shows every run at x; a metric logged once is a bar per run', async () => {
    const ctx = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1440, height: 900 } })
    const page = await ctx.newPage()
    await page.goto(`${root()}/compare/?runs=${ids['mlp-64']},${ids['mlp-128']}`, { waitUntil: 'networkidle' })
    const fig = page.locator('.compare figure[data-metric="train_loss"]')
    await fig.locator('svg').waitFor()
    await fig.scrollIntoViewIfNeeded()
    const box = (await fig.locator('svg').boundingBox())!
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5)
    const tip = fig.locator('svg g[aria-label="tip"]')
    await tip.locator('text').first().waitFor()
    const text = (await tip.textContent())!
    expect(text).toMatch(/step \d+/)
    expect(text).toContain('mlp-64:')
    expect(text).toContain('mlp-128:')
    const bars = page.locator('.compare figure.bars[data-metric="test_accuracy"]')
    expect(await bars.locator('svg g[aria-label="bar"] rect').count()).toBe(2)
    expect(await bars.textContent()).toContain('0.94')
    await page.screenshot({ path: join(SHOTS, 'compare-crosshair-1440-dark.png') })
    await ctx.close()
  })
})

describe('pages', () => {
  it('a failed run shows its last output lines by the badge; home counts running and failed; empty experiments guide', async () => {
    const ctx = await browser.newContext({ colorScheme: 'light' })
    const page = await ctx.newPage()
    await page.goto(`${root()}/runs/${ids['mlp-broken']}/`, { waitUntil: 'networkidle' })
    const tail = (await page.textContent('#fail-tail'))!
    expect(tail).toContain('ValueError: hidden=512 does not fit in memory')
    expect(tail).toContain('(exit 1)')
    expect(tail).not.toContain('epoch 20')
    await page.goto(`${root()}/`, { waitUntil: 'networkidle' })
    const card = page.locator(`section.card[data-experiment="${expId}"]`)
    expect(await card.locator('[data-count="running"]').textContent()).toBe('1 running')
    expect(await card.locator('[data-count="failed"]').textContent()).toBe('1 failed')
    expect(await page.locator('section.card h2', { hasText: /^Default$/ }).count()).toBe(0)
    await page.click('section.card h2 a:text("empty-one")')
    expect(await page.textContent('#empty-experiment')).toContain('labbook run -e empty-one -- …')
    await ctx.close()
  })

  it('the column chooser finds columns and picks all or none; system/* is not a default column', async () => {
    const ctx = await browser.newContext({ colorScheme: 'dark' })
    const page = await ctx.newPage()
    await page.goto(`${root()}/experiments/${expId}/`, { waitUntil: 'networkidle' })
    await page.waitForSelector('.runs-island table')
    const headers = await page.$$eval('.runs-island thead th', (ths) => ths.map((t) => t.textContent))
    expect(headers.join(' ')).not.toContain('system/')
    const compare = page.locator('.runs-island button.primary')
    expect(await compare.isDisabled()).toBe(true)
    // Disabled looks disabled in dark mode: not the bright accent.
    const bg = await compare.evaluate((b) => getComputedStyle(b).backgroundColor)
    const accent = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent'))
    expect(bg).not.toBe(accent)
    await page.click('details.chooser summary')
    await page.fill('.chooser-tools input', 'system')
    expect(await page.locator('details.chooser label').count()).toBe(2)
    await page.click('.chooser-tools button[data-cols="all"]')
    await page.waitForFunction(() => [...document.querySelectorAll('.runs-island thead th')].some((t) => t.textContent!.includes('system/')))
    await page.click('.chooser-tools button[data-cols="none"]')
    await page.waitForFunction(() => ![...document.querySelectorAll('.runs-island thead th')].some((t) => t.textContent!.includes('system/')))
    await ctx.close()
  })

  // Two minutes on a loaded 2-core machine: run with LABBOOK_SCREENSHOTS=1 when the pages change.
  it.runIf(process.env.LABBOOK_SCREENSHOTS)('screenshots of every page at 1440x900 and 390x844, light and dark', async () => {
    const pages: Record<string, string> = {
      home: '/', experiment: `/experiments/${expId}/`, 'empty-experiment': '', run: `/runs/${ids['mlp-64']}/`,
      'failed-run': `/runs/${ids['mlp-broken']}/`, compare: `/compare/?runs=${ids['mlp-64']},${ids['mlp-128']}`, commits: '/commits/',
    }
    for (const scheme of ['light', 'dark'] as const) {
      for (const [w, h] of [[1440, 900], [390, 844]] as const) {
        const ctx = await browser.newContext({ colorScheme: scheme, viewport: { width: w, height: h }, isMobile: w < 500 })
        const page = await ctx.newPage()
        for (const [name, path] of Object.entries(pages)) {
          if (!path) continue
          await page.goto(root() + path, { waitUntil: 'networkidle' })
          await page.waitForTimeout(200)
          const file = join(SHOTS, `${name}-${w}-${scheme}.png`)
          await page.screenshot({ path: file, fullPage: true })
          expect(existsSync(file)).toBe(true)
          // Nothing is wider than the screen (phones).
          expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(w + 1)
        }
        await ctx.close()
      }
    }
  }, 300_000)
})
