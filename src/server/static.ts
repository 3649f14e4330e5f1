import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import { extname, join, resolve, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.jpg': 'image/jpeg', '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8', '.woff2': 'font/woff2', '.map': 'application/json',
}

/** Serves a built site from `root` (`dir/index.html` for directories); false when no file matches. */
export async function serveStatic(root: string, urlPath: string, res: ServerResponse, head: boolean): Promise<boolean> {
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
      file = join(file, 'index.html')
      s = await stat(file)
    }
    if (!s.isFile()) return false
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': s.size })
    if (head) res.end()
    else createReadStream(file).pipe(res)
    return true
  } catch {
    return false
  }
}
