import fs from 'node:fs'
import { basename, join, relative, resolve, sep } from 'node:path'
import { LabbookError } from '../errors.js'
import { artifactPath } from '../model/path.js'
import { decodeLfsPointer, encodeLfsPointer } from '../format/lfs-pointer.js'
import { putLfsBytes, putLfsFile } from '../store/lfs-store.js'
import type { ObjectStore } from '../store/objects.js'
import { MODES } from '../store/objects.js'

export type { ArtifactEntry } from '../model/artifact.js'

/** What a pointer blob on the branch says, whichever kind it is. */
export interface ExternalRef {
  kind: 'lfs' | 'v1'
  sha256: string
  size: number
}

/** Decodes either pointer kind; undefined for an ordinary blob. */
export function decodeExternal(data: Uint8Array): ExternalRef | undefined {
  const lfs = decodeLfsPointer(data)
  if (lfs) return { kind: 'lfs', sha256: lfs.oid, size: lfs.size }
  const v1 = decodePointer(data)
  return v1 ? { kind: 'v1', sha256: v1.sha256, size: v1.size } : undefined
}

export const POINTER_HEADER = 'labbook-pointer: 1\n'

export interface Pointer {
  sha256: string
  size: number
  name: string
}

export function encodePointer(p: Pointer): string {
  return `${POINTER_HEADER}sha256: ${p.sha256}\nsize: ${p.size}\nname: ${JSON.stringify(p.name)}\n`
}

export function decodePointer(data: Uint8Array): Pointer | undefined {
  if (data.length > 1024) return undefined
  const text = Buffer.from(data).toString('utf8')
  if (!text.startsWith(POINTER_HEADER)) return undefined
  const sha = /^sha256: ([0-9a-f]{64})$/m.exec(text)?.[1]
  const size = /^size: (\d+)$/m.exec(text)?.[1]
  const name = /^name: (.*)$/m.exec(text)?.[1]
  if (!sha || !size) return undefined
  let parsedName = ''
  try { parsedName = name ? JSON.parse(name) : '' } catch { parsedName = name ?? '' }
  return { sha256: sha, size: Number(size), name: parsedName }
}

export function externalStoreDir(gitdir: string): string {
  return join(gitdir, 'labbook', 'objects', 'sha256')
}

export function externalObjectPath(gitdir: string, sha256: string): string {
  return join(externalStoreDir(gitdir), sha256.slice(0, 2), sha256.slice(2))
}

export interface StagedFile {
  /** Path inside artifacts/. */
  path: string
  blob: string
  mode: string
  size: number
  /** The blob is a Git LFS pointer (the branch must be at format 2 or later). */
  lfs?: boolean
}

/**
 * Writes a local file or directory as git blobs (files over `threshold` bytes into git-lfs's local store, leaving a
 * Git LFS pointer blob) and returns what to put in the run's tree. Symlinks that point outside the logged folder
 * are refused; nothing is written to the branch by this function.
 */
export function stageLocal(objects: ObjectStore, gitdir: string, localPath: string, to: string | undefined, threshold: number): StagedFile[] {
  const abs = resolve(localPath)
  let st: fs.Stats
  try {
    st = fs.statSync(abs)
  } catch {
    throw new LabbookError('ARTIFACT_NOT_FOUND', `No file or directory at ${localPath}.`, 'Pass an existing path, relative to the current directory.', { path: localPath })
  }
  const prefix = to ? artifactPath(to) + '/' : ''
  if (st.isFile()) return [stageFile(objects, gitdir, abs, prefix + artifactPath(basename(abs)), threshold)]
  if (!st.isDirectory()) throw new LabbookError('INVALID_ARGUMENT', `${localPath} is neither a file nor a directory.`)
  const rootReal = fs.realpathSync(abs)
  const out: StagedFile[] = []
  const walk = (dir: string) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name)
      let real = p
      if (d.isSymbolicLink()) {
        try { real = fs.realpathSync(p) } catch { throw pathEscape(p) }
        if (real !== rootReal && !real.startsWith(rootReal + sep)) throw pathEscape(p)
      }
      const s = fs.statSync(real)
      if (s.isDirectory()) walk(p)
      else if (s.isFile()) out.push(stageFile(objects, gitdir, real, prefix + artifactPath(basename(abs) + '/' + relative(abs, p).split(sep).join('/')), threshold))
    }
  }
  walk(abs)
  return out
}

function pathEscape(p: string): LabbookError {
  return new LabbookError('PATH_ESCAPE', `${p} is a symbolic link that points outside the folder being logged.`, 'Copy the target into the folder, or log it separately.', { path: p })
}

function stageFile(objects: ObjectStore, gitdir: string, file: string, path: string, threshold: number): StagedFile {
  const size = fs.statSync(file).size
  const mode = (fs.statSync(file).mode & 0o111) !== 0 ? MODES.executable : MODES.file
  if (size > threshold) {
    const pointer = putLfsFile(gitdir, file)
    return { path, blob: objects.writeBlob(encodeLfsPointer(pointer)), mode: MODES.file, size: pointer.size, lfs: true }
  }
  return { path, blob: objects.writeBlob(fs.readFileSync(file)), mode, size }
}

export function stageBytes(objects: ObjectStore, gitdir: string, path: string, data: Uint8Array, threshold: number): StagedFile {
  const p = artifactPath(path)
  if (data.length > threshold) {
    const pointer = putLfsBytes(gitdir, data)
    return { path: p, blob: objects.writeBlob(encodeLfsPointer(pointer)), mode: MODES.file, size: data.length, lfs: true }
  }
  return { path: p, blob: objects.writeBlob(data), mode: MODES.file, size: data.length }
}
