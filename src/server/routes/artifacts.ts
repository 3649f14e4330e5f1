import { randomUUID } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join, posix } from 'node:path'
import { SYSTEM_ARTIFACTS } from '../../model/layout.js'
import { artifactPath } from '../../model/path.js'
import type { ServerContext } from '../context.js'
import { ApiError, invalid, notFound } from '../errors.js'
import { decodePageToken, encodePageToken, runArtifactUri } from '../protocol.js'
import type { Route } from '../router.js'
import { modelRunId, MODEL_FILES_DIR } from './models.js'

/** Where an `mlflow-artifacts:/` path lands: `<exp>/<run>/artifacts/<p>` or `<exp>/models/<model>/artifacts/<p>`. */
export interface ArtifactTarget { experimentId: string; runId: string; path: string }

export function parseProxyPath(raw: string): ArtifactTarget | { experimentId: string; runId?: string; listingAbove: true } {
  const path = artifactPath(raw, { allowRoot: true })
  const segs = path === '' ? [] : path.split('/')
  const [exp, second, third, fourth] = segs
  if (!exp) return { experimentId: '', listingAbove: true }
  if (second === 'models') {
    if (!third) return { experimentId: exp, listingAbove: true }
    if (fourth !== undefined && fourth !== 'artifacts') throw invalid(`Invalid artifact path '${raw}': expected <experiment>/models/<model_id>/artifacts/<path>.`)
    const runId = modelRunId(third)
    return { experimentId: exp, runId, path: [MODEL_FILES_DIR, third, ...segs.slice(4)].join('/') }
  }
  if (!second) return { experimentId: exp, listingAbove: true }
  if (third === undefined) return { experimentId: exp, runId: second, listingAbove: true }
  if (third !== 'artifacts') throw invalid(`Invalid artifact path '${raw}': expected <experiment>/<run_id>/artifacts/<path>.`)
  return { experimentId: exp, runId: second, path: segs.slice(3).join('/') }
}

export interface FileInfo { path: string; is_dir: boolean; file_size?: number }

/** The immediate children of `dir` in a run's artifacts; `full` gives paths from the artifact root (tracking API) instead of names (proxy API). */
export async function listChildren(ctx: ServerContext, runId: string, dir: string, full: boolean): Promise<FileInfo[]> {
  await ctx.run(runId)
  const prefix = dir === '' ? '' : dir + '/'
  const entries = await ctx.book.listArtifacts(runId, dir === '' ? undefined : dir)
  const files = new Map<string, FileInfo>()
  for (const e of entries) {
    if (!e.path.startsWith(prefix)) continue
    const rest = e.path.slice(prefix.length)
    const slash = rest.indexOf('/')
    const name = slash < 0 ? rest : rest.slice(0, slash)
    if (!name) continue
    const path = full ? prefix + name : name
    if (slash < 0) files.set(name, { path, is_dir: false, file_size: e.size })
    else if (!files.has(name)) files.set(name, { path, is_dir: true })
  }
  return [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

const PAGE = 1000

export const artifactRoutes: Route[] = [
  {
    method: 'GET',
    path: 'artifacts/list',
    async handler({ fields, ctx }) {
      const runId = fields.requiredStr('run_id', 'run_uuid')
      const dir = artifactPath(fields.str('path') ?? '', { allowRoot: true })
      const run = await ctx.run(runId)
      const files = await listChildren(ctx, runId, dir, true)
      const offset = decodePageToken(fields.str('page_token'))
      const out: Record<string, unknown> = { root_uri: runArtifactUri(run.experiment, runId), files: files.slice(offset, offset + PAGE) }
      if (offset + PAGE < files.length) out.next_page_token = encodePageToken(offset + PAGE)
      return out
    },
  },
]

/** labbook's own records (`labbook/output.log`, `labbook/uncommitted.diff`): no client writes or deletes them. */
export function refuseReserved(path: string): void {
  if (path === SYSTEM_ARTIFACTS || path.startsWith(SYSTEM_ARTIFACTS + '/')) {
    throw invalid(`Artifact path '${path}' is reserved: labbook records the run's captured output and uncommitted diff under '${SYSTEM_ARTIFACTS}/'. Choose another folder.`)
  }
}

/**
 * The artifact proxy (`/api/2.0/mlflow-artifacts/artifacts[/<path>]`): raw bodies, so not a JSON route.
 * An upload is streamed by `receive` into a file under `.git/labbook/uploads/` and logged from there, so a
 * large body never sits in memory (files over the artifact threshold are also hashed and stored streaming).
 */
export async function proxyArtifact(
  ctx: ServerContext, method: string, rawPath: string, query: URLSearchParams, receive: (file: string) => Promise<number>,
): Promise<{ json: object } | { bytes: Uint8Array } | { file: string; size: number }> {
  if (rawPath === '') {
    if (method !== 'GET') throw new ApiError('ENDPOINT_NOT_FOUND', `No ${method} on the artifact root.`, 405)
    const target = parseProxyPath(query.get('path') ?? '')
    if ('listingAbove' in target) return { json: {} }
    return { json: { files: await listChildren(ctx, target.runId, target.path, false) } }
  }
  const target = parseProxyPath(rawPath)
  if ('listingAbove' in target || target.path === '') throw invalid(`Invalid artifact path '${rawPath}': it names no file inside a run's artifacts.`)
  const run = await ctx.run(target.runId)
  if (run.experiment !== target.experimentId) throw notFound(`Run '${target.runId}' is not in experiment '${target.experimentId}'.`)
  if (method === 'PUT') {
    refuseReserved(target.path)
    const writer = await ctx.writer(target.runId, { anyLifecycle: true })
    const dir = join(ctx.book.gitdir, 'labbook', 'uploads', randomUUID())
    try {
      const file = join(dir, posix.basename(target.path))
      await receive(file)
      const parent = posix.dirname(target.path)
      await writer.logArtifact(file, parent === '.' ? {} : { to: parent })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    return { json: {} }
  }
  if (method === 'GET') {
    // logBytes commits at once, so the branch already has every artifact; large ones are streamed from their file
    const content = await ctx.book.openArtifact(target.runId, target.path)
    return content.bytes ? { bytes: content.bytes } : { file: content.file, size: content.size }
  }
  if (method === 'DELETE') {
    refuseReserved(target.path)
    await (await ctx.writer(target.runId)).deleteArtifact(target.path)
    return { json: {} }
  }
  throw invalid(`Method ${method} is not supported on artifacts.`)
}
