/**
 * The built site, end to end: a real temp repo with runs (one of them hostile in every field), `buildSite` once
 * under a sub-path, served on loopback, driven in headless chromium. Screenshots go to test-output/site/.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import type { SiteBuildResult } from '../../src/site/build/index.js'
import { captureIO } from '../helpers/cli.js'
import { writeFileSync } from 'node:fs'
import type { PreviewServer } from '../../src/site/build/preview.js'
import { builtSite, hydrated, type BuiltSite, type Watched } from '../helpers/built-site.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { populateSiteRepo } from '../helpers/site-repo.js'
import { inlineScriptHashes } from '../../src/site/build/csp.js'
import { injected } from '../helpers/hostile.js'

const SHOTS = join(process.cwd(), 'test-output', 'site')
const BASE = '/vision/'
let site: BuiltSite<{ ids: string[]; evilId?: string }>
let repo: TestRepo
let built: SiteBuildResult
let ids: string[]
let evilId: string
let srv: PreviewServer
let browser: Browser
let userState: string

/** Every request the page makes, every dialog it opens, every script error (test/helpers/built-site.ts). */
const open = (ctx: BrowserContext, path: string): Promise<Watched> => site.open(path, { context: ctx })
const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })

beforeAll(async () => {
  rmSync(SHOTS, { recursive: true, force: true })
  mkdirSync(SHOTS, { recursive: true })
  // Built once, through the CLI as a user would: `labbook site build --out … --base /vision/ --json`.
  site = await builtSite({ base: BASE, populate: (r) => populateSiteRepo(r.dir) })
  ;({ repo, built, srv, browser, userState } = site)
  ids = site.made.ids
  evilId = site.made.evilId!
}, 180_000)

afterAll(() => site?.close())

