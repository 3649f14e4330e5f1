/**
 * The site's faces of src/judge, in real headless Chromium against one real built site (one Astro build): the runs
 * table (primary metric first, telemetry hidden, view in the address, group rows, parent rows, Compare children),
 * group curves with bands, the compare of groups (verdicts, not deltas) and the commits page (subject, author, date,
 * change detection). Screenshots (light/dark, desktop/phone) go to test-output/judge-site/.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import type { PreviewServer } from '../../src/site/build/preview.js'
import { builtSite, type BuiltSite, type Watched } from '../helpers/built-site.js'
import { EVIL } from '../helpers/site-fixtures.js'

const SHOTS = join(process.cwd(), 'test-output', 'judge-site')
const T0 = 1_767_225_600_000
let site: BuiltSite<void>
let srv: PreviewServer
let browser: Browser
let commits: Record<string, string>
const ids: Record<string, string> = {}
let expId = ''

/** Every request, dialog and script error of the page (test/helpers/built-site.ts). */
const open = (ctx: BrowserContext, path: string): Promise<Watched> => site.open(path, { context: ctx })
/** Polls with room for a loaded machine (the default second is too short while eight builds run). */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000 })
const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
const VIEWS = [
  { name: 'desktop', viewport: { width: 1440, height: 900 } },
  { name: 'phone', viewport: { width: 390, height: 844 }, isMobile: true },
] as const

beforeAll(async () => {
  rmSync(SHOTS, { recursive: true, force: true })
  mkdirSync(SHOTS, { recursive: true })
  site = await builtSite({ files: { 'train.py': 'v0\n' }, populate: async (repo) => {
    const g = repo.git
    const commit = (msg: string, author: string, date: string) => {
      writeFileSync(join(repo.dir, 'train.py'), msg)
      g('commit', '-qam', msg, `--author=${author}`, `--date=${date}`)
      return g('rev-parse', 'HEAD').trim()
    }
    commits = {
      c1: commit('Baseline model', 'Ada Lovelace <ada@example.com>', '2026-01-02T10:00:00Z'),
      c2: commit('Tune the learning rate', 'Grace Hopper <grace@example.com>', '2026-01-03T10:00:00Z'),
      c3: commit(`Refactor the loader ${EVIL.script}`, `Mallory ${EVIL.img} <m@example.com>`, '2026-01-04T10:00:00Z'),
      c4: commit('Try a bigger batch', 'Ada Lovelace <ada@example.com>', '2026-01-05T10:00:00Z'),
    }
    const book = await Labbook.open({ repo: repo.dir })
    let i = 0
    const add = async (name: string, commit: string, params: Record<string, string | number>, final: number, o: { status?: 'FINISHED' | 'FAILED'; parent?: string; experiment?: string } = {}) => {
      const start = T0 + i++ * 600_000
      const run = await book.startRun({ experiment: o.experiment ?? 'sweep', name, params, parent: o.parent, source: { commit, branch: 'main', dirty: false }, startTime: start })
      for (let s = 0; s < 20; s++) {
        const p = (s + 1) / 20
        run.logMetrics({ acc: final * (1 - Math.exp(-4 * p)) / (1 - Math.exp(-4)), loss: 1 - final + Math.exp(-3 * p), 'system/memory_mb': 900 + 10 * s }, { step: s, timestamp: start + s * 1000 })
      }
      await run.end(o.status ?? 'FINISHED', { endTime: start + 30_000 })
      ids[name] = run.id
      return run.id
    }
    for (const [s, v] of [0.80, 0.81, 0.79, 0.805].entries()) await add(`base-s${s}`, commits.c1!, { lr: 0.1, seed: s }, v)
    for (const [s, v] of [0.80, 0.815, 0.795, 0.80].entries()) await add(`base2-s${s}`, commits.c2!, { lr: 0.1, seed: s }, v)
    for (const [s, v] of [0.85, 0.86, 0.845, 0.855].entries()) await add(`tuned-s${s}`, commits.c2!, { lr: 0.03, arch: EVIL.img, seed: s }, v)
    // A diverged run whose last acc happened to be the highest: FAILED, never crowned anywhere.
    await add('diverged', commits.c2!, { lr: 0.3, seed: 0 }, 0.99, { status: 'FAILED' })
    // `labbook run --repeat 3`: a parent summarising three seeds.
    const parent = await book.startRun({ experiment: 'sweep', name: 'repeat-lr0.01', params: { lr: 0.01 }, source: { commit: commits.c2!, branch: 'main', dirty: false }, startTime: T0 + i++ * 600_000 })
    ids.parent = parent.id
    for (const [s, v] of [0.83, 0.835, 0.825].entries()) await add(`rep-s${s}`, commits.c2!, { lr: 0.01, seed: s }, v, { parent: parent.id })
    await parent.end('FINISHED', { endTime: T0 + i * 600_000 })
    for (const [s, v] of [0.70, 0.71, 0.69, 0.705].entries()) await add(`refactor-s${s}`, commits.c3!, { lr: 0.03, arch: EVIL.img, seed: s }, v)
    await add('bigger-batch', commits.c4!, { lr: 0.03, arch: EVIL.img, seed: 0, batch: 256 }, 0.72)
    for (const s of [0, 1]) await add(`other-${s}`, commits.c1!, { beam: 4, seed: s }, 0.5, { experiment: 'other' })
    expId = (await book.experiment('sweep')).id
    await book.close()
  } })
  ;({ srv, browser } = site)
}, 240_000)

