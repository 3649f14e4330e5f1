// Issue 15: a page served by `labbook serve` updates itself as another process logs: no reload, filter kept.
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { buildSite } from '../../src/site/build/index.js'
import { launchChromium } from '../site/browser.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { request } from './client.js'

const CHILD = new URL('../helpers/child.ts', import.meta.url).pathname
const SHOTS = join(process.cwd(), 'test-output', 'live')
let repo: TestRepo
let book: Labbook
let srv: RunningServer
let browser: Browser
let expId = ''
let out = ''

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true })
  repo = gitRepo()
  book = await Labbook.open({ repo: repo.dir })
  const exp = await book.experiment('live')
  expId = exp.id
  await exp.run({ name: 'earlier', params: { lr: 0.1 } }, async (r) => r.logMetric('loss', 2))
  await exp.run({ name: 'other', params: { lr: 0.5 } }, async (r) => r.logMetric('loss', 3))
  out = `${repo.dir}-site`
  await buildSite({ repo: repo.dir, out })
  srv = await serve({ book, port: 0, site: out })
  browser = await launchChromium()
}, 600_000)

afterAll(async () => {
  await browser?.close()
  await srv?.close()
  await book?.close()
  rmSync(out, { recursive: true, force: true })
  repo?.cleanup()
})

describe('live pages', () => {
  it('the experiment table shows a new run, its values and FINISHED as another process logs, keeping the filter; no reload', { timeout: 90_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`${srv.url}/experiments/${expId}/`, { waitUntil: 'networkidle' })
    await page.waitForSelector('.runs-island tbody tr')
    await page.fill('input.filter', 'params.lr = 0.1')
    await page.waitForFunction(() => document.querySelectorAll('.runs-island tbody tr').length === 1)
    await page.evaluate(() => { (window as unknown as { __sameDocument: boolean }).__sameDocument = true })

    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, 'log-points', repo.dir, '30', '100', 'live'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    p.stdout.on('data', (d) => (stdout += d))
    const id = await new Promise<string>((resolve) => p.stdout.on('data', () => { const l = stdout.split('\n'); if (l.length > 1) resolve(l[0]!) }))
    const started = Date.now() // the run exists from here (a loaded machine takes seconds just to start the process)
    const row = `.runs-island tbody tr[data-run="${id}"]`
    await page.waitForSelector(row, { timeout: 10_000 })
    const appeared = Date.now() - started
    expect(await page.textContent(`${row} .badge`)).toBe('RUNNING')
    await page.screenshot({ path: join(SHOTS, 'experiment-running.png') })
    // the latest loss moves as points are journaled (1/(step+1): the cell shows values below 1)
    await page.waitForFunction((sel) => /0\.\d/.test(document.querySelector(sel)?.textContent ?? ''), row, { timeout: 10_000 })
    const exited = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)))
    expect(exited).toBe(0)
    await page.waitForFunction((sel) => document.querySelector(`${sel} .badge`)?.textContent === 'FINISHED', row, { timeout: 10_000 })
    await page.screenshot({ path: join(SHOTS, 'experiment-finished.png') })
    expect(await page.inputValue('input.filter')).toBe('params.lr = 0.1')
    expect(await page.locator('.runs-island tbody tr').count()).toBe(2) // the filter still applies: 'other' (lr 0.5) hidden
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true)
    expect(errors).toEqual([])
    expect(appeared).toBeLessThan(10_000)
  })

  it('the static build has no live channel; pages served here carry it and keep the Host protection', async () => {
    const page = await request(srv.url, 'GET', `/experiments/${expId}/`)
    expect(page.text).toContain('<meta name="labbook-live" content="/live/">')
    const { readFileSync } = await import('node:fs')
    expect(readFileSync(join(out, 'experiments', expId, 'index.html'), 'utf8')).not.toContain('labbook-live')
    const data = await request(srv.url, 'GET', `/live/data/experiments/${expId}/runs.json`)
    expect(data.json.map((r: { name: string }) => r.name).sort()).toEqual(expect.arrayContaining(['earlier', 'other']))
    for (const p of [`/experiments/${expId}/`, '/live/events', `/live/data/experiments/${expId}/runs.json`]) {
      expect((await request(srv.url, 'GET', p, undefined, { host: 'rebind.example' })).status, p).toBe(403)
    }
  })
})
