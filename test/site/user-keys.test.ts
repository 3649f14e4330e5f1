/**
 * Keys named like Object.prototype members (`__proto__`, `constructor`, `toString`) as a metric, a param and a tag are
 * ordinary keys on the static site too: a real repository built with `buildSite`, served on loopback, read in headless
 * Chromium. The run pages (rendered and drawn by the shell), the experiment table (columns, column chooser, group-by)
 * and Compare show each key with its value and no script error. One run has only some of the keys, so a page that
 * looked a key up in an ordinary object would find Object.prototype's member instead (stop 22's CI: a `__proto__`
 * tag was lost; the islands' maps are built with src/model/run.ts `keyed()`).
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/track/labbook.js'
import { builtSite, hydrated, type BuiltSite } from '../helpers/built-site.js'

const KEYS = ['__proto__', 'constructor', 'toString'] as const
/** JSON.parse makes "__proto__" an own key, as an MLflow client's JSON body does. */
const record = (f: (k: string) => string, keys: readonly string[] = KEYS) => JSON.parse(JSON.stringify(Object.fromEntries(keys.map((k) => [k, f(k)])))) as Record<string, string>

interface Made { full: string; partial: string; old: string; experiment: string }
let site: BuiltSite<Made>
let made: Made

beforeAll(async () => {
  site = await builtSite<Made>({
    base: '/keys/', build: { fullPages: 1 },
    populate: async (r) => {
      const book = await Labbook.open({ repo: r.dir })
      try {
        const exp = await book.experiment('prototype-keys')
        const t0 = 1_700_000_000_000
        const log = async (name: string, at: number, params: Record<string, string>, tags: Record<string, string>, metrics: readonly string[]) => {
          const run = await exp.startRun({ name, params: { ...params }, tags: { ...tags }, startTime: at })
          for (let s = 0; s < 6; s++) {
            run.logMetric('loss', 1 / (s + 1), { step: s, timestamp: at + s })
            metrics.forEach((k, i) => run.logMetric(k, (i + 1) * 10 + s, { step: s, timestamp: at + s }))
          }
          await run.end('FINISHED', { endTime: at + 60_000 })
          return run.id
        }
        // the oldest: every key, drawn by the run-page shell; the middle one: some keys only; the newest: a rendered page
        const old = await log('keys-old', t0, { ...record((k) => `p-${k}`), lr: '0.1' }, record((k) => `t-${k}`), KEYS)
        const partial = await log('keys-partial', t0 + 3_600_000, { ...record((k) => `q-${k}`, ['__proto__']), lr: '0.01' }, record((k) => `u-${k}`, ['__proto__']), ['__proto__'])
        const full = await log('keys-full', t0 + 7_200_000, { ...record((k) => `p-${k}`), lr: '0.1' }, record((k) => `t-${k}`), KEYS)
        const summary = (await book.listRuns()).find((x) => x.id === full)!
        return { full, partial, old, experiment: summary.experiment }
      } finally { await book.close() }
    },
  })
  made = site.made
}, 240_000)

afterAll(() => site?.close())

/**
 * Opens a page of the site and runs `check` on it, then asserts the page had no script error, dialog or outside
 * request. A wait that does not end fails in 15 s naming what it waited for; any failure carries the page's errors.
 */
async function onPage(path: string, check: (page: Page) => Promise<void>): Promise<void> {
  const w = await site.open(path)
  w.page.setDefaultTimeout(15_000)
  try {
    await check(w.page)
  } catch (e) {
    throw new Error(`${(e as Error).message}\npage problems: ${JSON.stringify(w.problems)}`)
  } finally {
    await w.close()
  }
  expect(w.problems).toEqual([])
}