// close() also checks the user's repository is as populate left it
afterAll(() => site?.close())

const colIds = (page: Page) => page.locator('.runs-island thead th[data-col]').evaluateAll((ths) => ths.map((th) => th.getAttribute('data-col')))

describe('the runs table', () => {
  it('shows the primary metric right after name and status, hides telemetry, and keeps sort and columns in the address', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } })
    const { page, errors } = await open(ctx, `experiments/${expId}/`)
    await page.waitForSelector('.runs-island tbody tr')
    const cols = await colIds(page)
    expect(cols.slice(0, 3)).toEqual(['attr:name', 'attr:status', 'metric:acc'])
    expect(cols).not.toContain('metric:system/memory_mb')
    // The column chooser adds telemetry; sorting by acc; both land in the address.
    await page.locator('details.chooser summary').click()
    await page.locator('details.chooser input[data-col="metric:system/memory_mb"]').check()
    await page.locator('details.chooser summary').click()
    await page.locator('th[data-col="metric:acc"]').click()
    await poll(() => new URL(page.url()).searchParams.get('sort')).toBe('-metric:acc')
    expect(new URL(page.url()).searchParams.get('cols')).toContain('system')
    const order = await page.locator('.runs-island tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run')))
    // The FAILED run's 0.99 sorts first as a value, but it is labelled FAILED, and the header crowns a FINISHED run.
    expect(order[0]).toBe(ids.diverged)
    expect(await page.locator(`tr[data-run="${ids.diverged}"] .badge`).first().textContent()).toBe('FAILED')
    expect(await page.locator('main > p.muted').first().textContent()).toContain('tuned-s1')
    // Reload: the same view.
    await page.reload({ waitUntil: 'networkidle' })
    await page.waitForSelector('.runs-island tbody tr')
    expect(await colIds(page)).toContain('metric:system/memory_mb')
    expect(await page.locator('th[data-col="metric:acc"]').getAttribute('aria-sort')).toBe('descending')
    expect(await page.locator('.runs-island tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run')))).toEqual(order)
    expect(errors).toEqual([])
    await ctx.close()
  })

  it('summarises a parent by its children (best child, n), expands it and offers Compare children', async () => {
    const ctx = await browser.newContext()
    const { page } = await open(ctx, `experiments/${expId}/`)
    const row = page.locator(`tr.parent[data-run="${ids.parent}"]`)
    await row.waitFor()
    expect(await row.textContent()).toContain('3 children')
    expect(await row.locator('td[title="best child"]').first().textContent()).toContain('0.835')
    expect(await page.locator('tr.child').count()).toBe(0)
    await row.locator('button.twisty').click()
    await poll(() => page.locator('tr.child').count()).toBe(3)
    const href = await row.locator('a.compare-children').getAttribute('href')
    expect(href).toMatch(/\/compare\/\?runs=/)
    expect(new URL(href!, srv.url).searchParams.get('runs')!.split(',').sort()).toEqual([ids['rep-s0'], ids['rep-s1'], ids['rep-s2']].sort())
    await ctx.close()
  })

  it('groups by configuration with expandable rows (mean ± CI, n) and draws group curves with a band; the link reproduces the view', async () => {
    const ctx = await browser.newContext({ viewport: VIEWS[0].viewport })
    const { page, errors, dialogs } = await open(ctx, `experiments/${expId}/?sort=-metric:acc`)
    await page.getByLabel('Group by').selectOption('config')
    await poll(() => new URL(page.url()).searchParams.get('group')).toBe('config')
    const groups = page.locator('tr.group-row')
    await poll(() => groups.count()).toBe(7)
    // Sorted by the group mean; the same params on two commits are two groups (src/judge's rule, as `ls --group-by
    // config` and the report split them), named by commit; the hostile param value in the label is text.
    const at = (c: string) => ` @ ${commits[c]!.slice(0, 8)}`
    const first = groups.first()
    expect(await groups.locator('.group-label').allTextContents()).toEqual([
      `arch=${EVIL.img} · lr=0.03${at('c2')}`, 'lr=0.01', `lr=0.1${at('c2')}`, `lr=0.1${at('c1')}`, `arch=${EVIL.img} · batch=256 · lr=0.03`,
      `arch=${EVIL.img} · lr=0.03${at('c3')}`, 'lr=0.3',
    ])
    expect(await groups.evaluateAll((trs) => trs.map((tr) => tr.querySelector('td.mono')?.textContent ?? ''))).toEqual(
      ['c2', 'c2', 'c2', 'c1', 'c4', 'c3', 'c2'].map((c) => commits[c]!.slice(0, 8)))
    expect(await groups.nth(6).locator('a').count()).toBe(0) // the FAILED-only group has no best member
    expect(await groups.nth(6).locator('td[data-metric="acc"]').count()).toBe(0)
    expect(await groups.nth(1).locator('td[data-metric="acc"]').textContent()).toBe('0.830 ± 0.012')
    await first.locator('button.twisty').click()
    await poll(() => page.locator('tr.member').count()).toBe(4)
    const openId = await first.getAttribute('data-group')
    expect(new URL(page.url()).searchParams.get('open')).toBe(openId)
    // Group curves: a mean line over a shaded band per group with eligible runs; the band toggles to min–max, and the
    // choice is in the address like sort and group.
    const band = page.locator('figure.band-chart[data-metric="acc"] svg g[aria-description="band"] path')
    await poll(() => band.count()).toBe(6)
    const ci = await band.first().getAttribute('d')
    expect(new URL(page.url()).searchParams.get('band')).toBeNull()
    await page.getByLabel('Band').selectOption('minmax')
    await poll(() => band.first().getAttribute('d')).not.toBe(ci)
    const minmax = await band.first().getAttribute('d')
    await poll(() => new URL(page.url()).searchParams.get('band')).toBe('minmax')
    expect(new URL(page.url()).searchParams.get('group')).toBe('config') // the table's view is kept beside it
    // Reload keeps grouping, sort, the open group and the band.
    await page.reload({ waitUntil: 'networkidle' })
    await poll(() => page.locator('tr.member').count()).toBe(4)
    expect(await page.locator(`tr.group-row[data-group="${openId}"] button.twisty`).getAttribute('aria-expanded')).toBe('true')
    await poll(() => page.getByLabel('Band').inputValue()).toBe('minmax')
    await poll(() => band.first().getAttribute('d')).toBe(minmax)
    await page.getByLabel('Band').selectOption('ci')
    await poll(() => new URL(page.url()).searchParams.get('band')).toBeNull()
    await poll(() => band.first().getAttribute('d')).toBe(ci)
    await page.locator('tr.group-row').nth(1).locator('button.twisty').click()
    await poll(() => page.locator('tr.member').count()).toBe(7)
    const link = page.url()
    await page.waitForTimeout(200)
    await shot(page, 'experiment-grouped-desktop-light')
    expect(errors).toEqual([])
    expect(dialogs).toEqual([])
    await ctx.close()
    // The same link in other schemes and on a phone: the same view.
    for (const [scheme, v] of [['light', VIEWS[0]], ['dark', VIEWS[0]], ['light', VIEWS[1]], ['dark', VIEWS[1]]] as const) {
      const c = await browser.newContext({ viewport: v.viewport, isMobile: 'isMobile' in v, colorScheme: scheme })
      const w = await c.newPage()
      const runFiles: string[] = []
      w.on('request', (r) => { if (/\/data\/runs\/[^/]+\.json$/.test(r.url())) runFiles.push(r.url()) })
      await w.goto(link, { waitUntil: 'networkidle' })
      await poll(() => w.locator('tr.member').count()).toBe(7)
      // The curves below the table load once their section comes near the screen (on a phone the table is taller
      // than the screen): nothing is asked for them before.
      const curves = w.locator('section.group-charts')
      if (v.name === 'phone') {
        expect(await curves.evaluate((e) => e.getBoundingClientRect().top - window.innerHeight)).toBeGreaterThan(400)
        expect(runFiles).toEqual([])
      }
      await curves.scrollIntoViewIfNeeded()
      await poll(() => w.locator('figure.band-chart[data-metric="acc"] svg g[aria-description="band"] path').count()).toBe(6)
      expect(runFiles.length).toBeGreaterThan(0)
      if (v.name === 'phone') expect(await w.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(1)
      expect(await w.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined()
      // A repeat row is as tall as its content: a long param value (the hostile arch) keeps to two lines, so the
      // four repeats of that configuration are not drawn several times taller than their one-line name and status.
      const rows = await w.locator('tr.member').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height))
      const line = await w.locator('tr.member td.name').first().evaluate((e) => parseFloat(getComputedStyle(e).lineHeight))
      expect(Math.max(...rows)).toBeLessThan(3.5 * line)
      await shot(w, `experiment-grouped-${v.name}-${scheme}`)
      // Collapsed (nothing open): a group's label keeps to three lines; every row is still one group.
      const closed = new URL(link)
      closed.searchParams.delete('open')
      await w.goto(closed.href, { waitUntil: 'networkidle' })
      await poll(() => w.locator('tr.group-row').count()).toBe(7)
      expect(await w.locator('tr.member').count()).toBe(0)
      const labels = await w.locator('tr.group-row .group-label').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)))
      expect(Math.max(...labels)).toBeLessThan(3.5)
      // … and its best run's name is never broken mid-word (one line box per link), also on a phone.
      expect(await w.locator('tr.group-row td.group-name .small a').evaluateAll((els) => els.map((e) => e.getClientRects().length))).toEqual([1, 1, 1, 1, 1, 1])
      await shot(w, `experiment-grouped-collapsed-${v.name}-${scheme}`)
      await c.close()
    }
  }, 300_000)
})

