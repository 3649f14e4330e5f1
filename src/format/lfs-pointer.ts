/**
 * Git LFS pointer files (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md): the small blob that stands on
 * the branch for a large artifact. Encoder and decoder side by side; labbook writes exactly what `git lfs pointer`
 * writes, so every LFS-aware host and tool reads our pointers.
 */
export const LFS_SPEC = 'https://git-lfs.github.com/spec/v1'

export interface LfsPointer {
  /** sha256 of the content, lowercase hex (the LFS object id). */
  oid: string
  size: number
}

/** Pointer files are under 1024 bytes by the spec; anything longer is content. */
export const LFS_POINTER_MAX = 1024

/**
 * The canonical pointer text: `version` first, then the other keys in alphabetical order, LF line ends.
 * @example encodeLfsPointer({ oid: 'ab…', size: 12 }) // 'version https://git-lfs.github.com/spec/v1\noid sha256:ab…\nsize 12\n'
 */
export function encodeLfsPointer(p: LfsPointer): string {
  return `version ${LFS_SPEC}\noid sha256:${p.oid}\nsize ${p.size}\n`
}

/**
 * Reads a pointer file; undefined for anything that is not one (content that merely looks alike is content).
 * Accepts what the spec allows readers to accept: the pre-release `hawser`/`git-media` version URLs, extension lines,
 * and extra keys (ignored).
 */
export function decodeLfsPointer(data: Uint8Array): LfsPointer | undefined {
  if (data.length > LFS_POINTER_MAX || data.length < 40) return undefined
  // Cheap check first: every pointer starts with "version ".
  if (data[0] !== 0x76 || data[7] !== 0x20) return undefined
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')
  if (!text.endsWith('\n')) return undefined
  const lines = text.slice(0, -1).split('\n')
  const version = /^version (\S+)$/.exec(lines[0] ?? '')?.[1]
  if (version !== LFS_SPEC && version !== 'https://hawser.github.com/spec/v1' && version !== 'http://git-media.io/v/2') return undefined
  let oid: string | undefined
  let size: number | undefined
  for (const line of lines.slice(1)) {
    const m = /^([a-z0-9.-]+) (.*)$/.exec(line)
    if (!m) return undefined
    if (m[1] === 'oid') oid = /^sha256:([0-9a-f]{64})$/.exec(m[2]!)?.[1]
    else if (m[1] === 'size') size = /^(0|[1-9]\d{0,15})$/.test(m[2]!) ? Number(m[2]) : undefined
  }
  if (!oid || size === undefined || !Number.isSafeInteger(size)) return undefined
  return { oid, size }
}
