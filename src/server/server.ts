import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { hostname } from 'node:os'
import { LabbookError } from '../errors.js'
import type { Book } from './book.js'
import { ServerContext, type HeldRun, type Logger } from './context.js'
import type { SourceInfo } from '../model/run.js'
import { ApiError, toApiError } from './errors.js'
import { authorized, isLoopback, MIN_TOKEN_LENGTH, requestGuard, requireJsonBody } from './guard.js'
import { isClientAbort, readBody, receiveToFile, sendError, sendJson } from './http.js'
import { Fields, doubleToJson, parseJsonBody } from './protocol.js'
import { Router } from './router.js'
import { artifactRoutes, proxyArtifact } from './routes/artifacts.js'
import { experimentRoutes } from './routes/experiments.js'
import { metricRoutes } from './routes/metrics.js'
import { modelRoutes } from './routes/models.js'
import { registryRoutes } from './routes/registry.js'
import { runRoutes } from './routes/runs.js'
import { sendFile, serveStatic } from '../site/build/static.js'
import { LIVE_PREFIX, LiveChannel, type LiveOptions } from './live.js'
import { LivePages, type TickSource } from './live-pages.js'
import type { Renderer } from '../site/build/renderer.js'
import type { SiteSource } from '../site/build/source.js'
import type { JudgeConfig } from '../judge/index.js'

export interface ServeOptions {
  /** The book to serve; the server never closes it. */
  book: Book
  /** @default '127.0.0.1' */
  host?: string
  /** 0 picks a free port. @default 5000 */
  port?: number
  /** When set, every request needs `Authorization: Bearer <token>` or Basic auth with it as the password. */
  token?: string
  /** Allow a non-loopback host without a token. @default false */
  insecure?: boolean
  /**
   * More names the `Host` header may carry (a reverse proxy's public name); `'*'` allows any.
   * The bound address, IP literals and `localhost` are always allowed.
   */
  allowedHosts?: string[]
  /** Largest JSON body accepted. @default 16 MiB */
  maxJsonBytes?: number
  /** Largest artifact upload accepted (uploads are streamed to disk). @default 512 MiB */
  maxArtifactBytes?: number
  /**
   * The site under `/`: a built folder (served as is), or the live pages — the same pages rendered per request from
   * the branch plus the journals of runs in progress (`labbook serve` / `labbook ui`).
   */
  site?: string | LiveSiteOptions
  /**
   * Link a run whose client sent no `mlflow.source.git.commit` to the served repository's HEAD (and its diff), as
   * labbook did before 0.2. Off by default: a notebook outside the repo must not get someone else's commit. @default false
   */
  linkHead?: boolean
  /** Runs logged to here but owned by the caller (`labbook run`): a client's end_run is reported, not applied. */
  held?: ReadonlyMap<string, HeldRun>
  /** The code link of runs whose client sends no git commit (`labbook run` passes its command's). */
  defaultSource?: SourceInfo
  /** Create the Default experiment (id 0) MLflow clients expect, if missing. @default true (`labbook run`'s endpoint: false) */
  createDefaultExperiment?: boolean
  /** Runs created or opened here stay RUNNING when recovered after a crash (a client may come back). @default true */
  resumableRuns?: boolean
  /** Answer MLflow's REST API; `labbook ui` turns it off and only shows the site. @default true */
  api?: boolean
  /** Where warnings (truncated values) and server errors go; library code never prints. */
  log?: Logger
}

/** The live pages: the renderer (built once, src/site/build/renderer.ts) and what the pages read. */
export interface LiveSiteOptions {
  renderer: Promise<Renderer>
  /** The site's data: a `Labbook` (the branch plus live journals). */
  source: SiteSource
  /** One moment of `source` (`Labbook.snapshot()`): each version of the pages reads one. */
  snapshot?: () => Promise<SiteSource>
  /** One moment of `source` for what the change stream pushes to open pages (LivePages.ticks). @default the book's `snapshot()` when it has one (a `Labbook`) */
  tickSource?: () => Promise<TickSource>
  /** Shown in the header. */
  title: string
  /** Goals and primary metrics (labbook.config.yaml). */
  judge?: JudgeConfig
  /** How the change stream yields to logging while this process is busy (LiveOptions.pace). @default LIVE_PACE */
  pace?: LiveOptions['pace']
}

export interface RunningServer {
  url: string
  host: string
  port: number
  server: Server
  context: ServerContext
  /** Stops accepting requests, waits for open ones, and commits every run open here (without ending it). */
  close(): Promise<void>
}

