// Issue 10 item 3/12/low: who may talk to `labbook serve`, and what an upload costs it. Real server, real Chromium.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { launchChromium } from '../site/browser.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { api, request } from './client.js'

let repo: TestRepo
let book: Labbook
let srv: RunningServer
const logs: string[] = []
beforeAll(async () => {
  repo = gitRepo()
  book = await Labbook.open({ repo: repo.dir })
  srv = await serve({ book, port: 0, log: (l, m) => logs.push(`${l}: ${m}`), allowedHosts: ['lab.example.org'] })
})
afterAll(async () => {
  await srv?.close()
  await book?.close()
  repo?.cleanup()
})

const runCount = async () => (await book.listRuns()).length

describe('Host, Origin and Content-Type', () => {
  it('answers its own address, localhost and allowed names; refuses any other Host (DNS rebinding)', async () => {
    const path = '/api/2.0/mlflow/experiments/get?experiment_id=0'
    const port = new URL(srv.url).port
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `lab.example.org`, `[::1]:${port}`]) {
      expect((await request(srv.url, 'GET', path, undefined, { host })).status, host).toBe(200)
    }
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`, `lab.example.org.evil:${port}`]) {
      for (const p of [path, '/', '/api/2.0/mlflow-artifacts/artifacts?path=0', '/health']) {
        const r = await request(srv.url, 'GET', p, undefined, { host })
        expect(r.status, `${host} ${p}`).toBe(403)
        expect(r.json.error_code).toBe('PERMISSION_DENIED')
      }
    }
  })

  it('refuses writes from another origin or site, and JSON bodies not sent as application/json', async () => {
    const before = await runCount()
    const body = { experiment_id: '0', run_name: 'csrf' }
    const other = `http://127.0.0.1:${Number(new URL(srv.url).port) + 1}`
    for (const headers of [{ origin: other }, { origin: 'null' }, { origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }] as Array<Record<string, string>>) {
      const r = await api(srv.url, headers)('POST', 'runs/create', body)
      expect(r.status, JSON.stringify(headers)).toBe(403)
      expect(r.json.error_code).toBe('PERMISSION_DENIED')
    }
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await request(srv.url, 'POST', '/api/2.0/mlflow/runs/create', JSON.stringify(body), { 'content-type': type })
      expect(r.status, type).toBe(415)
    }
    // the artifact proxy: a cross-origin PUT never lands
    const runs = await api(srv.url)('POST', 'runs/create', { experiment_id: '0', run_name: 'target' })
    const id = runs.json.run.info.run_id
    const put = await request(srv.url, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/0/${id}/artifacts/x.txt`, Buffer.from('x'), { origin: other, 'content-type': 'text/plain' })
    expect(put.status).toBe(403)
    expect(await runCount()).toBe(before + 1)
    // its own origin, same-origin fetch metadata, and clients that send neither (MLflow's) may write
    const port = new URL(srv.url).port
    expect((await api(srv.url, { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' })('POST', 'runs/create', body)).status).toBe(200)
    expect((await api(srv.url, { 'content-type': 'application/json; charset=utf-8' })('POST', 'runs/create', body)).status).toBe(200)
    // reads from anywhere are harmless (no CORS headers: a foreign page cannot read the answer)
    const read = await api(srv.url, { origin: other })('GET', 'experiments/get', { experiment_id: '0' })
    expect(read.status).toBe(200)
    expect(read.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('sends X-Content-Type-Options: nosniff on every answer', async () => {
    for (const p of ['/api/2.0/mlflow/experiments/get?experiment_id=0', '/api/2.0/mlflow/nope', '/', '/health']) {
      expect((await request(srv.url, 'GET', p)).headers['x-content-type-options'], p).toBe('nosniff')
    }
  })
})

describe('tokens', () => {
  it('beyond loopback, a token has at least 16 characters', async () => {
    await expect(serve({ book, host: '0.0.0.0', port: 0, token: 'short-token-15ch' .slice(0, 15) })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/16 characters/) })
    const ok = await serve({ book, host: '0.0.0.0', port: 0, token: 'x'.repeat(16) })
    try {
      const url = `http://127.0.0.1:${ok.port}`
      expect((await request(url, 'GET', '/health')).status).toBe(401)
      expect((await request(url, 'GET', '/health', undefined, { authorization: `Bearer ${'x'.repeat(16)}` })).status).toBe(200)
      // a prefix or an extension of the token is no token
      expect((await request(url, 'GET', '/health', undefined, { authorization: `Bearer ${'x'.repeat(15)}` })).status).toBe(401)
      expect((await request(url, 'GET', '/health', undefined, { authorization: `Bearer ${'x'.repeat(17)}` })).status).toBe(401)
    } finally {
      await ok.close()
    }
  })
})

