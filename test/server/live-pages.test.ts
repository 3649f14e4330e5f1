/**
 * Issue 15: `labbook serve` renders the site's own pages per request from the branch plus the journals of runs in
 * progress, and open pages update themselves. One static build and one live renderer (both Astro builds: the
 * heaviest thing in the suite), then: same table text both ways, hostile strings, Host protection, and a run
 * logged by another process watched in headless Chromium on its run page and its experiment page.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { basename, join } from 'node:path'
import { parseHTML } from 'linkedom'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { buildSite } from '../../src/site/build/index.js'
import { inlineScriptHashes } from '../../src/site/build/csp.js'
import { readSeriesFile } from '../../src/site/build/site-data.js'
import { launchChromium } from '../site/browser.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { injected } from '../helpers/hostile.js'
import { testRenderer } from '../helpers/renderer.js'
import { populateSiteRepo } from '../helpers/site-repo.js'
import { request } from './client.js'

const CHILD = new URL('../helpers/child.ts', import.meta.url).pathname
const SHOTS = join(process.cwd(), 'test-output', 'live')
let repo: TestRepo
let book: Labbook
let srv: RunningServer
let browser: Browser
let out = ''
let ids: string[] = []
let evilId = ''
let liveExp = ''
let userState = ''

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true })
  repo = gitRepo()
  const made = await populateSiteRepo(repo.dir, { runs: 4, steps: 30 })
  ids = made.ids
  evilId = made.evilId!
  book = await Labbook.open({ repo: repo.dir })
  liveExp = (await book.experiment('live')).id
  const renderer = await testRenderer()
  srv = await serve({ book, port: 0, site: { renderer: Promise.resolve(renderer), source: book, snapshot: () => book.snapshot(), title: basename(repo.dir) }, log: (l, m) => console.error(`${l}: ${m}`) })
  userState = repo.userState()
  // the static build of the same revision (serve's Default experiment included)
  out = `${repo.dir}-site`
  await buildSite({ repo: repo.dir, out })
  browser = await launchChromium()
}, 900_000)

afterAll(async () => {
  await browser?.close()
  await srv?.close()
  await book?.close()
  rmSync(out, { recursive: true, force: true })
  repo?.cleanup()
})

/** The text of every table of a page, whitespace collapsed. */
function tables(html: string): string[] {
  const { document } = parseHTML(html)
  return [...document.querySelectorAll('main table')].map((t) => (t.textContent ?? '').replace(/\s+/g, ' ').trim())
}

/** A run logged by another process: one `loss` point per `every` ms until its stdin closes (test/helpers/child.ts log-until-stdin). */
async function startLogger(every = 100) {
  const p = spawn(process.execPath, ['--import', 'tsx', CHILD, 'log-until-stdin', repo.dir, String(every), 'live'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  p.stdout.on('data', (d) => (stdout += d))
  const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)))
  const id = await new Promise<string>((resolve) => p.stdout.on('data', () => { const l = stdout.split('\n'); if (l.length > 1) resolve(l[0]!) }))
  return { p, exited, id, stdout: () => stdout }
}