/** The rows of a key/value table (`th` key, `td` value). */
const kv = (page: Page, sel: string) => page.locator(`${sel} tr`).evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th')?.textContent ?? '', tr.querySelector('td')?.textContent ?? '']))
const metricRows = (page: Page) => page.locator('table.metrics tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.children[0]!.textContent, tr.children[1]!.textContent]))

describe('keys named like Object.prototype members on the static site', () => {
  it('the build keeps them', () => {
    expect(site.built.problems).toEqual([])
    expect(site.built.runs).toBe(3)
  })

  for (const which of ['full', 'old'] as const) {
    it(`a run page (${which === 'full' ? 'rendered' : 'drawn by the shell'}) shows each key with its value and a chart per metric`, async () => {
      await onPage(`runs/${made[which]}/`, async (page) => {
        await page.waitForFunction(() => document.querySelectorAll('.run-charts figure svg').length >= 4)
        expect((await kv(page, 'table.params')).sort()).toEqual([...KEYS.map((k) => [k, `p-${k}`]), ['lr', '0.1']].sort())
        expect((await kv(page, 'table.tags')).filter(([k]) => (KEYS as readonly string[]).includes(k!)).sort()).toEqual(KEYS.map((k) => [k, `t-${k}`]).sort())
        expect((await metricRows(page)).filter(([k]) => k !== 'loss').sort()).toEqual([['__proto__', '15'], ['constructor', '25'], ['toString', '35']])
        for (const k of KEYS) expect(await page.locator(`.run-charts figure[data-metric="${k}"] svg`).count(), `chart of ${k}`).toBe(1)
        // no chart starts zoomed (in an ordinary object, the zoom of `constructor` would be Object itself)
        await hydrated(page, '.run-charts')
        expect(await page.locator('.run-charts .reset-zoom').count()).toBe(0)
      })
    }, 60_000)
  }

  it('the experiment table offers and shows them: column chooser, cells, group-by', () => onPage(`experiments/${made.experiment}/`, async (page) => {
    await page.waitForSelector('.runs-island tbody tr')
    for (const kind of ['metric', 'param', 'tag']) {
      for (const k of KEYS) await page.locator(`details.chooser input[data-col="${kind}:${k}"]`).count().then((n) => expect(n, `${kind}:${k} in the chooser`).toBe(1))
    }
    await page.locator('details.chooser summary').click()
    for (const kind of ['metric', 'param', 'tag']) {
      for (const k of KEYS) {
        const box = page.locator(`details.chooser input[data-col="${kind}:${k}"]`)
        if (!(await box.isChecked())) await box.check()
      }
    }
    const cells = (id: string) => page.locator(`.runs-island tr[data-run="${id}"]`).evaluate((tr) => {
      const ths = [...tr.closest('table')!.querySelectorAll('thead th')]
      return Object.fromEntries([...(tr as HTMLTableRowElement).cells].map((td, i) => [ths[i]?.getAttribute('data-col') ?? '', td.textContent ?? '']))
    })
    await expect.poll(() => page.locator('.runs-island thead th[data-col="tag:toString"]').count()).toBe(1)
    const full = await cells(made.full)
    const partial = await cells(made.partial)
    for (const k of KEYS) {
      expect(full[`param:${k}`], `param ${k}`).toBe(`p-${k}`)
      expect(full[`tag:${k}`], `tag ${k}`).toBe(`t-${k}`)
    }
    expect([full['metric:__proto__'], full['metric:constructor'], full['metric:toString']]).toEqual(['15', '25', '35'])
    // the run without them shows nothing there, not Object.prototype's members
    expect([partial['param:__proto__'], partial['param:constructor'], partial['param:toString']]).toEqual(['q-__proto__', '', ''])
    expect([partial['tag:__proto__'], partial['tag:constructor'], partial['tag:toString']]).toEqual(['u-__proto__', '', ''])
    expect([partial['metric:__proto__'], partial['metric:constructor'], partial['metric:toString']]).toEqual(['15', '', ''])
    // sorting by one of them puts the run without it last
    await page.locator('th[data-col="metric:constructor"]').click()
    await expect.poll(() => page.locator('.runs-island tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run'))[2])).toBe(made.partial)
    // the filter language reads them
    await page.locator('input.filter').fill("params.constructor = 'p-constructor'")
    await expect.poll(() => page.locator('.runs-island .count').textContent()).toMatch(/^2 of 3 runs/)
    await page.locator('input.filter').fill('')
    // group by each param: one group with the value, one without it
    for (const k of KEYS) {
      await page.getByLabel('Group by').selectOption(`param:${k}`)
      await expect.poll(() => page.locator('.runs-island .group-label').allTextContents()).toEqual(expect.arrayContaining([`${k}=p-${k}`]))
      const labels = await page.locator('.runs-island .group-label').allTextContents()
      expect(labels.sort(), `group by ${k}`).toEqual([`${k}=p-${k}`, k === '__proto__' ? `${k}=q-${k}` : `${k}=∅`].sort())
      const row = page.locator('.runs-island tr.group-row', { hasText: `${k}=p-${k}` })
      expect(await row.locator('td[data-metric="constructor"]').textContent(), `group by ${k}: mean of constructor`).toMatch(/^25\b/)
    }
  }), 90_000)

  it('Compare shows them: params, metrics with their values, a chart per metric, scatter fields', () => onPage(`compare/?runs=${made.full},${made.partial},${made.old}`, async (page) => {
    await page.waitForFunction(() => document.querySelectorAll('.compare .charts figure svg').length >= 4)
    await page.getByLabel('differences only').uncheck()
    const params = await page.locator('table.params-diff tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)))
    expect(params.filter(([k]) => (KEYS as readonly string[]).includes(k!)).sort()).toEqual(KEYS.map((k) => [k, `p-${k}`, k === '__proto__' ? 'q-__proto__' : '', `p-${k}`]).sort())
    const metrics = await page.locator('table.metrics-cmp tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)))
    const row = (k: string) => metrics.find((m) => m[0] === k)!
    expect(row('constructor').slice(2)).toEqual([expect.stringMatching(/^(★ )?25/), '', expect.stringMatching(/^(★ )?25/)])
    expect(row('toString').slice(2)).toEqual([expect.stringMatching(/^(★ )?35/), '', expect.stringMatching(/^(★ )?35/)])
    expect(row('__proto__').slice(2).map((c) => c!.replace('★ ', '').split(' ')[0])).toEqual(['15', '15', '15'])
    for (const k of KEYS) expect(await page.locator(`.compare .charts figure[data-metric="${k}"] svg`).count(), `chart of ${k}`).toBe(1)
    expect(await page.locator('.compare .reset-zoom').count()).toBe(0)
    const fields = await page.locator('.compare select').nth(-1).locator('option').allTextContents()
    for (const k of KEYS) expect(fields).toEqual(expect.arrayContaining([`params.${k}`, `metrics.${k}`]))
  }), 60_000)
})
