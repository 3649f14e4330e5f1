/**
 * Which runs the live pages look at: `labbook serve`'s change channel parses ahead only the journals of runs an open
 * page asked for (src/server/live.ts `watched`), so runs nobody looks at cost serve no parsing on its tick. Served
 * over a real HTTP server on loopback; the renderer is left unbuilt (every page answers "being prepared"), which is
 * enough for the requests to count.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { LivePages } from '../../src/server/live-pages.js'
import type { Renderer } from '../../src/site/build/renderer.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo
let book: Labbook
let server: http.Server
let base = ''
let pages: LivePages
const WATCH_MS = 300

beforeAll(async () => {
  repo = gitRepo()
  book = await Labbook.open({ repo: repo.dir })
  pages = new LivePages({ source: book, version: async () => 'v', renderer: new Promise<Renderer>(() => {}), title: 't', watchMs: WATCH_MS })
  server = http.createServer((req, res) => {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    pages.handle(q < 0 ? url : url.slice(0, q), q < 0 ? '' : url.slice(q), res, false).then((found) => {
      if (!found) res.writeHead(404).end()
    }, () => res.writeHead(500).end())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((r) => server.close(r))
  await book.close()
  repo.cleanup()
})

const get = async (path: string) => (await fetch(base + path)).status

describe('live pages: watched runs', () => {
  it('a run counts as watched while a page asks for it (page, run JSON, series); a page of every run watches all', async () => {
    expect(pages.watched('r1')).toBe(false)
    expect(await get('/runs/r1/')).toBe(503) // the renderer is not ready: "being prepared"
    expect(pages.watched('r1')).toBe(true)
    expect(pages.watched('r2')).toBe(false)
    await get('/data/runs/r2.json?v=x')
    await get('/data/runs/r3/m/0.json')
    expect([pages.watched('r2'), pages.watched('r3'), pages.watched('r4')]).toEqual([true, true, false])
    // assets and artifacts say nothing about what a page shows
    await get('/_astro/x.js')
    await get('/artifacts/r4/a.txt')
    expect(pages.watched('r4')).toBe(false)
    await new Promise((r) => setTimeout(r, WATCH_MS + 50))
    expect([pages.watched('r1'), pages.watched('r2'), pages.watched('r3')]).toEqual([false, false, false])
    // the home page (or an experiment's, compare): it shows every run's numbers
    expect(await get('/')).toBe(503)
    expect(pages.watched('r4')).toBe(true)
    expect(pages.watched('any-other')).toBe(true)
    await new Promise((r) => setTimeout(r, WATCH_MS + 50))
    expect(pages.watched('r4')).toBe(false)
  })
})
