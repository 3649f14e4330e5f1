/**
 * Issue 13's site faces of the registry and datasets, and issue 16's image step slider: a page per registered model
 * (versions, stages, aliases, source runs with their primary metrics, logged model ids), the link back from a source
 * run's page, datasets side by side on Compare with differences marked, and one step slider over images logged at
 * several steps (MLflow's `log_image(key=, step=)` layout and files named by step) on the run page and across runs on
 * Compare. One real repository with hostile names, built once, driven in headless chromium.
 * `LABBOOK_SCREENSHOTS=1` also writes light/dark screenshots at 1440x900 and 390x844 to test-output/site-h13/.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { datasetRows } from '../../src/site/browser/datasets.js'
import { imageAt, imageSeries, unionSteps } from '../../src/site/browser/image-steps.js'
import { modelSlug } from '../../src/site/build/model-views.js'
import type { PreviewServer } from '../../src/site/build/preview.js'
import { builtSite, hydrated, type BuiltSite, type OpenOptions } from '../helpers/built-site.js'
import type { TestRepo } from '../helpers/git-repo.js'
import { EVIL } from '../helpers/site-fixtures.js'

const SHOTS = join(process.cwd(), 'test-output', 'site-h13')
const SCREENSHOTS = process.env.LABBOOK_SCREENSHOTS === '1'

/** A real PNG: `w`×`h` of one colour with a white bar whose width shows the step (so screenshots tell steps apart). */
function png(w: number, h: number, rgb: [number, number, number], bar: number): Uint8Array {
  const raw = Buffer.alloc((w * 3 + 1) * h)
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3
      const white = y > h * 0.7 && x < bar
      raw[o] = white ? 255 : rgb[0]; raw[o + 1] = white ? 255 : rgb[1]; raw[o + 2] = white ? 255 : rgb[2]
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length)
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data])
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td))
    return Buffer.concat([len, td, crc])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2
  return new Uint8Array(Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]))
}
const mlflowImage = (key: string, step: number, ts: number, uuid: string, compressed = false) =>
  `images/${key.replace(/\//g, '#')}%step%${step}%timestamp%${ts}%${uuid}${compressed ? '%compressed.webp' : '.png'}`

describe('pure parts', () => {
  it('groups MLflow stepped images and files named by step; picks the nearest step at or below', () => {
    const paths = [
      mlflowImage('samples/pred', 10, 2, 'u2'), mlflowImage('samples/pred', 10, 2, 'u2', true), mlflowImage('samples/pred', 0, 1, 'u1'),
      mlflowImage('samples/pred', 10, 5, 'u3'), // logged twice at step 10: the later one is shown
      'images/conf+step+3+timestamp+9+abc.png', // the '+' spelling
      'grid/epoch_5.png', 'grid/epoch_15.png', 'grid/epoch_100.png', 'grid/other.png', 'solo/step_1.png', 'model/weights_1.bin',
    ]
    const s = imageSeries(paths)
    expect(s.map((x) => x.key)).toEqual(['conf', 'grid/epoch_#.png', 'samples/pred'])
    const pred = s.find((x) => x.key === 'samples/pred')!
    expect(pred.images.map((i) => [i.step, i.path.includes('u3') ? 'u3' : i.path.includes('u1') ? 'u1' : '?'])).toEqual([[0, 'u1'], [10, 'u3']])
    expect(s.find((x) => x.key === 'grid/epoch_#.png')!.images.map((i) => i.step)).toEqual([5, 15, 100])
    const grid = s.find((x) => x.key === 'grid/epoch_#.png')!.images
    expect([0, 5, 14, 15, 99, 1000].map((t) => imageAt(grid, t)?.step)).toEqual([undefined, 5, 5, 15, 15, 100])
    expect(unionSteps(s)).toEqual([0, 3, 5, 10, 15, 100])
  })

  it('datasets by name: missing, digest, source and context differences', () => {
    const a = { name: 'iris', digest: 'aaa', sourceType: 'local', source: 'data/iris.csv', context: 'training' }
    const rows = datasetRows([
      { datasets: [a, { name: 'eval', digest: 'e1', sourceType: 's3', source: 's3://b/e', context: 'eval' }] },
      { datasets: [{ ...a, digest: 'bbb' }, { name: 'eval', digest: 'e1', sourceType: 's3', source: 's3://b/e', context: 'eval' }] },
      { datasets: [{ ...a, source: 'data/iris2.csv' }] },
    ])
    expect(rows.map((r) => [r.name, r.differs, r.fields])).toEqual([['eval', true, ['missing']], ['iris', true, ['digest', 'source']]])
    expect(datasetRows([{ datasets: [a] }, { datasets: [{ ...a }] }])[0]!.differs).toBe(false)
  })

  it('model page folders: plain names stay, others are sanitised and hashed, never colliding', () => {
    const taken = new Set<string>()
    expect(modelSlug('iris-classifier', taken)).toBe('iris-classifier')
    const evil = modelSlug(EVIL.script, taken)
    expect(evil).toMatch(/^[A-Za-z0-9_-]+-[0-9a-f]{8}$/)
    expect(modelSlug('IRIS-classifier', taken)).toBe('IRIS-classifier~2') // a case-insensitive file system would merge them
    expect(modelSlug('..', taken)).toMatch(/^model-[0-9a-f]{8}$/)
  })
})

