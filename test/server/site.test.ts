import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { serve } from '../../src/server/index.js'
import type { Renderer } from '../../src/site/build/renderer.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { request } from './client.js'

let repo: TestRepo
const work = mkdtempSync(join(os.tmpdir(), 'labbook-site-'))
afterAll(() => {
  repo?.cleanup()
  rmSync(work, { recursive: true, force: true })
})

// The live pages themselves are tested with the real renderer in live-pages.test.ts; here what needs no Astro build.
describe('the site under /', () => {
  it('a built folder (--site DIR) is served as is, with no way out of it', async () => {
    repo = gitRepo()
    mkdirSync(join(work, 'runs'), { recursive: true })
    writeFileSync(join(work, 'index.html'), '<h1>built</h1>')
    writeFileSync(join(work, 'runs', 'index.html'), 'runs page')
    const book = await Labbook.open({ repo: repo.dir })
    const srv = await serve({ book, port: 0, site: work })
    try {
      expect((await request(srv.url, 'GET', '/')).text).toBe('<h1>built</h1>')
      expect((await request(srv.url, 'GET', '/runs/')).text).toBe('runs page')
      expect((await request(srv.url, 'GET', '/runs')).status).toBe(301)
      for (const p of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd']) {
        expect((await request(srv.url, 'GET', p)).status, p).toBe(404)
      }
      expect((await request(srv.url, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=0')).json.experiment.name).toBe('Default')
    } finally {
      await srv.close()
      await book.close()
    }
  })

  it('answers an error queued behind a streamed file on the same keep-alive connection (it was a socket hang up)', async () => {
    // the client reads the file's last byte and sends its next request before the file stream has ended: that
    // response waits with res.socket === null, which the error path took for a client that had gone (7 of 200 here)
    writeFileSync(join(work, 'big.bin'), Buffer.alloc(300_000, 7))
    const book = await Labbook.open({ repo: repo.dir })
    const srv = await serve({ book, port: 0, site: work })
    try {
      for (let i = 0; i < 200; i++) {
        expect((await request(srv.url, 'GET', '/big.bin')).bytes.length).toBe(300_000)
        expect((await request(srv.url, 'GET', '/', undefined, { host: 'rebind.example' })).status).toBe(403)
      }
    } finally {
      await srv.close()
      await book.close()
    }
  })

  it('live pages: "preparing" while the renderer compiles, the reason when it failed; the API answers meanwhile', async () => {
    const book = await Labbook.open({ repo: repo.dir })
    let fail!: (e: Error) => void
    const renderer = new Promise<Renderer>((_ok, no) => (fail = no))
    const srv = await serve({ book, port: 0, site: { renderer, source: book, title: 't' } })
    try {
      const wait = await request(srv.url, 'GET', '/runs/x/')
      expect(wait.status).toBe(503)
      expect(wait.text).toMatch(/Preparing the live pages/)
      expect(wait.headers['retry-after']).toBe('3')
      expect((await request(srv.url, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=0')).status).toBe(200)
      fail(new Error('astro <exploded>'))
      await new Promise((r) => setTimeout(r, 10))
      const failed = await request(srv.url, 'GET', '/')
      expect(failed.status).toBe(500)
      expect(failed.text).toContain('astro &#60;exploded&#62;')
    } finally {
      await srv.close()
      await book.close()
    }
  })
})