describe('compare of groups', () => {
  it('compares picked groups with src/judge verdicts against the first, informational metrics without one', async () => {
    const check = async (page: Page) => {
      const acc = page.locator('table.groups-cmp tr[data-metric="acc"]')
      await acc.waitFor()
      // lr=0.1 on c2 (0.8025, n=4) is the baseline; the same config on c1 (0.80125) is within noise; the lr=0.03 config
      // on c3 (0.70) is clearly worse (on c2 it was 0.85: one group across commits would have hidden that).
      await poll(() => acc.locator('[data-verdict]').evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict')))).toEqual(['inconclusive', 'worse'])
      expect(await acc.textContent()).toContain('n=4')
      expect(await page.locator('table.groups-cmp tr[data-metric="system/memory_mb"] [data-verdict]').count()).toBe(0)
      expect(await page.locator('.legend [data-group-label]').evaluateAll((els) => els.map((e) => e.getAttribute('data-group-label')))).toEqual(
        [`lr=0.1 @ ${commits.c2!.slice(0, 8)}`, `lr=0.1 @ ${commits.c1!.slice(0, 8)}`, `arch=${EVIL.img} · lr=0.03 @ ${commits.c3!.slice(0, 8)}`])
      await poll(() => page.locator('figure.band-chart[data-metric="acc"] svg g[aria-description="band"] path').count()).toBe(3)
      expect(await page.locator('img[src="x"], img[onerror]').count()).toBe(0)
      await page.waitForTimeout(200)
    }
    const ctx = await browser.newContext({ viewport: VIEWS[0].viewport })
    const { page, errors, dialogs, requests } = await open(ctx, `experiments/${expId}/?group=config&sort=-metric:acc`)
    await page.locator('tr.group-row').first().waitFor()
    for (const i of [2, 3, 5]) await page.locator('tr.group-row').nth(i).locator('input[type=checkbox]').check()
    await page.getByRole('button', { name: /Compare groups \(3\)/ }).click()
    await page.waitForURL(/compare\/groups\/\?g=/)
    await check(page)
    // The band choice is in this page's address too: the link below opens with min–max.
    await page.getByLabel('Band').selectOption('minmax')
    await poll(() => new URL(page.url()).searchParams.get('band')).toBe('minmax')
    await shot(page, 'compare-groups-desktop-light')
    const link = page.url()
    expect(errors).toEqual([])
    expect(dialogs).toEqual([])
    for (const u of requests) expect(u.startsWith(srv.url)).toBe(true)
    await ctx.close()
    for (const [scheme, v] of [['dark', VIEWS[0]], ['light', VIEWS[1]], ['dark', VIEWS[1]]] as const) {
      const c = await browser.newContext({ viewport: v.viewport, isMobile: 'isMobile' in v, colorScheme: scheme })
      const w = await c.newPage()
      await w.goto(link, { waitUntil: 'networkidle' })
      await check(w)
      expect(await w.getByLabel('Band').inputValue()).toBe('minmax')
      if (v.name === 'phone') expect(await w.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(1)
      await shot(w, `compare-groups-${v.name}-${scheme}`)
      await c.close()
    }
  }, 300_000)
})

describe('the commits page', () => {
  it("shows subject, author and date from git and marks changes beyond noise with the report's rule", async () => {
    for (const scheme of ['light', 'dark'] as const) for (const v of VIEWS) {
      const ctx = await browser.newContext({ viewport: v.viewport, isMobile: 'isMobile' in v, colorScheme: scheme })
      const { page, errors, dialogs } = await open(ctx, 'commits/')
      if (scheme === 'dark' && v.name === 'desktop') { await shot(page, `commits-${v.name}-${scheme}`); await ctx.close(); continue }
      const rows = page.locator('table.commits tbody tr')
      expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-commit')))).toEqual([commits.c4, commits.c3, commits.c2, commits.c1])
      const row = (c: string) => page.locator(`tr[data-commit="${commits[c]}"]`)
      expect(await row('c2').locator('.subject').textContent()).toBe('Tune the learning rate')
      expect(await row('c2').textContent()).toContain('Grace Hopper')
      expect(await row('c2').textContent()).toContain('2026-01-03 10:00')
      expect(await row('c3').locator('.subject').textContent()).toBe(`Refactor the loader ${EVIL.script}`)
      const verdict = (c: string) => row(c).locator(`.change[data-experiment="${expId}"]`).getAttribute('data-verdict')
      expect([await verdict('c1'), await verdict('c2'), await verdict('c3'), await verdict('c4')]).toEqual(['', 'better', 'worse', 'inconclusive'])
      // c2's best group is the tuned config, never the FAILED 0.99 run.
      expect(await row('c2').locator(`.change[data-experiment="${expId}"]`).textContent()).toContain('lr=0.03')
      expect(await row('c2').textContent()).not.toContain('diverged')
      expect(await page.locator(`figure.trend[data-experiment="${expId}"] svg g[aria-description="change"] circle`).count()).toBe(2)
      if (v.name === 'phone') expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(1)
      await shot(page, `commits-${v.name}-${scheme}`)
      expect(errors).toEqual([])
      expect(dialogs).toEqual([])
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined()
      await ctx.close()
    }
  }, 300_000)
})
