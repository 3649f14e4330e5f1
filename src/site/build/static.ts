/**
 * The one static file server (for `labbook serve`'s site and `labbook site preview`) and its one MIME table.
 * Files under `artifacts/` are users' bytes: only types on the safe-preview allow-list keep their type; anything
 * else is sent as a download, so an artifact can never become a page on the site's origin.
 */
import { createReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import { extname, join, resolve, sep } from 'node:path'
import { safePreviewType } from './artifact-files.js'

/** The site's own files: what the Astro build writes. */
const SITE_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8', '.woff2': 'font/woff2', '.map': 'application/json; charset=utf-8',
}

/** The Content-Type of a file of the site; `artifact` for users' bytes (allow-list, else undefined: download). */
export function contentType(rel: string, artifact: boolean): string | undefined {
  if (artifact) return safePreviewType(rel)
  return SITE_TYPES[extname(rel).toLowerCase()] ?? 'application/octet-stream'
}

export interface StaticOptions {
  /** Answer HEAD: headers only. */
  head?: boolean
  /** `/dir` (no slash) redirects to `/dir/`, as a static host does (relative links then resolve). @default false */
  redirectDirs?: boolean
  /** The query string to keep on a redirect. */
  search?: string
  /** Rewrites each HTML page before it is sent (the live server marks its pages). */
  html?: (text: string) => string
}

/**
 * Serves `urlPath` (relative to the site root, percent-encoded) from the built site at `root`; `dir/index.html` for
 * folders. False when no file matches (the caller answers 404), never a path outside `root`.
 * @example if (!(await serveStatic('_site', '/runs/abc/', res))) res.writeHead(404).end()
 */
export async function serveStatic(root: string, urlPath: string, res: ServerResponse, o: StaticOptions = {}): Promise<boolean> {
  let rel: string
  try {
    rel = decodeURIComponent(urlPath)
  } catch {
    return false
  }
  if (rel.includes('\0')) return false
  const base = resolve(root)
  let file = resolve(join(base, rel))
  if (file !== base && !file.startsWith(base + sep)) return false
  try {
    let s = await stat(file)
    if (s.isDirectory()) {
      if (o.redirectDirs && urlPath !== '' && !urlPath.endsWith('/')) {
        res.writeHead(301, { location: urlPath.split('/').pop() + '/' + (o.search ?? '') })
        res.end()
        return true
      }
      file = join(file, 'index.html')
      s = await stat(file)
    }
    if (!s.isFile()) return false
    const inSite = file.slice(base.length + 1).split(sep).join('/')
    if (o.html && file.endsWith('.html')) {
      const body = Buffer.from(o.html(await readFile(file, 'utf8')))
      res.writeHead(200, { 'content-type': SITE_TYPES['.html']!, 'content-length': body.length, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' })
      res.end(o.head ? undefined : body)
      return true
    }
    sendFile(res, file, s.size, 200, contentType(inSite, inSite.startsWith('artifacts/')), o.head ?? false)
    return true
  } catch {
    return false
  }
}

/** Streams one file; no type means users' bytes off the allow-list: sent as an attachment. */
export function sendFile(res: ServerResponse, file: string, size: number, status: number, type: string | undefined, head: boolean): void {
  res.writeHead(status, {
    'content-type': type ?? 'application/octet-stream',
    'content-length': size,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-cache',
    ...(type ? {} : { 'content-disposition': 'attachment' }),
  })
  if (head) res.end()
  else createReadStream(file).pipe(res)
}