let site: BuiltSite<void>
let repo: TestRepo
let srv: PreviewServer
let browser: Browser
const ids: Record<string, string> = {}
const root = () => srv.url.replace(/\/$/, '')
const MODEL = 'iris-classifier'
const EVIL_MODEL = `${EVIL.img} / ${EVIL.svg}`
const EVIL_DATASET = `train ${EVIL.script}`

beforeAll(async () => {
  if (SCREENSHOTS) { rmSync(SHOTS, { recursive: true, force: true }); mkdirSync(SHOTS, { recursive: true }) }
  let before = ''
  site = await builtSite({ build: { judge: { primary: ['val_accuracy'] } }, populate: async (r) => {
    repo = r
    before = repo.userState()
    const book = await Labbook.open({ repo: repo.dir })
    await book.init()
    const t0 = Date.UTC(2026, 0, 5, 9)
    const exp = await book.experiment('iris')
    const colours: Array<[number, number, number]> = [[47, 91, 211], [31, 122, 61], [163, 32, 32]]
    const specs = [
      { name: 'baseline', acc: 0.91, steps: [0, 10, 20], datasets: [{ name: 'iris', digest: 'a1b2c3d4', sourceType: 'local', source: 'data/iris.csv', context: 'training' }, { name: 'holdout', digest: 'f00d', sourceType: 'local', source: 'data/holdout.csv', context: 'eval' }] },
      { name: 'tuned', acc: 0.95, steps: [0, 15], datasets: [{ name: 'iris', digest: 'e5f6a7b8', sourceType: 'local', source: 'data/iris-v2.csv', context: 'training' }, { name: 'holdout', digest: 'f00d', sourceType: 'local', source: 'data/holdout.csv', context: 'eval' }, { name: EVIL_DATASET, digest: '0bad', sourceType: 'http', source: EVIL.js, context: EVIL.tpl }] },
      { name: `evil ${EVIL.script}`, acc: 0.5, steps: [], datasets: [] },
    ]
    for (const [i, s] of specs.entries()) {
      const run = await exp.startRun({ name: s.name, params: { lr: 0.01 * (i + 1) }, startTime: t0 + i * 3_600_000, source: { commit: 'ab'.repeat(20), branch: 'main' } })
      for (let k = 0; k < 20; k++) run.logMetrics({ val_accuracy: s.acc - 0.3 * Math.exp(-k / 4), loss: 1 / (k + 1) }, { step: k, timestamp: t0 + k * 1000 })
      if (s.datasets.length) run.logInputs(s.datasets)
      for (const step of s.steps) {
        const bytes = png(96, 64, colours[i]!, 6 + step * 4)
        await run.logBytes(mlflowImage('samples/pred', step, t0 + step, `0000-${i}-${step}`), bytes)
        await run.logBytes(mlflowImage('samples/pred', step, t0 + step, `0000-${i}-${step}`, true), bytes)
      }
      if (i === 1) for (const step of [5, 15]) await run.logBytes(`grid/epoch_${step}.png`, png(64, 64, [120, 60, 160], step * 4))
      await run.logBytes('plots/one.png', png(32, 32, [200, 200, 0], 10))
      await run.end('FINISHED', { endTime: t0 + i * 3_600_000 + 60_000 })
      ids[s.name] = run.id
    }
    const evilRun = ids[specs[2]!.name]!
    await book.models.createModel(MODEL, { description: `Classifies **iris** flowers.\n\n${EVIL.script} ${EVIL.img}`, tags: { team: 'vision', 'evil tag': EVIL.svg } })
    await book.models.createVersion(MODEL, { source: `runs:/${ids.baseline}/model`, runId: ids.baseline, description: 'first cut' })
    await book.models.createVersion(MODEL, { source: `runs:/${ids.tuned}/model`, runId: ids.tuned, modelId: 'm-0123456789abcdef', tags: { note: EVIL.img } })
    await book.models.createVersion(MODEL, { source: 'runs:/0000notinthissite/model', runId: '0000notinthissite' })
    await book.models.setAlias(MODEL, 'champion', 2)
    await book.models.setAlias(MODEL, 'challenger', 3)
    await book.models.transitionStage(MODEL, 2, 'Production')
    await book.models.transitionStage(MODEL, 1, 'Archived')
    await book.models.createVersion(EVIL_MODEL, { source: `runs:/${evilRun}/model`, runId: evilRun, createModel: true, description: EVIL.script })
    await book.close()
  } })
  expect(site.built.problems).toEqual([])
  expect(repo.userState()).toBe(before)
  ;({ srv, browser } = site)
}, 240_000)

