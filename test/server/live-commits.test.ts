/**
 * The live Commits page (`labbook serve`/`ui`, issue 15's on-demand pages) shows the same git history as the static
 * build: subject, author and history order of the code commits runs ran on (src/site/build/code-commits.ts through
 * summarizeSite's `codeHistory`). Real repository with real commits; the shared test renderer (built once per checkout).
 */
import { parseHTML } from 'linkedom'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { testRenderer } from '../helpers/renderer.js'
import { request } from './client.js'

let repo: TestRepo
let book: Labbook
let srv: RunningServer
const commits: string[] = []
let userState = ''

beforeAll(async () => {
  repo = gitRepo()
  const commit = (msg: string, author: string, date: string) => {
    repo.git('commit', '-q', '--allow-empty', '-m', msg, `--author=${author}`, `--date=${date}`)
    return repo.git('rev-parse', 'HEAD').trim()
  }
  commits.push(commit('Baseline <b>model</b>', 'Ada Lovelace <ada@example.com>', '2026-01-02T10:00:00Z'))
  commits.push(commit('Tune the learning rate', 'Grace Hopper <grace@example.com>', '2026-01-03T10:00:00Z'))
  book = await Labbook.open({ repo: repo.dir })
  let t = 1_767_300_000_000
  // the newer commit's runs start first: the page must follow git's order, not the runs'
  for (const [c, values] of [[commits[1]!, [0.85, 0.86]], [commits[0]!, [0.80, 0.81]]] as const) {
    for (const [s, v] of values.entries()) {
      const run = await book.startRun({ experiment: 'sweep', name: `s${s}`, params: { lr: 0.1, seed: s }, source: { commit: c, branch: 'main', dirty: false }, startTime: t += 60_000 })
      run.logMetrics({ acc: v }, { step: 0, timestamp: t })
      await run.end('FINISHED', { endTime: t + 30_000 })
    }
  }
  await book.flush()
  userState = repo.userState()
  srv = await serve({ book, port: 0, site: { renderer: testRenderer(), source: book, title: 'live-commits' } })
}, 900_000)

afterAll(async () => {
  await srv?.close()
  await book?.close()
  repo?.cleanup()
})

describe('the live Commits page', () => {
  it('shows subject, author and git history order, as the static build does', async () => {
    let page = await request(srv.url, 'GET', '/commits/')
    for (let i = 0; i < 600 && page.status !== 200; i++) { // the renderer may still be loading: the page says so and retries
      await new Promise((r) => setTimeout(r, 500))
      page = await request(srv.url, 'GET', '/commits/')
    }
    expect(page.status).toBe(200)
    expect(page.text).toContain('<meta name="labbook-live" content="/live/">')
    const { document } = parseHTML(page.text)
    const rows = [...document.querySelectorAll('table.commits tbody tr')]
    expect(rows.map((tr) => tr.getAttribute('data-commit'))).toEqual([commits[1], commits[0]]) // newest first, in git order
    const text = (tr: Element, sel: string) => (tr.querySelector(sel)?.textContent ?? '').trim()
    expect(rows.map((tr) => text(tr, '.subject'))).toEqual(['Tune the learning rate', 'Baseline <b>model</b>']) // as text
    expect(rows.map((tr) => (tr.querySelectorAll('td')[1]?.textContent ?? '').trim())).toEqual(['Grace Hopper', 'Ada Lovelace'])
    expect(page.text).not.toContain('not in this repository')
    expect(document.querySelector('.subject b')).toBeNull()
    expect(repo.userState()).toBe(userState)
  }, 900_000)
})
