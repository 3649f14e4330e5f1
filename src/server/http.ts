import { createWriteStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { dirname } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
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

/**
 * Streams a request body into `file` (its folder is created), refusing (413) anything over `limit` bytes:
 * memory per request stays at a few stream buffers whatever the upload's size. The file is removed on failure.
 */
export async function receiveToFile(req: IncomingMessage, limit: number, file: string): Promise<number> {
  const declared = Number(req.headers['content-length'])
  if (declared > limit) {
    req.resume()
    throw tooLarge(declared, limit)
  }
  await mkdir(dirname(file), { recursive: true })
  let size = 0
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length
      done(size > limit ? tooLarge(size, limit) : null, chunk)
    },
  })
  try {
    await pipeline(req, count, createWriteStream(file, { mode: 0o644 }))
  } catch (e) {
    await rm(file, { force: true })
    if (e instanceof ApiError) {
      req.resume()
      throw e
    }
    throw new ClientGone(e)
  }
  return size
}

/** The client went away mid-request (aborted upload, closed socket): nothing to answer, nothing to log as ours. */
export class ClientGone extends Error {
  constructor(cause: unknown) {
    super('The client closed the connection.', { cause })
  }
}

/**
 * Errors that mean the client hung up, not that the server failed. `res.socket` is null while a keep-alive
 * response waits behind the previous one on its connection (the client read a streamed file's last byte and sent
 * its next request before the file stream ended), so the request's socket says whether the client is gone.
 */
export function isClientAbort(e: unknown, res: ServerResponse): boolean {
  if (e instanceof ClientGone) return true
  const code = (e as NodeJS.ErrnoException | undefined)?.code
  return (res.socket ?? res.req.socket)?.destroyed === true || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (e as Error | undefined)?.message === 'aborted'
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
