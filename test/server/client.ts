// A tiny HTTP client for server tests: raw paths (no URL normalisation, so `..` reaches the server as sent).
import http from 'node:http'

export interface Reply { status: number; json: any; text: string; headers: http.IncomingHttpHeaders; bytes: Buffer }

export function request(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const url = new URL(base)
  const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : typeof body === 'string' ? Buffer.from(body) : Buffer.from(JSON.stringify(body))
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname, port: url.port, path, method,
      headers: { ...(data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}), ...headers },
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const bytes = Buffer.concat(chunks)
        const text = bytes.toString('utf8')
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, json, text, headers: res.headers, bytes })
      })
    })
    req.on('error', reject)
    req.end(data)
  })
}

/** `api(base)('POST', 'runs/create', {...})` against `/api/2.0/mlflow/`; GET bodies become the query string. */
export function api(base: string, headers: Record<string, string> = {}) {
  return (method: string, endpoint: string, body?: Record<string, unknown> | string) => {
    if (method === 'GET' && body && typeof body === 'object') {
      const q = new URLSearchParams()
      for (const [k, v] of Object.entries(body)) for (const x of Array.isArray(v) ? v : [v]) q.append(k, String(x))
      return request(base, method, `/api/2.0/mlflow/${endpoint}?${q}`, undefined, headers)
    }
    return request(base, method, `/api/2.0/mlflow/${endpoint}`, body, headers)
  }
}