afterAll(() => site?.close())

/** A page that records dialogs, page errors and requests leaving the site (`problems`, test/helpers/built-site.ts). */
const open = (path: string, o: OpenOptions = {}) => site.open(path, o)
async function safe(page: Page, problems: string[]) {
  expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined()
  expect(await page.$$eval('svg[onload], img[onerror], a[href^="javascript:"]', (els) => els.length)).toBe(0)
  expect(problems).toEqual([])
}
async function shots(path: string, name: string, prepare?: (page: Page) => Promise<void>) {
  if (!SCREENSHOTS) return
  for (const dark of [false, true]) for (const phone of [false, true]) {
    const p = await open(path, { dark, phone })
    await prepare?.(p.page)
    await p.page.screenshot({ path: join(SHOTS, `${name}-${phone ? '390' : '1440'}-${dark ? 'dark' : 'light'}.png`), fullPage: true })
    await p.close()
  }
}

describe('model pages in chromium', () => {
  it('the Models index lists every model with its latest version, aliases and stages; hostile names stay text', async () => {
    const { page, problems, close } = await open('')
    expect(await page.textContent('header nav')).toContain('Models')
    await page.click('header nav a:text("Models")')
    await page.waitForSelector('table.models')
    const rows = await page.$$eval('table.models tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim())))
    const iris = rows.find((r) => r[0]!.startsWith(MODEL))!
    expect(iris[1]).toBe('v3')
    expect(iris[2]).toContain('@champion → v2')
    expect(iris[3]).toBe('v2')
    expect(iris[5]).toBe('3')
    expect(rows.some((r) => r[0]!.startsWith(EVIL_MODEL))).toBe(true)
    await safe(page, problems)
    await close()
    await shots('models/', 'models-index')
  }, 180_000)

  it('a model page: versions newest first with stage, aliases, source run (linked, primary metrics), logged model id', async () => {
    const { page, problems, close } = await open(`models/${MODEL}/`)
    expect(await page.textContent('h1')).toBe(MODEL)
    expect(await page.textContent('table.info')).toContain(`models:/${MODEL}@champion`)
    expect(await page.$$eval('table.versions tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-version')))).toEqual(['3', '2', '1'])
    const v2 = (await page.textContent('tr[data-version="2"]'))!
    expect(v2).toContain('Production')
    expect(v2).toContain('@champion')
    expect(v2).toContain('tuned')
    expect(v2).toMatch(/val_accuracy ↑ 0\.9\d/)
    expect(v2).toContain('m-0123456789abcdef')
    expect(await page.getAttribute('tr[data-version="2"] a[href*="runs/"]', 'href')).toBe(`/runs/${ids.tuned}/`)
    expect(await page.textContent('tr[data-version="1"]')).toContain('Archived')
    expect(await page.textContent('tr[data-version="3"]')).toContain('not in this site')
    expect(await page.$$eval('.aliases a', (as) => as.map((a) => a.textContent))).toEqual(['@challenger → v3', '@champion → v2'])
    // the description is Markdown, escaped first: the hostile parts are text
    expect(await page.innerHTML('.desc')).toContain('<strong>iris</strong>')
    expect(await page.textContent('.desc')).toContain(EVIL.script)
    expect(await page.textContent('table.tags')).toContain(EVIL.svg)
    await safe(page, problems)
    // the source run's page links back to the version
    await page.click('tr[data-version="2"] a[href*="runs/"]')
    await page.waitForSelector('td.registered')
    expect(await page.textContent('td.registered')).toMatch(/iris-classifier v2\s*Production\s*@champion/)
    await page.click('td.registered a')
    await page.waitForSelector('tr[data-version="2"]')
    expect(page.url()).toBe(`${root()}/models/${MODEL}/#v2`)
    await close()
    await shots(`models/${MODEL}/`, 'model-page')
  }, 180_000)

  it('a hostile model name gets a safe page folder and renders as text', async () => {
    const { page, problems, close } = await open('models/')
    const link = (await page.$$eval('table.models tbody tr', (trs, name) => trs.find((tr) => tr.getAttribute('data-model') === name)?.querySelector('a')?.getAttribute('href'), EVIL_MODEL))!
    expect(link).toMatch(/^\/models\/[A-Za-z0-9_-]+-[0-9a-f]{8}\/$/)
    await page.goto(`${root()}${link}`, { waitUntil: 'networkidle' })
    expect(await page.textContent('h1')).toBe(EVIL_MODEL)
    expect(await page.textContent('table.versions')).toContain('evil')
    await safe(page, problems)
    await close()
  })
})