describe('site build', () => {
  it('builds every page from the branch without touching the user repo', () => {
    expect(built.runs).toBe(ids.length + 1)
    expect(built.experiments).toBe(3)
    expect(built.problems).toEqual([])
    expect(repo.userState()).toBe(userState)
    for (const id of [...ids, evilId]) expect(existsSync(join(built.out, 'runs', id, 'index.html'))).toBe(true)
    for (const p of ['index.html', 'commits/index.html', 'compare/index.html', '404.html', '.nojekyll']) expect(existsSync(join(built.out, p))).toBe(true)
  })

  it('refers to nothing outside the site: every src/href of pages and assets stays under the base', () => {
    const files = readdirSync(built.out, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && /\.(html|css|js)$/.test(e.name))
    for (const f of files) {
      const text = readFileSync(join(f.parentPath, f.name), 'utf8')
      expect(text, f.name).not.toMatch(/@import\s+url\(\s*['"]?https?:/)
      expect(text, f.name).not.toMatch(/fonts\.googleapis|cdn\.jsdelivr|unpkg\.com|googletagmanager/)
      if (f.name.endsWith('.html')) {
        for (const m of text.matchAll(/<(script|link|img|iframe)\b[^>]*\b(src|href)="([^"]*)"/g)) expect(m[3]!.startsWith(BASE) || m[3]!.startsWith('data:'), `${f.name}: ${m[0]}`).toBe(true)
      }
    }
  })

  it('runs no inline script the page did not list: every page\'s CSP has the hashes of its own inline scripts', () => {
    const pages = readdirSync(built.out, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.html'))
    for (const f of pages) {
      const html = readFileSync(join(f.parentPath, f.name), 'utf8')
      const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? ''
      const scriptSrc = csp.split(';').find((d) => d.trim().startsWith('script-src'))!
      expect(scriptSrc, f.name).not.toMatch(/unsafe-inline/)
      expect(scriptSrc.trim().split(/\s+/).slice(2).sort(), f.name).toEqual(inlineScriptHashes(html).sort())
    }
  })

  it('keeps active artifact content from ever being served as a page', () => {
    const dir = join(built.out, 'artifacts', evilId)
    expect(existsSync(join(dir, 'report.html'))).toBe(false)
    expect(existsSync(join(dir, 'report.html.txt'))).toBe(true)
    expect(existsSync(join(dir, 'chart.svg.txt'))).toBe(true)
  })
})

describe('reading a revision', () => {
  it('--rev reads any commit of the branch through the library', async () => {
    const { openSiteSource } = await import('../../src/site/build/open.js')
    const first = repo.git('rev-list', '--max-parents=0', 'labbook').trim()
    const old = await openSiteSource({ repo: repo.dir, rev: first })
    try {
      expect(old.commit).toBe(first)
      expect((await old.source.listRuns()).length).toBe(0)
    } finally { await old.close() }
    const tip = await openSiteSource({ repo: repo.dir, rev: 'labbook' })
    try {
      expect(tip.commit).toBe(repo.git('rev-parse', 'labbook').trim())
      expect((await tip.source.listRuns()).length).toBe(ids.length + 1)
    } finally { await tip.close() }
  })
})

describe('site build usage errors', () => {
  it('rejects a bad --base and a non-empty folder it did not make, before doing any work', async () => {
    const c1 = captureIO(repo.dir)
    expect((await main(['site', 'build', '--base', '/x"><script>/'], c1.io)).exitCode).toBe(2)
    expect(c1.stderr()).toMatch(/USAGE|base/)
    mkdirSync(join(repo.dir, '..', 'not-a-site-' + process.pid), { recursive: true })
    writeFileSync(join(repo.dir, '..', 'not-a-site-' + process.pid, 'keep.txt'), 'mine')
    const c2 = captureIO(repo.dir)
    expect((await main(['site', 'build', '--out', `../not-a-site-${process.pid}`], c2.io)).exitCode).toBe(2)
    expect(readFileSync(join(repo.dir, '..', 'not-a-site-' + process.pid, 'keep.txt'), 'utf8')).toBe('mine')
    rmSync(join(repo.dir, '..', 'not-a-site-' + process.pid), { recursive: true, force: true })
    const c3 = captureIO(repo.dir)
    expect((await main(['site', 'build', '--out', '.'], c3.io)).exitCode).toBe(2)
  })
  it('says what to do when the repository has no labbook branch', async () => {
    const empty = gitRepo()
    try {
      const c = captureIO(empty.dir)
      expect((await main(['site', 'build', '--out', '../x-site'], c.io)).exitCode).toBe(1)
      expect(c.stderr()).toMatch(/BRANCH_MISSING/)
    } finally {
      empty.cleanup()
    }
  })
})

describe('site in chromium', () => {
  it('home lists experiments with run counts and the best run', async () => {
    const ctx = await browser.newContext({ colorScheme: 'light' })
    const w = await open(ctx, '')
    const cards = w.page.locator('.card')
    expect(await cards.count()).toBe(3)
    const mnist = w.page.locator('.card', { hasText: 'mnist-cnn' })
    await expect.poll(() => mnist.textContent()).toContain('runs')
    expect(await mnist.locator('svg.spark path').count()).toBe(1)
    await shot(w.page, 'home-light')
    for (const u of w.requests) expect(u.startsWith(srv.url)).toBe(true)
    await ctx.close()
  })

  it('filters with the filter language, shows parse errors inline, sorts, selects three runs and compares them', async () => {
    const ctx = await browser.newContext({ colorScheme: 'dark' })
    const home = await open(ctx, '')
    await home.page.locator('.card a', { hasText: 'mnist-cnn' }).click()
    const page = home.page
    await page.waitForSelector('.runs-island table.runs tbody tr')
    const rows = page.locator('.runs-island tbody tr')
    const total = await rows.count()
    expect(total).toBeGreaterThanOrEqual(5)
    await expect.poll(() => page.locator('#static-runs').isHidden()).toBe(true)

    const filter = page.getByLabel('Filter runs')
    await filter.fill('params.model = ')
    await expect.poll(() => page.locator('.runs-island .error').textContent()).toMatch(/Invalid filter/)
    await filter.fill("params.model = 'cnn' and metrics.acc > 0")
    await expect.poll(() => page.locator('.runs-island .error').count()).toBe(0)
    const cnn = await rows.count()
    expect(cnn).toBeGreaterThan(0)
    expect(cnn).toBeLessThan(total)
    // the address follows the filter once typing pauses (one replaceState per pause, not per keystroke)
    await expect.poll(() => page.url()).toContain('filter=')
    // The rows are the library's search over the same runs (the table filters columns of runs.json, src/site/browser/table-filter.ts).
    const { openSiteSource } = await import('../../src/site/build/open.js')
    const { searchRuns } = await import('../../src/query/index.js')
    const tip = await openSiteSource({ repo: repo.dir, rev: 'labbook' })
    const expId = await page.locator('.runs-island').getAttribute('data-experiment')
    const mine = (await tip.source.listRuns()).filter((r) => r.experiment === expId && r.lifecycle !== 'deleted')
    await tip.close()
    const shownIds = () => page.locator('.runs-island tbody tr[data-run]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run')!).sort())
    expect(await page.locator('.runs-island .count').textContent()).toBe(`${cnn} of ${mine.length} runs`)
    for (const f of ["params.model = 'cnn' and metrics.acc > 0", 'metrics.loss < 0.5 or params.lr in (0.1)', "not params.model like 'c%'"]) {
      await filter.fill(f)
      const want = searchRuns(mine, f).map((r) => r.id)
      await expect.poll(() => page.locator('.runs-island .count').textContent(), { message: f }).toBe(`${want.length} of ${mine.length} runs`)
      // a child shows under its parent once the parent is opened: rows on screen are the others
      const onScreen = want.filter((id) => !want.includes(mine.find((r) => r.id === id)!.parent ?? '')).sort()
      expect(await shownIds(), f).toEqual(onScreen)
    }
    // Half typed: the error shows, the last filter that parsed keeps its rows (no jump to every run and back).
    const kept = await shownIds()
    await filter.fill("not params.model like 'c%' and metrics.")
    await expect.poll(() => page.locator('.runs-island .error').textContent()).toMatch(/Invalid filter[\s\S]*last filter that parsed: NOT params\.model LIKE 'c%'/)
    expect(await shownIds()).toEqual(kept)
    await filter.fill('')

    await page.locator('th[data-col="metric:acc"]').click() // numbers sort descending first
    const accs = await page.locator('.runs-island tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run')))
    await page.locator('th[data-col="metric:acc"]').click()
    const accsAsc = await page.locator('.runs-island tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run')))
    expect(accsAsc).not.toEqual(accs)
    await shot(page, 'experiment-dark')

    const boxes = page.locator('.runs-island tbody input[type=checkbox]')
    for (let i = 0; i < 3; i++) await boxes.nth(i).check()
    await page.getByRole('button', { name: /Compare \(3\)/ }).click()
    await page.waitForURL(/compare\/\?runs=/)
    await page.waitForSelector('.compare figure[data-metric="loss"] svg')
    const lines = await page.locator('.compare figure[data-metric="loss"] svg g[aria-label="line"] path').count()
    expect(lines).toBe(3)
    expect(await page.locator('table.params-diff tbody tr[data-param]').count()).toBeGreaterThan(0)
    expect(await page.locator('table.metrics-cmp .winner').count()).toBeGreaterThan(0)
    await page.waitForSelector('.compare figure.parallel svg')
    await shot(page, 'compare-dark')
    expect(home.errors).toEqual([])
    await ctx.close()
  })

  it('run page shows info, params, the chart (also without JavaScript), and artifact previews', async () => {
    const ctx = await browser.newContext({ colorScheme: 'light' })
    const w = await open(ctx, `runs/${ids[0]}/`)
    const page = w.page
    expect(await page.locator('table.params').textContent()).toContain('0.1')
    await page.waitForSelector('.run-charts figure svg')
    expect(await page.locator('.desc strong').textContent()).toBe('Adam')
    expect(await page.locator('.desc a').getAttribute('href')).toBe('https://arxiv.org/abs/1412.6980')
    const csv = page.locator('details.artifact[data-artifact="results/table.csv"]')
    await csv.locator('summary').click()
    expect(await csv.locator('pre').textContent()).toContain('epoch,loss')
    expect(await page.locator('details.artifact[data-artifact="plots/pixel.png"] img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1)
    expect(await page.locator('table.info a[href^="https://github.com/acme/vision/commit/"]').count()).toBe(1)
    // Wall-time x axis and log scale redraw the island's charts.
    await hydrated(page, '.run-charts') // its toolbar is server-rendered, inert until then
    await page.locator('.run-charts select').selectOption('wall')
    await page.getByLabel('log y').check()
    await expect.poll(() => page.locator('.run-charts figure[data-metric="loss"] svg').textContent()).toMatch(/time/)
    await shot(page, 'run-light')
    await ctx.close()

    const nojs = await browser.newContext({ javaScriptEnabled: false })
    const n = await open(nojs, `runs/${ids[0]}/`)
    expect(await n.page.locator('#ssr-charts figure svg').count()).toBe(2)
    // the island's toolbar is in the markup but inert: nothing would redraw a choice made there
    expect(await n.page.getAttribute('.run-charts', 'data-hydrated')).toBe('false')
    expect(await n.page.locator('.run-charts select, .run-charts input').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).disabled))).toEqual([true, true, true, true])
    expect(await n.page.locator('table.metrics tbody tr').count()).toBe(2)
    await nojs.close()
    const nojs2 = await browser.newContext({ javaScriptEnabled: false })
    const e = await open(nojs2, '')
    await e.page.locator('.card a', { hasText: 'mnist-cnn' }).click()
    expect(await e.page.locator('#static-runs tbody tr').count()).toBeGreaterThan(3)
    await nojs2.close()
  })

  it('commits page shows the trend of the best primary metric per commit', async () => {
    const ctx = await browser.newContext({ colorScheme: 'light' })
    const w = await open(ctx, 'commits/')
    expect(await w.page.locator('table.commits tbody tr').count()).toBe(3)
    expect(await w.page.locator('figure.trend svg').count()).toBeGreaterThan(0)
    await shot(w.page, 'commits-light')
    await ctx.close()
  })

  it('reads well on a phone', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, colorScheme: 'dark' })
    const w = await open(ctx, `runs/${ids[0]}/`)
    await w.page.waitForSelector('.run-charts figure svg')
    const overflow = await w.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(1)
    await shot(w.page, 'run-phone-dark')
    const home = await open(ctx, '')
    await home.page.locator('.card a', { hasText: 'mnist-cnn' }).click()
    await home.page.waitForSelector('.runs-island tbody tr')
    expect(await home.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(1)
    await shot(home.page, 'experiment-phone-dark')
    await ctx.close()
  })

  it('never runs hostile text: script, img onerror, javascript: links, svg onload, {{ }} in every field', async () => {
    const ctx = await browser.newContext()
    const evilExp = readdirSync(join(built.out, 'experiments')).find((d) => readFileSync(join(built.out, 'experiments', d, 'index.html'), 'utf8').includes('evil'))!
    const pages = ['', `experiments/${evilExp}/`, `runs/${evilId}/`, 'commits/', `compare/?runs=${evilId},${ids[0]}`]
    for (const p of pages) {
      const w = await open(ctx, p)
      await w.page.waitForTimeout(300)
      const bad = await injected(w.page)
      expect(bad.pwned, p).toBeUndefined()
      expect(bad.scripts, p).toBe(0)
      expect(bad.imgX, p).toBe(0)
      expect(bad.handlers, p).toBe(0)
      expect(bad.jsLinks, p).toBe(0)
      expect(w.dialogs, p).toEqual([])
      if (p.startsWith('runs/')) {
        expect(bad.text).toContain('<script>window.__pwned=1')
        expect(bad.text).toContain('{{constructor')
        await shot(w.page, 'evil-run')
      }
      await w.page.close()
    }
    // Opening the HTML artifact shows its source as text.
    const w = await open(ctx, `artifacts/${evilId}/report.html.txt`)
    expect(await w.page.evaluate(() => document.contentType)).toBe('text/plain')
    expect(w.dialogs).toEqual([])
    await ctx.close()
  })
})
