/** Artifact handling for the static site: safe output paths, what may be previewed, and what must never render as a page. */
import { LabbookError } from '../../errors.js'
import { artifactPath } from '../../model/path.js'
import type { ArtifactKind } from '../browser/snapshot.js'

const IMAGE = /\.(png|jpe?g|gif|webp|avif|bmp|ico)$/i
const TEXT = /\.(txt|log|json|jsonl|ya?ml|csv|tsv|md|py|toml|ini|cfg|conf|diff|patch|sh|js|ts|xml|xsd|rng|html?|xhtml|svg|out|err|r|ipynb|tex)$/i

/**
 * The allow-list of artifact types a browser shows without running anything, with the type to send.
 * Every other artifact (`.html`, `.svg`, `.xml`, `.xsd`, `.rng`, `.pdf`, `.js`, unknown binaries…) is put in the
 * site as `<name>.txt` and linked for download: whatever MIME table the host uses, it is never a page.
 */
export const SAFE_PREVIEW_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', avif: 'image/avif', bmp: 'image/bmp',
  txt: 'text/plain; charset=utf-8', log: 'text/plain; charset=utf-8', csv: 'text/plain; charset=utf-8', tsv: 'text/plain; charset=utf-8',
  md: 'text/plain; charset=utf-8', yaml: 'text/plain; charset=utf-8', yml: 'text/plain; charset=utf-8', diff: 'text/plain; charset=utf-8',
  patch: 'text/plain; charset=utf-8', json: 'application/json; charset=utf-8', jsonl: 'text/plain; charset=utf-8',
}

/** The type an artifact file may be served as, or undefined when it is not on the safe-preview allow-list. */
export function safePreviewType(name: string): string | undefined {
  const dot = name.lastIndexOf('.')
  return dot < 0 ? undefined : SAFE_PREVIEW_TYPES[name.slice(dot + 1).toLowerCase()]
}

export function artifactKind(path: string): ArtifactKind {
  if (IMAGE.test(path)) return 'image'
  if (TEXT.test(path) || !/\.[^/]+$/.test(path)) return 'text'
  return 'other'
}

/**
 * Splits a stored artifact path into segments, by the one artifact-path rule (`src/model/path.ts`): PATH_ESCAPE or
 * INVALID_PATH for anything that could leave its folder or that git reserves.
 * @example safeSegments('plots/loss.png') // ['plots', 'loss.png']
 */
export function safeSegments(path: string): string[] {
  const p = artifactPath(path)
  if (p !== path) throw new LabbookError('PATH_ESCAPE', `Artifact path "${path}" is not in normal form (expected "${p}").`, 'Artifact paths use "/" between plain names.')
  return p.split('/')
}

/** Where the bytes go in the output (relative): names off the safe-preview allow-list get a `.txt` suffix. */
export function artifactOutPath(runId: string, path: string): string {
  const segs = safeSegments(path)
  const last = segs.length - 1
  if (!safePreviewType(segs[last]!)) segs[last] = `${segs[last]}.txt`
  return ['artifacts', runId, ...segs].join('/')
}

/** The same path as a URL (each segment percent-encoded, so `#`, `?` and `%` in names stay names). */
export function hrefOf(outPath: string): string {
  return outPath.split('/').map(encodeURIComponent).join('/')
}

/** Decodes a preview: UTF-8 text up to `limit` bytes; null when the bytes look binary. */
export function textPreview(bytes: Uint8Array, limit: number): { text: string; truncated: boolean } | null {
  const head = bytes.subarray(0, limit)
  for (let i = 0; i < Math.min(head.length, 4096); i++) if (head[i] === 0) return null
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head)
  return { text, truncated: bytes.length > limit }
}