/** The step the slider shows and, per figure, the step of the image drawn. */
async function sliderState(page: Page) {
  // the images load lazily: bring them into view and let them finish
  await page.locator('.image-steps').scrollIntoViewIfNeeded()
  await page.waitForFunction(() => [...document.querySelectorAll('.image-steps img')].every((i) => (i as HTMLImageElement).complete))
  return page.evaluate(() => ({
    output: document.querySelector('.image-steps output')!.textContent,
    figures: [...document.querySelectorAll('.image-steps figure')].map((f) => `${f.getAttribute('data-key')}|${f.querySelector('figcaption')!.textContent}|${f.getAttribute('data-step')}|${f.querySelector('img') ? (f.querySelector('img') as HTMLImageElement).naturalWidth : 0}`),
  }))
}

describe('image step slider in chromium', () => {
  it('run page: one slider over the run\'s stepped images, by keyboard; the images are not also previewed one by one', async () => {
    const { page, problems, close } = await open(`runs/${ids.tuned}/`)
    await hydrated(page, '.image-steps')
    // MLflow key samples/pred at 0, 15 and the grid/epoch_# files at 5, 15: the slider has the union 0, 5, 15
    expect(await page.getAttribute('.image-steps input', 'aria-valuetext')).toBe('step 15 (3 of 3)')
    await page.focus('.image-steps input')
    await page.keyboard.press('Home')
    let st = await sliderState(page)
    expect(st.output).toBe('step 0')
    expect(st.figures).toEqual(['grid/epoch_#.png|grid/epoch_#.png||0', 'samples/pred|samples/pred · step 0|0|96'])
    await page.keyboard.press('ArrowRight')
    st = await sliderState(page)
    expect(st.output).toBe('step 5')
    expect(st.figures).toEqual(['grid/epoch_#.png|grid/epoch_#.png · step 5|5|64', 'samples/pred|samples/pred · step 0 (nearest before)|0|96'])
    expect(await page.textContent('.image-steps figure[data-key="grid/epoch_#.png"]')).not.toContain('no image')
    // the compressed thumbnails and the series images are in the artifact table but not previewed again
    const previews = await page.$$eval('details.artifact', (ds) => ds.map((d) => d.getAttribute('data-artifact')))
    expect(previews).toEqual(['plots/one.png'])
    expect(await page.$$eval('table.artifacts tbody tr', (r) => r.length)).toBe(7)
    await safe(page, problems)
    await close()
    await shots(`runs/${ids.tuned}/`, 'run-slider', async (p) => { await hydrated(p, '.image-steps') })
  }, 180_000)

  it('run page: the slider stays disabled until its island hydrates, so an early key press is never lost (CI saw one)', async () => {
    const ctx = await browser.newContext()
    const page = await ctx.newPage()
    // hold the page's scripts back, as a slow machine does
    await page.route('**/*.js', async (route) => { await new Promise((r) => setTimeout(r, 1500)); await route.continue() })
    await page.goto(`${root()}/runs/${ids.tuned}/`, { waitUntil: 'domcontentloaded' })
    expect(await page.getAttribute('.image-steps input', 'disabled')).not.toBeNull()
    expect(await page.getAttribute('.image-steps', 'data-hydrated')).toBe('false')
    await hydrated(page, '.image-steps')
    expect(await page.getAttribute('.image-steps input', 'disabled')).toBeNull()
    await page.focus('.image-steps input')
    await page.keyboard.press('Home')
    expect(await page.textContent('.image-steps output')).toBe('step 0')
    await ctx.close()
  }, 60_000)

  it('run page without JavaScript shows the images at the last step', async () => {
    const ctx = await browser.newContext({ javaScriptEnabled: false })
    const page = await ctx.newPage()
    await page.goto(`${root()}/runs/${ids.baseline}/`)
    expect(await page.textContent('.image-steps output')).toBe('step 20')
    // moving it could change nothing without JavaScript, so it is disabled (and so until the island hydrates)
    expect(await page.getAttribute('.image-steps input', 'disabled')).not.toBeNull()
    expect(await page.getAttribute('.image-steps img', 'src')).toContain(encodeURIComponent('%step%20%'))
    await ctx.close()
  })
})