const API_PREFIXES = ['/api/2.0/mlflow/', '/ajax-api/2.0/mlflow/', '/api/3.0/mlflow/', '/ajax-api/3.0/mlflow/']
const ARTIFACT_PREFIXES = ['/api/2.0/mlflow-artifacts/artifacts', '/ajax-api/2.0/mlflow-artifacts/artifacts']
const EMPTY_QUERY = new URLSearchParams()

/** One moment of a book that has them (a `Labbook`: `snapshot()`), what the live pages' ticks read by default. */
function snapshotsOf(book: Book): (() => Promise<TickSource>) | undefined {
  const b = book as Book & { snapshot?: () => Promise<TickSource> }
  return typeof b.snapshot === 'function' ? () => b.snapshot!() : undefined
}

/** What changed between two commits when only runs did, for a book that can tell (a `Labbook`: `runsChanged`). */
function runsChangedOf(book: Book): LiveOptions['runsChanged'] {
  const b = book as Book & { runsChanged?: LiveOptions['runsChanged'] }
  return typeof b.runsChanged === 'function' ? (from, to) => b.runsChanged!(from, to) : undefined
}

/** The routes of MLflow's REST API that labbook answers. */
export const ROUTES = [...experimentRoutes, ...runRoutes, ...metricRoutes, ...artifactRoutes, ...modelRoutes, ...registryRoutes]

/**
 * Starts MLflow's tracking REST API over a labbook book. Refuses a non-loopback host without a token
 * (unless `insecure`), because anyone who can reach it could write to the repository.
 * @example
 * const srv = await serve({ book: await Labbook.open(), port: 5000 })
 * // MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python train.py
 */
