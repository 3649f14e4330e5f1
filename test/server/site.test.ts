import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { LiveSite, serve } from '../../src/server/index.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { api, request } from './client.js'

let repo: TestRepo
const work = mkdtempSync(join(os.tmpdir(), 'labbook-site-'))
afterAll(() => {
  repo?.cleanup()
  rmSync(work, { recursive: true, force: true })
})

// The real builder is `labbook site build` in a child process (tested by the site's own tests); here a stand-in
// writes a page naming the revision, which is what this module is responsible for: when to build and what to serve.
const builds: string[] = []
async function fakeBuild(out: string, rev: string) {
  builds.push(rev)
  rmSync(out, { recursive: true, force: true })
  mkdirSync(join(out, 'runs'), { recursive: true })
  writeFileSync(join(out, 'index.html'), `<h1>site of ${rev}</h1>`)
  writeFileSync(join(out, 'runs', 'index.html'), 'runs page')
}

describe('the site under /', () => {
  it('is rebuilt when the branch moves, and the last complete build is served meanwhile', async () => {
    repo = gitRepo()
    const book = await Labbook.open({ repo: repo.dir })
    const site = new LiveSite({ dir: work, tip: () => book.tip(), build: async (o, r) => fakeBuild(o, r), interval: 3_600_000 })
    const srv = await serve({ book, port: 0, site })
    try {
      const before = await request(srv.url, 'GET', '/')
      expect(before.text).toMatch(/being built/)
      await site.check()
      const tip1 = (await book.tip())!
      expect((await request(srv.url, 'GET', '/')).text).toBe(`<h1>site of ${tip1}</h1>`)
      expect((await request(srv.url, 'GET', '/runs/')).text).toBe('runs page')
      await site.check()
      expect(builds).toEqual([tip1]) // same tip: no rebuild
      await api(srv.url)('POST', 'experiments/create', { name: 'moves the branch' })
      await site.check()
      const tip2 = (await book.tip())!
      expect(tip2).not.toBe(tip1)
      expect((await request(srv.url, 'GET', '/')).text).toBe(`<h1>site of ${tip2}</h1>`)
      expect(site.dir()).toMatch(/[/\\]b$/)
      // no way out of the site folder
      for (const p of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd']) {
        expect((await request(srv.url, 'GET', p)).status, p).toBe(404)
      }
      expect((await request(srv.url, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=0')).json.experiment.name).toBe('Default')
    } finally {
      await srv.close()
      await site.stop()
      await book.close()
    }
  })

  it('a failed build is logged and not retried for the same revision', async () => {
    const logs: string[] = []
    let calls = 0
    const site = new LiveSite({ dir: work, tip: async () => 'abc123', build: async () => { calls++; throw new Error('astro exploded') }, log: (l, m) => logs.push(`${l}: ${m}`) })
    await site.check()
    await site.check()
    expect(calls).toBe(1)
    expect(site.dir()).toBeUndefined()
    expect(logs).toEqual(['warn: site build failed for abc123: astro exploded'])
  })
})
