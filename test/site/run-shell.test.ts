/**
 * The run-page shell (issue 17): a real repository built with pages rendered for the two newest runs only; every other
 * run's page is a copy of runs/index.html that draws the run in headless Chromium from data/runs/<id>.json,
 * data/runs/<id>/page.json and the packed series.bin. Checks that it shows what the rendered page shows (the same
 * text, run by run, hostile run included), escapes hostile strings, requests nothing outside the site, and is small.
 * Screenshots (light/dark, desktop/phone) go to test-output/site-shell/.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SiteBuildResult } from '../../src/site/build/index.js'
import type { PreviewServer } from '../../src/site/build/preview.js'
import { Labbook } from '../../src/track/labbook.js'
import { builtSite, type BuiltSite, type OpenOptions } from '../helpers/built-site.js'
import type { TestRepo } from '../helpers/git-repo.js'
import { populateSiteRepo } from '../helpers/site-repo.js'
import { injected } from '../helpers/hostile.js'
import { EVIL, EVIL_ALL } from '../helpers/site-fixtures.js'

const SHOTS = join(process.cwd(), 'test-output', 'site-shell')
const BASE = '/lab/'
let site: BuiltSite<{ ids: string[]; evilId: string; oldEvilId: string }>
let repo: TestRepo
let built: SiteBuildResult
let ids: string[]
let evilId: string
let oldEvilId: string
let srv: PreviewServer
let userState: string

beforeAll(async () => {
  rmSync(SHOTS, { recursive: true, force: true })
  mkdirSync(SHOTS, { recursive: true })
  site = await builtSite({
    base: BASE, build: { fullPages: 2 },
    populate: async (r) => {
      const made = await populateSiteRepo(r.dir)
      // An old hostile run: drawn by the shell, its name in a copied page's <title>.
      const book = await Labbook.open({ repo: r.dir })
      try {
        const run = await (await book.experiment('mnist-cnn')).startRun({ name: `old ${EVIL.script}${EVIL.svg}`, params: { payload: EVIL_ALL }, tags: { note: EVIL.img }, startTime: 1_700_000_000_000, description: `**${EVIL.script}** [x](${EVIL.js})` })
        for (let s = 0; s < 5; s++) run.logMetric('loss', 1 / (s + 1), { step: s, timestamp: 1_700_000_000_000 + s })
        await run.end('FINISHED', { endTime: 1_700_000_010_000 })
        return { ids: made.ids, evilId: made.evilId!, oldEvilId: run.id }
      } finally { await book.close() }
    },
  })
  ;({ repo, built, srv, userState } = site)
  ;({ ids, evilId, oldEvilId } = site.made)
}, 240_000)

afterAll(() => site?.close())

/** Opens a page (a path under the base); collects requests, dialogs and script errors (test/helpers/built-site.ts). */
const open = (path: string, o: OpenOptions = {}) => site.open(path, o)
const chartsDrawn = (page: Page, n: number) => page.waitForFunction((k) => document.querySelectorAll('.run-charts figure svg').length >= k, n, { timeout: 30_000 })
const mainText = (page: Page) => page.evaluate(() => (document.querySelector('main') as HTMLElement).innerText.replace(/[ \t]+/g, ' ').trim())