describe('artifact uploads', () => {
  it('refuses writes to labbook\'s reserved paths', async () => {
    const id = (await api(srv.url)('POST', 'runs/create', { experiment_id: '0', run_name: 'reserved' })).json.run.info.run_id
    for (const p of ['labbook/output.log', 'labbook/uncommitted.diff', 'labbook/anything', 'labbook']) {
      const r = await request(srv.url, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/0/${id}/artifacts/${p}`, Buffer.from('forged'), { 'content-type': 'text/plain' })
      expect(r.status, p).toBe(400)
      expect(r.json.message).toMatch(/reserved/)
      expect((await request(srv.url, 'DELETE', `/api/2.0/mlflow-artifacts/artifacts/0/${id}/artifacts/${p}`)).status, p).toBe(400)
    }
    expect(await book.listArtifacts(id)).toEqual([])
    expect((await request(srv.url, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/0/${id}/artifacts/logs/labbook/ok.txt`, Buffer.from('fine'))).status).toBe(200)
  })

  it('a client that hangs up mid-upload is not logged as a server error, and leaves no artifact', async () => {
    const id = (await api(srv.url)('POST', 'runs/create', { experiment_id: '0', run_name: 'aborted' })).json.run.info.run_id
    const u = new URL(srv.url)
    await new Promise<void>((resolve) => {
      const req = httpRequest({ host: u.hostname, port: u.port, method: 'PUT', path: `/api/2.0/mlflow-artifacts/artifacts/0/${id}/artifacts/big.bin`, headers: { 'content-length': String(10_000_000) } })
      req.on('error', () => resolve())
      req.write(Buffer.alloc(100_000))
      setTimeout(() => req.destroy(), 200)
    })
    await new Promise((r) => setTimeout(r, 300))
    expect(logs.filter((l) => l.startsWith('error'))).toEqual([])
    expect(await book.listArtifacts(id)).toEqual([])
  })

  it('streams a large upload to disk: the server\'s peak memory grows by far less than the body', { timeout: 120_000 }, async () => {
    const r = gitRepo()
    const cli = new URL('../../cli/main.ts', import.meta.url).pathname
    const p = spawn(process.execPath, ['--import', 'tsx', cli, '--repo', r.dir, 'serve', '--port', '0', '--site-refresh', '0'], { cwd: new URL('../../', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      let err = ''
      const url = await new Promise<string>((resolve, reject) => {
        p.stderr.on('data', (d) => {
          err += d
          const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(err)
          if (m) resolve(m[1]!)
        })
        p.on('exit', () => reject(new Error(`serve exited: ${err}`)))
      })
      const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))![1]) * 1024
      const id = (await api(url)('POST', 'runs/create', { experiment_id: '0', run_name: 'big' })).json.run.info.run_id
      await api(url)('GET', 'runs/get', { run_id: id })
      const before = hwm()
      const SIZE = 200 * 1024 * 1024
      const chunk = Buffer.alloc(1024 * 1024, 7)
      const u = new URL(url)
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: u.hostname, port: u.port, method: 'PUT', path: `/api/2.0/mlflow-artifacts/artifacts/0/${id}/artifacts/model.bin`, headers: { 'content-length': String(SIZE), 'content-type': 'application/octet-stream' } }, (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
        })
        req.on('error', reject)
        let sent = 0
        const pump = () => {
          while (sent < SIZE) {
            sent += chunk.length
            if (!req.write(chunk)) return void req.once('drain', pump)
          }
          req.end()
        }
        pump()
      })
      expect(status).toBe(200)
      const grew = hwm() - before
      expect(grew).toBeLessThan(64 * 1024 * 1024)
      const arts = (await api(url)('GET', 'artifacts/list', { run_id: id })).json.files
      expect(arts).toEqual([{ path: 'model.bin', is_dir: false, file_size: SIZE }])
    } finally {
      p.kill('SIGINT')
      await new Promise((res) => p.once('exit', res))
      r.cleanup()
    }
  })
})