export async function serve(o: ServeOptions): Promise<RunningServer> {
  const host = o.host ?? '127.0.0.1'
  if (!isLoopback(host) && !o.token && !o.insecure) {
    throw new LabbookError('USAGE', `Refusing to serve on ${host} without a token: anyone who can reach it could write to this repository.`,
      'Pass --token (or set LABBOOK_TOKEN), and clients set MLFLOW_TRACKING_TOKEN; or pass --insecure if the network is trusted.')
  }
  if (!isLoopback(host) && o.token && o.token.length < MIN_TOKEN_LENGTH) {
    throw new LabbookError('USAGE', `Refusing to serve on ${host} with a ${o.token.length}-character token: beyond loopback a token needs at least ${MIN_TOKEN_LENGTH} characters.`,
      'Generate one, e.g. `openssl rand -hex 24`, and pass it with --token or LABBOOK_TOKEN.')
  }
  const log = o.log ?? (() => {})
  // a server's group commits run beside its event loop (not for `labbook run`'s endpoint: one client, one run)
  if (!o.held) await o.book.useCommitThread?.()
  const ctx = new ServerContext(o.book, log, { linkHead: o.linkHead, held: o.held, defaultSource: o.defaultSource, resumableRuns: o.resumableRuns })
  try {
    if (o.createDefaultExperiment ?? true) await o.book.experiment('Default')
  } catch (e) {
    throw new LabbookError('IO_FAILED', `Could not prepare the Default experiment: ${(e as Error).message}`, undefined, {}, { cause: e })
  }
  const router = new Router(ROUTES)
  const api = o.api ?? true
  // the channel reads ahead only the journals of runs an open page looks at (LivePages.watched)
  // and pushes to the pages what they draw of the runs they watch (LivePages.ticks)
  const live: LiveChannel = new LiveChannel({ book: o.book, runsChanged: runsChangedOf(o.book), pace: o.site && typeof o.site !== 'string' ? o.site.pace : undefined, watched: (id) => pages?.watched(id) ?? true, ticks: (ids) => pages?.ticks(ids) ?? Promise.resolve({}), watch: (ids) => pages?.noteWatched(ids) })
  const pages = o.site && typeof o.site !== 'string' ? new LivePages({ branch: o.book.branch, gitdir: o.book.gitdir, tickSource: snapshotsOf(o.book), ...o.site, version: () => live.current() }) : undefined
  const maxJson = o.maxJsonBytes ?? 16 * 1024 * 1024
  const maxArtifact = o.maxArtifactBytes ?? 512 * 1024 * 1024

  const wildcard = host === '0.0.0.0' || host === '::' || host === '[::]'
  const guard = requestGuard({ bindHost: host, allowedHosts: [...(o.allowedHosts ?? []), ...(wildcard ? [hostname()] : [])] })

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q < 0 ? url : url.slice(0, q)
    const method = req.method ?? 'GET'
    res.setHeader('x-content-type-options', 'nosniff')
    const prefix = api ? API_PREFIXES.find((p) => path.startsWith(p)) : undefined
    try {
      guard(method, req.headers)
    } catch (e) {
      req.resume()
      throw e
    }
    if (o.token && !authorized(req.headers.authorization, o.token)) {
      req.resume()
      throw new ApiError('UNAUTHENTICATED', 'You are not authenticated. Send Authorization: Bearer <token> (MLFLOW_TRACKING_TOKEN) or basic auth with the token as the password (MLFLOW_TRACKING_PASSWORD).')
    }
    const query = q < 0 ? EMPTY_QUERY : new URLSearchParams(url.slice(q + 1))

    if (prefix) {
      const hit = router.match(method, path.slice(prefix.length))
      if (hit === undefined) {
        req.resume()
        throw new ApiError('ENDPOINT_NOT_FOUND', `labbook does not implement ${method} ${path}.`)
      }
      if (hit === 'method') {
        req.resume()
        throw new ApiError('ENDPOINT_NOT_FOUND', `Method ${method} is not allowed on ${path}.`, 405)
      }
      let body: Record<string, unknown> = {}
      let bodyBytes = 0
      if (method !== 'GET' && method !== 'HEAD') {
        const buf = await readBody(req, maxJson)
        bodyBytes = buf.length
        if (buf.length) {
          requireJsonBody(req.headers)
          const parsed = parseJsonBody(buf.toString('utf8'))
          if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
            throw new ApiError('BAD_REQUEST', 'The request body must be a JSON object.')
          }
          body = parsed as Record<string, unknown>
        }
      } else req.resume()
      const out = await hit.route.handler({ fields: new Fields(body, query), ctx, params: hit.params, bodyBytes })
      sendJson(res, 200, stringify(out))
      return
    }

    const artifactPrefix = !api ? undefined : ARTIFACT_PREFIXES.find((p) => path === p || path.startsWith(p + '/'))
    if (artifactPrefix) {
      let rest: string
      try {
        rest = decodeURIComponent(path.slice(artifactPrefix.length + 1))
      } catch {
        throw new ApiError('INVALID_PARAMETER_VALUE', `Invalid percent-encoding in ${path}.`)
      }
      if (method !== 'PUT') req.resume()
      const out = await proxyArtifact(ctx, method, rest, query, (file) => receiveToFile(req, maxArtifact, file))
      if ('json' in out) sendJson(res, 200, stringify(out.json))
      else if ('file' in out) sendFile(res, out.file, out.size, 200, undefined, false) // streamed: a 2 GB checkpoint is never in memory
      else {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': out.bytes.byteLength })
        res.end(out.bytes)
      }
      return
    }

    req.resume()
    if (method === 'GET' || method === 'HEAD') {
      if (path === '/health') return void res.end('OK')
      if (path === '/version') return void res.end('labbook')
      if (path.startsWith(LIVE_PREFIX) && (await live.handle(res, path, query))) return
      if (pages && (await pages.handle(path, q < 0 ? '' : url.slice(q), res, method === 'HEAD'))) return
      if (typeof o.site === 'string' && (await serveStatic(o.site, path, res, { head: method === 'HEAD', redirectDirs: true, search: q < 0 ? '' : url.slice(q) }))) return
      if (path === '/') {
        const html = `<!doctype html><meta charset="utf-8"><title>labbook</title><p>labbook serves MLflow's REST API here: point <code>MLFLOW_TRACKING_URI</code> at this address.</p><p>No site to show: this server was started without one.</p>\n`
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        return void res.end(html)
      }
    }
    throw new ApiError('ENDPOINT_NOT_FOUND', `No ${method} ${path} here.`)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (isClientAbort(e, res)) return void res.destroy()
      const err = toApiError(e)
      if (!req.readableEnded) req.resume()
      if (err.status >= 500) log('error', `${req.method} ${req.url}: ${err.message}${err.cause instanceof Error && err.cause.stack ? '\n' + err.cause.stack : ''}`)
      if (res.headersSent) return void res.destroy()
      sendError(res, err)
    })
  })
  server.keepAliveTimeout = 65_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new LabbookError('IO_FAILED', `Could not listen on ${host}:${o.port ?? 5000}: ${e.message}`,
        e.code === 'EADDRINUSE' ? 'Another process uses that port; pick one with --port.' : undefined, {}, { cause: e })))
    server.listen(o.port ?? 5000, host, () => resolve())
  })
  const addr = server.address() as AddressInfo
  const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return {
    url: `http://${urlHost}:${addr.port}`,
    host: addr.address,
    port: addr.port,
    server,
    context: ctx,
    async close() {
      live.close()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      })
      await ctx.commitAll()
    },
  }
}

/** JSON with non-finite numbers as proto3 JSON's strings (they only occur as metric values). */
function stringify(v: object): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? doubleToJson(x) : x))
}