describe('run pages through the shell', () => {
  it('renders pages for the newest runs only; the others are copies of the shell with their name in the title', () => {
    expect(built.runs).toBe(ids.length + 2)
    expect(built.problems).toEqual([])
    expect(repo.userState()).toBe(userState)
    const shell = readFileSync(join(built.out, 'runs', 'index.html'), 'utf8')
    const full = [evilId, ids[ids.length - 1]!]
    for (const id of full) expect(readFileSync(join(built.out, 'runs', id, 'index.html'), 'utf8')).toContain('id="ssr-charts"')
    for (const id of [...ids.slice(0, -1), oldEvilId]) {
      const page = readFileSync(join(built.out, 'runs', id, 'index.html'), 'utf8')
      expect(page.replace(/<title>[^<]*<\/title>/, '')).toBe(shell.replace(/<title>[^<]*<\/title>/, ''))
      expect(statSync(join(built.out, 'runs', id, 'index.html')).size).toBeLessThan(1600)
    }
    const title = /<title>([^<]*)<\/title>/.exec(readFileSync(join(built.out, 'runs', oldEvilId, 'index.html'), 'utf8'))![1]!
    expect(title).toBe('old &lt;script&gt;window.__pwned=1;alert(1)&lt;/script&gt;&quot;&gt;&lt;svg onload=&quot;window.__pwned=1;alert(1)&quot;&gt; · ' + repo.dir.split('/').pop())
    // one packed series file per run: gzip-compressed JSON, one series per metric, metric files pointing into it
    const run = JSON.parse(readFileSync(join(built.out, 'data', 'runs', `${ids[0]}.json`), 'utf8')) as { metricFiles: Array<{ key: string; file: string }> }
    expect(run.metricFiles.map((m) => m.file)).toEqual([`data/runs/${ids[0]}/series.bin#0`, `data/runs/${ids[0]}/series.bin#1`])
    const packed = JSON.parse(gunzipSync(readFileSync(join(built.out, 'data', 'runs', ids[0]!, 'series.bin'))).toString('utf8')) as Array<{ k: string; n: number }>
    expect(packed.map((s) => [s.k, s.n])).toEqual([['acc', 60], ['loss', 60]])
    expect(existsSync(join(built.out, 'data', 'runs', ids[0]!, 'm'))).toBe(false)
  })

  it('shows a run through its copied shell: info, description, metrics with charts, params, tags, artifacts, children', async () => {
    const w = await open(`runs/${ids[0]}/`)
    await chartsDrawn(w.page, 2)
    const text = await mainText(w.page)
    for (const s of ['run-0', 'FINISHED', ids[0]!, 'Baseline with Adam', 'Metrics', 'acc', 'loss', 'Params', 'batch_size', 'Tags', 'stage', 'Artifacts', 'results/table.csv', 'Children', 'run-4', 'runs of this commit']) expect(text).toContain(s)
    expect(await w.page.locator('.desc strong').textContent()).toBe('Adam')
    expect(await w.page.title()).toBe(`run-0 · ${repo.dir.split('/').pop()}`)
    expect(await w.page.locator('details.artifact img').count()).toBe(1)
    expect(await w.page.locator('.crumbs a').nth(1).getAttribute('href')).toMatch(/^\/lab\/experiments\/[\w-]+\/$/)
    expect(w.errors).toEqual([])
    expect(w.requests.every((u) => u.startsWith(srv.url))).toBe(true)
    // the children link to their own pages, which are shells too
    await w.page.locator('table.info a', { hasText: 'run-4' }).click()
    await w.page.waitForURL(`**/runs/${ids[4]}/`)
    await chartsDrawn(w.page, 2)
    expect(await mainText(w.page)).toContain('Parent')
    await w.close()
  })

  it('shows exactly what the rendered page shows, for a plain run and the hostile one', async () => {
    for (const [id, charts] of [[ids[ids.length - 1]!, 2], [evilId, 1]] as const) {
      const rendered = await open(`runs/${id}/`)
      await chartsDrawn(rendered.page, charts)
      const viaShell = await open(`runs/?id=${id}`)
      await chartsDrawn(viaShell.page, charts)
      expect(await mainText(viaShell.page)).toBe(await mainText(rendered.page))
      expect(await viaShell.page.title()).toBe(await rendered.page.title())
      const box = async (p: Page) => (await p.locator('main').boundingBox())!.height
      expect(Math.abs((await box(viaShell.page)) - (await box(rendered.page)))).toBeLessThan(2)
      await rendered.close()
      await viaShell.close()
    }
  })

  it('never runs or renders hostile strings', async () => {
    for (const id of [evilId, oldEvilId]) {
      const w = await open(`runs/?id=${id}`)
      await chartsDrawn(w.page, 1)
      const bad = await injected(w.page)
      expect(w.dialogs).toEqual([])
      expect(bad).toMatchObject({ pwned: undefined, scripts: 0, imgX: 0, handlers: 0, jsLinks: 0 })
      expect(bad.text).toContain('<script>window.__pwned=1')
      await w.close()
    }
    const w = await open(`runs/${oldEvilId}/`)
    await chartsDrawn(w.page, 1)
    expect(await w.page.title()).toContain('old <script>window.__pwned=1')
    expect(await injected(w.page)).toMatchObject({ pwned: undefined, scripts: 0, imgX: 0, handlers: 0, jsLinks: 0 })
    expect(w.dialogs).toEqual([])
    await w.close()
  })

  it('says Not found for an unknown or unusable id', async () => {
    for (const q of ['?id=nope', '?id=%3Cscript%3E', '']) {
      const w = await open(`runs/${q}`)
      await w.page.waitForSelector('main h1')
      expect(await w.page.locator('main h1').textContent()).toBe('Not found')
      await w.close()
    }
  })

  it('looks the same in light and dark, on a desktop and a phone (screenshots)', async () => {
    for (const dark of [false, true]) for (const phone of [false, true]) {
      const w = await open(`runs/${ids[0]}/`, { dark, phone })
      await chartsDrawn(w.page, 2)
      const width = await w.page.evaluate(() => document.documentElement.scrollWidth)
      expect(width).toBeLessThanOrEqual(phone ? 390 : 1440)
      await w.page.screenshot({ path: join(SHOTS, `shell-run-${dark ? 'dark' : 'light'}-${phone ? 'phone' : 'desktop'}.png`), fullPage: true })
      await w.close()
    }
  })
})