describe('in Chromium: a page on another origin', () => {
  let evil: Server
  let evilUrl = ''
  beforeAll(async () => {
    // the attacker's page, served on another loopback port
    evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<!doctype html><title>evil</title><p>hello</p>')
    })
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()))
    evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`
  })
  afterAll(() => new Promise<void>((r) => evil.close(() => r())))

  it('cannot create runs or upload artifacts (simple POST, JSON POST, form, PUT), and a rebinding name is refused', { timeout: 60_000 }, async () => {
    const port = new URL(srv.url).port
    const browser = await launchChromium(['--host-resolver-rules=MAP rebind.example 127.0.0.1'])
    try {
      const id = (await api(srv.url)('POST', 'runs/create', { experiment_id: '0', run_name: 'victim' })).json.run.info.run_id
      const before = await runCount()
      const page = await browser.newPage()
      await page.goto(evilUrl)
      const target = srv.url
      const results = await page.evaluate(async ({ target, id }) => {
        const body = JSON.stringify({ experiment_id: '0', run_name: 'from-evil' })
        const out: string[] = []
        const attempt = async (label: string, f: () => Promise<Response>) => {
          try { const r = await f(); out.push(`${label}:${r.type}:${r.status}`) } catch { out.push(`${label}:blocked`) }
        }
        await attempt('text', () => fetch(`${target}/api/2.0/mlflow/runs/create`, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body }))
        await attempt('json', () => fetch(`${target}/api/2.0/mlflow/runs/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }))
        await attempt('put', () => fetch(`${target}/api/2.0/mlflow-artifacts/artifacts/0/${id}/artifacts/evil.txt`, { method: 'PUT', body: 'x' }))
        await attempt('read', () => fetch(`${target}/api/2.0/mlflow/runs/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }))
        // a form post (no fetch at all)
        const f = document.createElement('form')
        f.method = 'POST'; f.action = `${target}/api/2.0/mlflow/runs/create`; f.enctype = 'text/plain'; f.target = 'sink'
        const i = document.createElement('input'); i.name = '{"experiment_id":"0","run_name":"form","x":"'; i.value = '"}'; f.append(i)
        const sink = document.createElement('iframe'); sink.name = 'sink'; document.body.append(sink, f)
        f.submit()
        await new Promise((r) => setTimeout(r, 500))
        return out
      }, { target, id })
      // no-cors answers are opaque, CORS ones blocked: the page learns nothing, and nothing was written
      expect(results).toEqual(['text:opaque:0', 'json:blocked', 'put:blocked', 'read:blocked'])
      expect(await runCount()).toBe(before)
      expect(await book.listArtifacts(id)).toEqual([])

      // DNS rebinding: a name the attacker controls now resolves to 127.0.0.1; the page is that origin
      const rebound = await browser.newPage()
      const res = await rebound.goto(`http://rebind.example:${port}/`)
      expect(res!.status()).toBe(403)
      const read = await rebound.evaluate(async () => (await fetch('/api/2.0/mlflow/runs/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status)
      expect(read).toBe(403)
      // the real page on the server's own origin still works
      const own = await browser.newPage()
      await own.goto(`${srv.url}/health`)
      const created = await own.evaluate(async () => (await fetch('/api/2.0/mlflow/runs/create', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ experiment_id: '0', run_name: 'own' }) })).status)
      expect(created).toBe(200)
    } finally {
      await browser.close()
    }
  })
})
