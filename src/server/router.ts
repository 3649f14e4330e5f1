import type { ServerContext } from './context.js'
import { invalid } from './errors.js'
import type { Fields } from './protocol.js'

/** What a JSON handler gets: the request fields, the server context, and `{name}` segments of its path. */
export interface JsonRequest {
  fields: Fields
  ctx: ServerContext
  params: Record<string, string>
  /** The raw body length, for endpoints with their own size limit (log-batch). */
  bodyBytes: number
}

export type JsonHandler = (req: JsonRequest) => Promise<object>

/** A route of MLflow's API: its path under `/api/2.0/mlflow/` with `{name}` placeholders. */
export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT'
  path: string
  handler: JsonHandler
}

interface Compiled { route: Route; parts: string[] }

/** Exact paths are a map lookup (the hot path: log-batch); templated paths are matched segment by segment. */
export class Router {
  private readonly exact = new Map<string, Route>()
  private readonly templated: Compiled[] = []
  private readonly paths = new Set<string>()

  constructor(routes: Route[]) {
    for (const r of routes) {
      this.paths.add(r.path)
      if (r.path.includes('{')) this.templated.push({ route: r, parts: r.path.split('/') })
      else this.exact.set(`${r.method} ${r.path}`, r)
    }
    // more literal segments first, so `logged-models/search` wins over `logged-models/{model_id}`
    this.templated.sort((a, b) => literalCount(b.parts) - literalCount(a.parts))
  }

  /** The route for a method and path, `'method'` if the path exists with other methods, or undefined. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | 'method' | undefined {
    const hit = this.exact.get(`${method} ${path}`)
    if (hit) return { route: hit, params: {} }
    const segs = path.split('/')
    let pathKnown = this.paths.has(path)
    for (const c of this.templated) {
      if (c.parts.length !== segs.length) continue
      const params: Record<string, string> = {}
      let ok = true
      for (let i = 0; i < segs.length && ok; i++) {
        const p = c.parts[i]!
        if (p.startsWith('{')) {
          if (segs[i] === '') ok = false
          else params[p.slice(1, -1)] = decodeSegment(segs[i]!)
        } else if (p !== segs[i]) ok = false
      }
      if (!ok) continue
      if (c.route.method === method) return { route: c.route, params }
      pathKnown = true
    }
    return pathKnown ? 'method' : undefined
  }
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    throw invalid(`Invalid percent-encoding in path segment '${s}'.`)
  }
}

function literalCount(parts: string[]): number {
  return parts.filter((p) => !p.startsWith('{')).length
}