describe('compare in chromium', () => {
  const path = () => `compare/?runs=${ids.baseline},${ids.tuned}`

  it('shows each run\'s datasets and marks the differences', async () => {
    const { page, problems, close } = await open(path())
    await page.waitForSelector('table.datasets-diff')
    const rows = await page.$$eval('table.datasets-diff tbody tr', (trs) => trs.map((tr) => ({ name: tr.getAttribute('data-dataset'), differs: tr.getAttribute('data-differs'), cells: [...tr.querySelectorAll('td')].map((td) => td.textContent) })))
    expect(rows.map((r) => [r.name, r.differs])).toEqual([['holdout', null], ['iris', 'digest source'], [EVIL_DATASET, 'missing']])
    const iris = rows.find((r) => r.name === 'iris')!
    expect(iris.cells[0]).toContain('a1b2c3d4 · training')
    expect(iris.cells[0]).toContain('local: data/iris.csv')
    expect(iris.cells[1]).toContain('e5f6a7b8')
    expect(rows[2]!.cells).toEqual(['not used', expect.stringContaining(EVIL.tpl)])
    expect(await page.textContent('table.datasets-diff')).toContain(EVIL.js)
    expect(await page.textContent('.compare')).toContain('2 of 3 datasets differ between the runs')
    await safe(page, problems)
    await close()
  })

  it('one slider moves every run to the same step; a run without that step shows its nearest earlier image', async () => {
    const { page, problems, close } = await open(path())
    await hydrated(page, '.image-steps') // drawn by Compare, enabled once its effects ran
    // union of the two runs' steps (baseline 0, 10, 20; tuned 0, 15 and grid 5, 15)
    expect(await page.getAttribute('.image-steps input', 'aria-valuetext')).toBe('step 20 (5 of 5)')
    await page.focus('.image-steps input')
    await page.keyboard.press('Home')
    await page.keyboard.press('ArrowRight')
    await page.keyboard.press('ArrowRight')
    const st = await sliderState(page)
    expect(st.output).toBe('step 10')
    const pred = st.figures.filter((f) => f.startsWith('samples/pred|'))
    expect(pred).toEqual(['samples/pred|baseline · step 10|10|96', 'samples/pred|tuned · step 0 (nearest before)|0|96'])
    expect(st.figures.filter((f) => f.startsWith('grid/'))).toEqual(['grid/epoch_#.png|baseline||0', 'grid/epoch_#.png|tuned · step 5 (nearest before)|5|64'])
    expect(await page.textContent('.image-key[data-key="grid/epoch_#.png"] figure[data-run="' + ids.baseline + '"]')).toContain('no grid/epoch_#.png images')
    await page.keyboard.press('End')
    expect((await sliderState(page)).figures.filter((f) => f.startsWith('samples/pred|'))).toEqual(['samples/pred|baseline · step 20|20|96', 'samples/pred|tuned · step 15 (nearest before)|15|96'])
    await safe(page, problems)
    await close()
    await shots(path(), 'compare-datasets-slider', async (p) => {
      await hydrated(p, '.image-steps')
      await p.focus('.image-steps input')
      await p.keyboard.press('Home'); await p.keyboard.press('ArrowRight'); await p.keyboard.press('ArrowRight')
      await p.waitForFunction(() => [...document.querySelectorAll('.image-steps img')].every((i) => (i as HTMLImageElement).complete))
    })
  }, 180_000)

  it('no page is wider than a phone', async () => {
    for (const path of ['models/', `models/${MODEL}/`, `runs/${ids.tuned}/`, `compare/?runs=${ids.baseline},${ids.tuned}`]) {
      const { page, close } = await open(path, { phone: true })
      await page.waitForTimeout(100)
      expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(390)
      await close()
    }
    if (SCREENSHOTS) expect(existsSync(join(SHOTS, 'models-index-390-dark.png'))).toBe(true)
  }, 120_000)
})
