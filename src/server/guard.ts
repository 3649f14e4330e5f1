/**
 * Who may talk to `labbook serve`: the checks made before any route runs. The threat model (docs/server.md,
 * "Security"): a web page in the user's own browser, on another origin, must neither write (cross-site POST,
 * CSRF) nor read (DNS rebinding: a name the attacker controls resolving to 127.0.0.1) through the server.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import type { IncomingHttpHeaders } from 'node:http'
import { ApiError } from './errors.js'

/** Shortest token accepted when the server listens beyond loopback. */
export const MIN_TOKEN_LENGTH = 16

export interface GuardOptions {
  /** The address or name the server was bound to. */
  bindHost: string
  /**
   * More `Host` names to answer (a reverse proxy's public name). `*` answers any.
   * IP literals and `localhost` are always answered: a DNS-rebinding page can only send a name it controls.
   */
  allowedHosts?: string[]
}

export type Guard = (method: string, headers: IncomingHttpHeaders) => void

/**
 * Builds the request check: Host against the bound name and the allow-list, Origin / Sec-Fetch-Site for
 * state-changing methods. Throws a 403 ApiError.
 * @example const guard = requestGuard({ bindHost: '127.0.0.1' }); guard('POST', req.headers)
 */
export function requestGuard(o: GuardOptions): Guard {
  const names = new Set([hostName(o.bindHost), 'localhost', ...(o.allowedHosts ?? []).map((h) => hostName(h))])
  const any = names.has('*')
  return (method, headers) => {
    const host = headers.host
    if (!host) throw denied('The request has no Host header.')
    const name = hostName(host)
    if (!any && !names.has(name) && !isIP(name) && !name.endsWith('.localhost')) {
      throw denied(`Host "${host}" is not a name this server answers to (it may be a DNS-rebinding page).`,
        'Reach it by its address or localhost, or start it with --allowed-host NAME (e.g. behind a reverse proxy).')
    }
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return
    const fetchSite = headers['sec-fetch-site']
    if (fetchSite === 'cross-site' || fetchSite === 'same-site') throw denied(`A ${method} from another site was refused (Sec-Fetch-Site: ${fetchSite}).`)
    const origin = headers.origin
    if (origin !== undefined && !sameOrigin(origin, host)) throw denied(`A ${method} from origin ${origin} was refused; only pages served here may write.`)
  }
}

/**
 * A JSON endpoint's body must say it is JSON: a browser can send `text/plain` or a form to any origin without
 * asking first (a "simple" request), but not `application/json`. MLflow's clients always send it.
 */
export function requireJsonBody(headers: IncomingHttpHeaders): void {
  const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json') {
    throw new ApiError('BAD_REQUEST', `A request body to MLflow's API must be sent with Content-Type: application/json (got ${type ? `"${type}"` : 'none'}).`, 415)
  }
}

/** The hostname of a Host header or address, lower-case, without port or IPv6 brackets. */
export function hostName(h: string): string {
  const s = h.trim().toLowerCase()
  if (s.startsWith('[')) return s.slice(1, s.indexOf(']') < 0 ? undefined : s.indexOf(']'))
  const colon = s.indexOf(':')
  // a bare IPv6 address (bind host "::1") has several colons and no port
  if (colon >= 0 && s.indexOf(':', colon + 1) < 0) return s.slice(0, colon)
  return s.endsWith('.') ? s.slice(0, -1) : s
}

function sameOrigin(origin: string, host: string): boolean {
  if (origin === 'null') return false
  try {
    const u = new URL(origin)
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host.toLowerCase() === host.trim().toLowerCase()
  } catch {
    return false
  }
}

function denied(message: string, hint?: string): ApiError {
  return new ApiError('PERMISSION_DENIED', hint ? `${message} ${hint}` : message)
}

/** Constant-time comparison (both sides hashed first, so neither content nor length leaks through timing). */
export function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest()
  const y = createHash('sha256').update(b).digest()
  return timingSafeEqual(x, y)
}

/** `Authorization: Bearer <token>` or Basic auth with the token as the password (any user name). */
export function authorized(header: string | undefined, token: string): boolean {
  if (!header) return false
  const space = header.indexOf(' ')
  if (space < 0) return false
  const scheme = header.slice(0, space).toLowerCase()
  const value = header.slice(space + 1).trim()
  if (scheme === 'bearer') return sameSecret(value, token)
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return colon >= 0 && sameSecret(decoded.slice(colon + 1), token)
  }
  return false
}

/** Loopback addresses need no token; anything else does. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1'
}
