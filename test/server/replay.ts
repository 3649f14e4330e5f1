// Replays requests recorded from the real MLflow 2.12.2 client against a live server, mapping the ids the
// recording's server handed out to the ones ours returns.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'

export interface Recorded {
  method: string
  path: string
  query: Record<string, string>
  headers: Record<string, string>
  body: null | Record<string, unknown>
}

export interface Replayed { req: Recorded; status: number; json: unknown; sent?: Buffer }

export const FIXTURE_DIR = new URL('../fixtures/mlflow/', import.meta.url).pathname

export function loadRecording(file = 'client-2.12.2-requests.jsonl'): Recorded[] {
  return readFileSync(FIXTURE_DIR + file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Recorded)
}

/** The bytes of a summarised upload: its text when the head holds it all, else deterministic filler of the right size. */
export function uploadBytes(body: Record<string, unknown>): Buffer {
  const size = body._upload_bytes as number
  const head = body._text_head as string | undefined
  if (head !== undefined && Buffer.byteLength(head) === size) return Buffer.from(head)
  const out = Buffer.alloc(size)
  for (let i = 0; i < size; i++) out[i] = (i * 31 + 7) & 0xff
  return out
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex')
}

const RUN_ID = /\b[0-9a-f]{32}\b/g

export async function replay(base: string, reqs: Recorded[], headers: Record<string, string> = {}) {
  const runIds = new Map<string, string>()
  const expIds = new Map<string, string>()
  const out: Replayed[] = []
  const mapRun = (s: string) => s.replace(RUN_ID, (id) => runIds.get(id) ?? id)
  const mapExp = (id: unknown) => (typeof id === 'string' ? (expIds.get(id) ?? id) : id)
  for (let i = 0; i < reqs.length; i++) {
    const r = reqs[i]!
    let path = mapRun(r.path)
    const art = /^(\/api\/2\.0\/mlflow-artifacts\/artifacts\/)([^/]+)(\/.*)$/.exec(path)
    if (art) path = art[1]! + mapExp(art[2]!) + art[3]!
    const query = new URLSearchParams()
    for (const [k, v] of Object.entries(r.query)) query.set(k, k === 'experiment_id' ? String(mapExp(v)) : mapRun(v))
    let body: Buffer | undefined
    let sent: Buffer | undefined
    if (r.body && '_upload_bytes' in r.body) {
      body = sent = uploadBytes(r.body)
    } else if (r.body) {
      const b = JSON.parse(mapRun(JSON.stringify(r.body))) as Record<string, unknown>
      if ('experiment_id' in b) b.experiment_id = mapExp(b.experiment_id)
      if (Array.isArray(b.experiment_ids)) b.experiment_ids = b.experiment_ids.map(mapExp)
      body = Buffer.from(JSON.stringify(b))
    }
    const qs = query.toString()
    const res = await fetch(base + path + (qs ? '?' + qs : ''), {
      method: r.method,
      headers: { ...(r.headers['Content-Type'] ? { 'content-type': r.headers['Content-Type'] } : {}), ...headers },
      body: body as unknown as BodyInit | undefined,
    })
    const text = await res.text()
    let json: unknown = text
    try {
      json = JSON.parse(text)
    } catch {
      // not JSON
    }
    out.push({ req: r, status: res.status, json, sent })
    // learn the ids our server gave out
    if (r.path.endsWith('/experiments/create') && res.ok) {
      const recordedId = reqs.slice(i + 1).map((x) => x.query.experiment_id).find((x) => x !== undefined)
      if (recordedId) expIds.set(recordedId, (json as { experiment_id: string }).experiment_id)
    }
    if (r.path.endsWith('/runs/create') && res.ok) {
      const later = reqs.slice(i + 1).map((x) => JSON.stringify(x)).join('\n')
      const recordedId = [...later.matchAll(RUN_ID)].map((m) => m[0]).find((id) => !runIds.has(id))
      if (recordedId) runIds.set(recordedId, (json as { run: { info: { run_id: string } } }).run.info.run_id)
    }
  }
  return { results: out, runIds, expIds }
}
