import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ApiError } from './errors.js'

/** Reads a request body, refusing (413) anything over `limit` bytes before buffering it. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (declared > limit) return Promise.reject(tooLarge(declared, limit))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > limit) {
        reject(tooLarge(size, limit))
        req.removeAllListeners('data')
        req.resume()
        return
      }
      chunks.push(c)
    })
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function tooLarge(size: number, limit: number): ApiError {
  return new ApiError('REQUEST_LIMIT_EXCEEDED', `Request body of ${size} bytes exceeds this server's limit of ${limit} bytes.`, 413)
}

export function sendJson(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

export function sendError(res: ServerResponse, e: ApiError): void {
  const body = JSON.stringify({ error_code: e.errorCode, message: e.message })
  if (e.status === 401) res.setHeader('www-authenticate', 'Basic realm="labbook", charset="UTF-8"')
  sendJson(res, e.status, body)
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a), y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** `Authorization: Bearer <token>` or Basic auth with the token as the password (any user name). */
export function authorized(header: string | undefined, token: string): boolean {
  if (!header) return false
  const space = header.indexOf(' ')
  if (space < 0) return false
  const scheme = header.slice(0, space).toLowerCase()
  const value = header.slice(space + 1).trim()
  if (scheme === 'bearer') return same(value, token)
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return colon >= 0 && same(decoded.slice(colon + 1), token)
  }
  return false
}

/** Loopback addresses need no token; anything else does. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1'
}