/** The point count a run page's `loss` chart header shows. */
const lossPoints = (pg: Page) => pg.evaluate(() => Number(/\(([\d,]+) points/.exec(document.querySelector('.run-charts figure[data-metric="loss"] figcaption')?.textContent ?? '')?.[1]?.replace(/,/g, '') ?? 0))
/** Waits until that count is above `n`. */
const morePoints = (pg: Page, n: number, timeout: number) => pg.waitForFunction((m) => Number(/\(([\d,]+) points/.exec(document.querySelector('.run-charts figure[data-metric="loss"] figcaption')?.textContent ?? '')?.[1]?.replace(/,/g, '') ?? 0) > m, n, { timeout })

describe('live pages', () => {
  it('render the same tables as the static build of the same revision', async () => {
    const exps = (await book.listExperiments()).map((e) => e.id)
    const paths = ['', 'commits/', ...exps.map((e) => `experiments/${e}/`), ...[...ids, evilId].map((r) => `runs/${r}/`)]
    let compared = 0
    for (const p of paths) {
      const live = await request(srv.url, 'GET', `/${p}`)
      expect(live.status, p).toBe(200)
      expect(live.text, p).toContain('<meta name="labbook-live" content="/live/">')
      const stat = readFileSync(join(out, p, 'index.html'), 'utf8')
      expect(stat, p).not.toContain('labbook-live')
      expect(tables(live.text), p).toEqual(tables(stat))
      compared += tables(stat).length
      // the page's CSP lists exactly its inline scripts, as the static build's
      const csp = /script-src ([^;"]*)/.exec(live.text.replace(/&#39;/g, "'"))![1]!
      for (const h of inlineScriptHashes(live.text)) expect(csp, p).toContain(h)
    }
    expect(compared).toBeGreaterThan(20)
    // the data files too (the static build packs a run's drawn series into series.bin; live serves one file per metric)
    const unpacked = (run: { metricFiles: Array<{ file: string }> }) => ({ ...run, metricFiles: run.metricFiles.map((m) => ({ ...m, file: '(series)' })) })
    for (const p of [`data/experiments/${exps[0]}/runs.json`, `data/runs/${ids[0]}.json`, 'data/judge.json']) {
      const live = await request(srv.url, 'GET', `/${p}`)
      expect(live.status, p).toBe(200)
      const stat = JSON.parse(readFileSync(join(out, p), 'utf8'))
      if (p.startsWith('data/runs/')) {
        // live only: the key of what the run page shows besides numbers (the page refetches itself when it moves)
        const { page, ...run } = live.json as { page: unknown; metricFiles: Array<{ file: string }> }
        expect(page, p).toMatch(/^[\w-]{16}$/)
        expect(unpacked(run), p).toEqual(unpacked(stat))
      }
      else expect(live.json, p).toEqual(stat)
    }
    const staticRun = JSON.parse(readFileSync(join(out, `data/runs/${ids[0]}.json`), 'utf8')) as { metricFiles: Array<{ file: string }> }
    const liveSeries = await request(srv.url, 'GET', `/data/runs/${ids[0]}/m/0.json`)
    expect(liveSeries.status).toBe(200)
    expect(liveSeries.json).toEqual(readSeriesFile(out, staticRun.metricFiles[0]!.file))
    expect((await request(srv.url, 'GET', '/runs/nope/')).status).toBe(404)
    expect((await request(srv.url, 'GET', '/experiments/nope/')).status).toBe(404)
    expect(repo.userState()).toBe(userState)
  })

  it('never run hostile text: every page of the evil run, no dialog, no injected element; artifacts stay text', async () => {
    const ctx = await browser.newContext()
    const evilExp = (await book.listExperiments()).find((e) => e.name.startsWith('evil'))!.id
    for (const p of ['', `experiments/${evilExp}/`, `runs/${evilId}/`, 'commits/', `compare/?runs=${evilId},${ids[0]}`]) {
      const page = await ctx.newPage()
      const dialogs: string[] = []
      page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss() })
      // not 'networkidle': a live page keeps its event stream open
      await page.goto(`${srv.url}/${p}`)
      await page.waitForTimeout(1000)
      const bad = await injected(page)
      expect(bad.pwned, p).toBeUndefined()
      expect(bad.scripts, p).toBe(0)
      expect(bad.imgX, p).toBe(0)
      expect(bad.handlers, p).toBe(0)
      expect(bad.jsLinks, p).toBe(0)
      expect(dialogs, p).toEqual([])
      if (p.startsWith('runs/')) {
        expect(bad.text).toContain('<script>window.__pwned=1')
        expect(bad.text).toContain('{{constructor')
      }
      await page.close()
    }
    // as in the static build: an HTML artifact is only ever its source, as text
    const html = await request(srv.url, 'GET', `/artifacts/${evilId}/report.html.txt`)
    expect(html.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(html.text).toContain('<script>window.__pwned=1')
    expect((await request(srv.url, 'GET', `/artifacts/${evilId}/report.html`)).status).toBe(404)
    await ctx.close()
  })

  // An asset, then a refused Host on the same keep-alive connection: this once hung up (fixed in src/server/http.ts isClientAbort).
  it('keep the Host protection on pages, data, artifacts, assets and the channel', async () => {
    const asset = /\/_astro\/[\w.-]+\.js/.exec((await request(srv.url, 'GET', `/runs/${ids[0]}/`)).text)![0]
    expect((await request(srv.url, 'GET', asset)).status).toBe(200)
    for (const p of ['/', `/runs/${ids[0]}/`, `/data/runs/${ids[0]}.json`, `/artifacts/${ids[0]}/config.json`, asset, '/live/events', '/live/state.json']) {
      expect((await request(srv.url, 'GET', p, undefined, { host: 'rebind.example' })).status, p).toBe(403)
    }
    expect((await request(srv.url, 'GET', `/artifacts/${ids[0]}/config.json`)).json).toEqual({ lr: 0.1, note: 'hello' })
  })

  it('ten tabs of one server in one browser all load and all update: one change stream shared by the tabs', { timeout: 300_000 }, async () => {
    // A browser opens ~6 HTTP/1.1 connections per host; with an EventSource per tab the seventh tab never loaded.
    const { p, exited, id } = await startLogger()
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } })
    const streams: string[] = []
    ctx.on('request', (r) => { if (r.url().endsWith('/live/events')) streams.push(r.url()) })
    const tabs: Page[] = []
    for (let k = 0; k < 10; k++) {
      const tab = await ctx.newPage()
      await tab.goto(`${srv.url}/runs/${id}/`, { waitUntil: 'domcontentloaded', timeout: 30_000 })
      await tab.waitForFunction(() => document.querySelector('.run-charts figure[data-metric="loss"] svg'), undefined, { timeout: 60_000 })
      tabs.push(tab)
    }
    const before = await Promise.all(tabs.map(lossPoints))
    for (const [k, tab] of tabs.entries()) await morePoints(tab, before[k]!, 20_000)
    expect(streams).toHaveLength(1)
    // and every tab draws from the ticks the streaming tab passes on (its run's channel): over 4 s of logging the ten
    // tabs ask for their run's data a few times (a series catching up, a commit), not twice a second each
    let asked = 0
    const count = (r: { url(): string }) => { if (r.url().includes('/data/runs/')) asked++ }
    ctx.on('request', count)
    const mid = await Promise.all(tabs.map(lossPoints))
    await tabs[0]!.waitForTimeout(4000)
    ctx.off('request', count)
    for (const [k, tab] of tabs.entries()) expect(await lossPoints(tab)).toBeGreaterThan(mid[k]!)
    expect(asked).toBeLessThanOrEqual(10)
    // the streaming tab closes: another takes the stream over and every tab keeps updating
    await tabs.shift()!.close()
    const after = await Promise.all(tabs.map(lossPoints))
    for (const [k, tab] of tabs.entries()) await morePoints(tab, after[k]!, 20_000)
    expect(streams).toHaveLength(2)
    await ctx.close()
    p.stdin.end()
    expect(await exited).toBe(0)
  })

  it('a run logging 50 points a second: its page draws at most once a second, mostly the line alone, and ends on the last point', { timeout: 300_000 }, async () => {
    const { p, exited, id, stdout } = await startLogger(20)
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    // the page's data requests in flight at once: a refresh starts only when the last one's were answered
    let inFlight = 0, most = 0
    const data = (r: { url(): string }) => r.url().includes('/data/runs/')
    const asked: string[] = []
    page.on('request', (r) => { if (data(r)) { most = Math.max(most, ++inFlight); asked.push(r.url()) } })
    page.on('requestfinished', (r) => { if (data(r)) inFlight-- })
    page.on('requestfailed', (r) => { if (data(r)) inFlight-- })
    // the first chart the page draws of the RUNNING run: its x axis already leaves room past the last point (the run
    // was RUNNING when rendered), not drawn without and again at the first change
    await page.addInitScript(() => {
      const w = window as unknown as { __first?: { end: number; last: number } }
      new MutationObserver((ms, o) => {
        for (const m of ms) for (const n of m.addedNodes) {
          const fig = (n as Element).closest?.('.run-charts figure[data-metric="loss"]')
          if (n.nodeName.toLowerCase() !== 'svg' || !fig) continue
          const x = (n as unknown as { scale(k: string): { domain: number[] } }).scale('x')
          w.__first = { end: x.domain[1]!, last: Number(fig.getAttribute('data-last-step')) }
          o.disconnect()
        }
      }).observe(document, { subtree: true, childList: true })
    })
    await page.goto(`${srv.url}/runs/${id}/`, { timeout: 120_000 })
    const fig = '.run-charts figure[data-metric="loss"]'
    await page.waitForFunction((f) => document.querySelector(`${f} svg`) && document.querySelector('.run-charts[data-hydrated="true"]'), fig, { timeout: 60_000 })
    const first = await page.evaluate(() => (window as unknown as { __first?: { end: number; last: number } }).__first)
    expect(first?.last).toBeGreaterThan(0)
    expect(first!.end).toBeGreaterThan(first!.last * 1.2)
    // count what the page draws while the run logs: whole charts (a new svg) and lines extended in place (data-line-to)
    await page.evaluate((f) => {
      const w = window as unknown as { __charts: number; __lines: number }
      w.__charts = 0
      w.__lines = 0
      new MutationObserver((ms) => {
        for (const m of ms) {
          if (m.type === 'attributes') w.__lines++ // the line extended in place (PlotFigure extendLine)
          else if ([...m.addedNodes].some((n) => n.nodeName.toLowerCase() === 'svg')) w.__charts++
        }
      }).observe(document.querySelector(`${f} .plot`)!, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-line-to'] })
    }, fig)
    const t0 = Date.now()
    const asked0 = asked.length
    await page.waitForTimeout(6000)
    const askedMeanwhile = asked.slice(asked0)
    const { charts, lines } = await page.evaluate(() => { const w = window as unknown as { __charts: number; __lines: number }; return { charts: w.__charts, lines: w.__lines } })
    const seconds = (Date.now() - t0) / 1000
    // ~300 points arrived: at most one draw per second (live-channel GAP), and most of them the line alone
    expect(charts + lines).toBeGreaterThanOrEqual(2)
    expect(charts + lines).toBeLessThanOrEqual(Math.ceil(seconds) + 1)
    expect(lines).toBeGreaterThan(0)
    expect(most).toBeLessThanOrEqual(2)
    // the points came pushed with the change events (ticks): besides the stream's first event (the run and its series
    // at that version) and one catch-up as the first tick follows on, the page asked for its run's data only when the
    // branch moved (the writer commits every 30 s), not for each redraw (it was two requests a redraw)
    console.error(`50 points/s: ${charts} charts, ${lines} lines drawn, ${askedMeanwhile.length} data requests in ${seconds.toFixed(1)} s`)
    expect(askedMeanwhile.length, askedMeanwhile.join('\n')).toBeLessThanOrEqual(5)
    expect(askedMeanwhile.length).toBeLessThan(charts + lines)
    p.stdin.end()
    expect(await exited).toBe(0)
    const total = Number(/points (\d+)/.exec(stdout())![1])
    await page.waitForFunction(([f, n]) => document.querySelector(`${f} figcaption`)?.textContent?.includes(`(${n.toLocaleString('en')} points`), [fig, total] as const, { timeout: 20_000 })
    // the last point is the one drawn: the chart's last step, and its line ends on that step on the chart's own x scale
    await page.waitForFunction(([f, last]) => Number(document.querySelector(`${f}`)?.getAttribute('data-last-step')) === last, [fig, total - 1] as const, { timeout: 20_000 })
    const ends = await page.evaluate((f) => {
      const svg = document.querySelector(`${f} svg`) as unknown as { scale(n: string): { apply(v: number): number } } & Element
      const d = svg.querySelector('g[aria-label="line"] path')!.getAttribute('d')!
      const last = /([-\d.]+),([-\d.]+)$/.exec(d)!
      return { x: Number(last[1]), want: svg.scale('x').apply(Number(document.querySelector(f)!.getAttribute('data-last-step'))) }
    }, fig)
    expect(Math.abs(ends.x - ends.want)).toBeLessThan(0.5)
    expect(errors).toEqual([])
    await page.close()
  })

  it('a point logged out of step order is drawn by itself: the page fetches that series, as for a missed point', { timeout: 300_000 }, async () => {
    const { p, exited, id, stdout } = await startLogger(50)
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`${srv.url}/runs/${id}/`, { timeout: 120_000 })
    const fig = '.run-charts figure[data-metric="loss"]'
    await page.waitForFunction((f) => document.querySelector(`${f} [data-line-to]`) && document.querySelector('.run-charts[data-hydrated="true"]'), fig, { timeout: 60_000 })
    // the curve so far is loss = 1 / (step + 1) <= 1; the point ten steps back is 5, above every other
    const yTop = () => page.evaluate((f) => { const svg = document.querySelector(`${f} svg`) as (Element & { scale(n: string): { domain: number[] } }) | null; return svg ? Number(svg.scale('y').domain[1]) : NaN }, fig)
    expect(await yTop()).toBeLessThan(5)
    p.stdin.write('back\n')
    await expect.poll(() => /back at (\d+)/.exec(stdout())?.[1], { timeout: 30_000 }).toBeDefined()
    // no reload, no commit (the logger commits once an hour): the chart takes the point in within a few ticks
    await expect.poll(yTop, { timeout: 20_000 }).toBeGreaterThanOrEqual(5)
    p.stdin.end()
    expect(await exited).toBe(0)
    expect(errors).toEqual([])
    await page.close()
  })

  it('a run logged by another process: its page exists at once, chart and table update by themselves, FINISHED, no reload', { timeout: 400_000 }, async () => {
    const exp = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    const errors: string[] = []
    exp.on('pageerror', (e) => errors.push(e.message))
    await exp.goto(`${srv.url}/experiments/${liveExp}/`)
    await exp.waitForSelector('.runs-island')
    await exp.evaluate(() => { (window as unknown as { __same: boolean }).__same = true })

    // a point per 100 ms until we close the child's stdin (so RUNNING and growth are seen however slow the machine is)
    const logger = await startLogger()
    const { p, exited, id } = logger

    // the run's page exists the moment the run started
    const run = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    run.on('pageerror', (e) => errors.push(e.message))
    // generous bounds: on a loaded machine (load 40+) a page's assets took 2-8 s each from this in-process server
    const res = await run.goto(`${srv.url}/runs/${id}/`, { timeout: 120_000 })
    expect(res?.status()).toBe(200)
    await run.evaluate(() => { (window as unknown as { __same: boolean }).__same = true })
    expect(await run.textContent('h1 .badge')).toBe('RUNNING')

    // the chart appears and grows by itself
    await run.waitForFunction(() => document.querySelector('.run-charts figure[data-metric="loss"] svg'), undefined, { timeout: 60_000 })
    const first = await lossPoints(run)
    const t0 = Date.now()
    await morePoints(run, first, 10_000)
    const grew = Date.now() - t0

    // a page nobody sees (visibilityState hidden) makes no refresh while the run logs; shown, it catches up by itself
    const unseen = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    unseen.on('pageerror', (e) => errors.push(e.message))
    await unseen.addInitScript(() => {
      let hidden = true
      Object.defineProperty(document, 'visibilityState', { get: () => (hidden ? 'hidden' : 'visible') })
      ;(window as unknown as { __show(): void }).__show = () => { hidden = false; document.dispatchEvent(new Event('visibilitychange')) }
    })
    const asked: string[] = []
    unseen.on('request', (r) => { if (r.url().includes(`/data/runs/${id}`)) asked.push(r.url()) })
    await unseen.goto(`${srv.url}/runs/${id}/`, { timeout: 120_000 })
    await unseen.waitForFunction(() => document.querySelector('.run-charts figure[data-metric="loss"] svg'), undefined, { timeout: 60_000 })
    const hydrated = asked.length
    await unseen.waitForTimeout(3000)
    expect(asked.slice(hydrated)).toEqual([])
    const shown = await lossPoints(unseen)
    await unseen.evaluate(() => (window as unknown as { __show(): void }).__show())
    await morePoints(unseen, shown, 10_000)
    await unseen.close()
    // the experiment table got the run, RUNNING, by itself
    const row = `.runs-island tbody tr[data-run="${id}"]`
    await exp.waitForSelector(row, { timeout: 10_000 })
    expect(await exp.textContent(`${row} .badge`)).toBe('RUNNING')

    // sections that did not exist at first render appear in place: a second metric (chart + table row), a tag, datasets
    expect(await run.$('.run-charts figure[data-metric="acc"]')).toBeNull()
    expect(await run.textContent('main')).not.toContain('Datasets')
    p.stdin.write('more\n')
    await run.waitForFunction(() => document.querySelector('.run-charts figure[data-metric="acc"] svg'), undefined, { timeout: 30_000 })
    await run.waitForFunction(() => [...document.querySelectorAll('main h2')].some((h) => h.textContent === 'Datasets') && document.querySelector('table.datasets')?.textContent?.includes('train-set')
      && document.querySelector('table.tags')?.textContent?.includes('phase') && document.querySelector('table.metrics')?.textContent?.includes('acc'), undefined, { timeout: 30_000 })
    expect(await run.textContent('table.tags')).toContain('labbook.live')

    // screenshots mid-run: run page and experiment page, light and dark, desktop and phone
    for (const [name, pg] of [['run', run], ['experiment', exp]] as const) {
      for (const scheme of ['light', 'dark'] as const) {
        for (const [size, vp] of [['desktop', { width: 1440, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
          await pg.emulateMedia({ colorScheme: scheme })
          await pg.setViewportSize(vp)
          await pg.screenshot({ path: join(SHOTS, `${name}-running-${scheme}-${size}.png`), fullPage: size === 'desktop' && name === 'run' })
        }
      }
      await pg.emulateMedia({ colorScheme: 'light' })
      await pg.setViewportSize({ width: 1440, height: 900 })
    }

    expect(await run.textContent('h1 .badge')).toBe('RUNNING')
    p.stdin.end()
    expect(await exited).toBe(0)
    const total = Number(/points (\d+)/.exec(logger.stdout())![1])
    await run.waitForFunction(() => document.querySelector('h1 .badge')?.textContent === 'FINISHED', undefined, { timeout: 15_000 })
    await exp.waitForFunction((sel) => document.querySelector(`${sel} .badge`)?.textContent === 'FINISHED', row, { timeout: 15_000 })
    await run.waitForFunction((n) => document.querySelector('.run-charts figure[data-metric="loss"] figcaption')?.textContent?.includes(`(${n.toLocaleString('en')} points`), total, { timeout: 15_000 })
    // the live label goes with the end; the artifact logged at the end gets its section, in place
    await run.waitForFunction(() => !document.querySelector('table.tags')?.textContent?.includes('labbook.live') && document.querySelector('table.artifacts')?.textContent?.includes('notes.txt'), undefined, { timeout: 15_000 })
    expect(await run.textContent('table.tags')).toContain('phase')
    await run.screenshot({ path: join(SHOTS, 'run-finished-light-desktop.png'), fullPage: true })
    for (const pg of [run, exp]) expect(await pg.evaluate(() => (window as unknown as { __same?: boolean }).__same)).toBe(true)
    expect(errors).toEqual([])
    expect(grew).toBeLessThan(10_000)
    expect(repo.userState()).toBe(userState)
  })
})
