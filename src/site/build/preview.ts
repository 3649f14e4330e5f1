/** `labbook site preview`: serves a built site on 127.0.0.1 under its base path, as GitHub Pages would. */
import { stat } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { join, resolve } from 'node:path'
import { LabbookError } from '../../errors.js'
import { sendFile, serveStatic } from './static.js'
import { normalizeBase } from './index.js'

export interface PreviewOptions {
  /** The built site. */
  dir: string
  /** Path the site was built for. @default '/' */
  base?: string
  /** 0 picks a free port. @default 4321 */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
}

export interface PreviewServer { url: string; server: Server; close(): Promise<void> }

/**
 * Starts the server and resolves once it listens.
 * @example const { url, close } = await previewSite({ dir: '_site', base: '/repo/', port: 0 })
 */
export async function previewSite(o: PreviewOptions): Promise<PreviewServer> {
  const root = resolve(o.dir)
  const base = normalizeBase(o.base)
  const st = await stat(root).catch(() => null)
  if (!st?.isDirectory()) throw new LabbookError('USAGE', `No built site at ${root}.`, 'Run `labbook site build` first, or pass the folder with --dir.')
  const server = createServer(async (req, res) => {
    const send = (code: number, body: string) => { res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' }); res.end(body) }
    try {
      const url = new URL(req.url ?? '/', 'http://x')
      const path = decodeURIComponent(url.pathname)
      if (path === base.slice(0, -1)) { res.writeHead(301, { location: base }); res.end(); return }
      if (!path.startsWith(base)) return send(404, 'Not found')
      if (await serveStatic(root, url.pathname.slice(base.length), res, { head: req.method === 'HEAD', redirectDirs: true, search: url.search })) return
      const nf = join(root, '404.html')
      const n = await stat(nf).catch(() => null)
      if (!n) return send(404, 'Not found')
      sendFile(res, nf, n.size, 404, 'text/html; charset=utf-8', req.method === 'HEAD')
    } catch {
      send(400, 'Bad request')
    }
  })
  const host = o.host ?? '127.0.0.1'
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(new LabbookError('IO_FAILED', `Cannot listen on ${host}:${o.port ?? 4321}: ${e.code ?? e.message}.`, 'Pick another port with --port.', {}, { cause: e })))
    server.listen(o.port ?? 4321, host, () => ok())
  })
  const addr = server.address()
  const port = typeof addr === 'object' && addr ? addr.port : o.port
  return { url: `http://${host}:${port}${base}`, server, close: () => new Promise((ok) => server.close(() => ok())) }
}
