// docs/server.md's endpoint table is kept true: it lists every route the router has, as supported or differs, and
// nothing it lists as not supported is routed (the server answers those ENDPOINT_NOT_FOUND).
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { ROUTES } from '../../src/server/server.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { request } from './client.js'

const DOC = readFileSync(new URL('../../docs/server.md', import.meta.url), 'utf8')
const ROW = /^\| (GET|POST|PATCH|DELETE|PUT) \| `([^`]+)` \| (2\.x|3\.x) \| (supported|differs|not supported) \|/gm
const rows = [...DOC.matchAll(ROW)].map((m) => ({ method: m[1]!, path: m[2]!, status: m[4]! }))
const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`

let repo: TestRepo
let book: Labbook
let srv: RunningServer
beforeAll(async () => {
  repo = gitRepo()
  book = await Labbook.open({ repo: repo.dir })
  srv = await serve({ book, port: 0 })
})
afterAll(async () => {
  await srv?.close()
  await book?.close()
  repo?.cleanup()
})

describe('docs/server.md endpoint table', () => {
  it('lists every route of the router as supported or differs, once', () => {
    expect(rows.length).toBeGreaterThan(60)
    const listed = rows.filter((r) => r.status !== 'not supported').map(key)
    expect(new Set(listed).size).toBe(listed.length)
    expect(listed.sort()).toEqual(ROUTES.map(key).sort())
  })

  it('routes nothing it calls not supported: those answer 404 ENDPOINT_NOT_FOUND', async () => {
    const missing = rows.filter((r) => r.status === 'not supported')
    expect(missing.length).toBeGreaterThan(5)
    for (const r of missing) {
      expect(ROUTES.map(key)).not.toContain(key(r))
      const path = '/api/2.0/mlflow/' + r.path.replace(/\{[^}]+\}/g, 'x')
      const res = await request(srv.url, r.method, path, r.method === 'GET' ? undefined : {})
      expect([404, 405], key(r)).toContain(res.status)
      expect(res.json.error_code, key(r)).toBe('ENDPOINT_NOT_FOUND')
    }
  })
})
