/**
 * git-lfs's own local object store, `<gitdir>/lfs/objects/<aa>/<bb>/<oid>`, written by us: logging a large artifact
 * needs no git-lfs binary, and a later `git lfs push` (ours or the user's) finds the object where it looks.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { join } from 'node:path'
import { LabbookError } from '../errors.js'
import type { LfsPointer } from '../format/lfs-pointer.js'

export function lfsObjectPath(gitdir: string, oid: string): string {
  return join(gitdir, 'lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4), oid)
}

/** Whether this clone holds the object, whole (a partly written file never has the final name). */
export function hasLfsObject(gitdir: string, p: LfsPointer): boolean {
  try {
    return fs.statSync(lfsObjectPath(gitdir, p.oid)).size === p.size
  } catch {
    return false
  }
}

let tmpCounter = 0
function tmpPath(gitdir: string): string {
  const dir = join(gitdir, 'lfs', 'tmp')
  fs.mkdirSync(dir, { recursive: true })
  return join(dir, `labbook-${process.pid}-${Date.now()}-${++tmpCounter}`)
}

/** Moves a finished temp file to its content address; an existing object is already right. */
function install(gitdir: string, tmp: string, oid: string): void {
  const dest = lfsObjectPath(gitdir, oid)
  if (fs.existsSync(dest)) {
    fs.rmSync(tmp, { force: true })
    return
  }
  fs.mkdirSync(join(dest, '..'), { recursive: true })
  fs.renameSync(tmp, dest)
}

function ioFailed(what: string, e: unknown): LabbookError {
  return new LabbookError('IO_FAILED', `Could not store ${what} in .git/lfs/objects: ${(e as Error).message}`, 'Check free disk space and permissions of .git/lfs.', {}, { cause: e })
}

/** Copies a file into the store in one pass (hash and copy together, so a file rewritten meanwhile cannot get a wrong id). */
export function putLfsFile(gitdir: string, file: string): LfsPointer {
  const tmp = tmpPath(gitdir)
  const hash = createHash('sha256')
  let size = 0
  try {
    const src = fs.openSync(file, 'r')
    const dst = fs.openSync(tmp, 'w')
    const buf = Buffer.allocUnsafe(4 << 20)
    try {
      for (;;) {
        const n = fs.readSync(src, buf, 0, buf.length, null)
        if (n === 0) break
        hash.update(buf.subarray(0, n))
        let off = 0
        while (off < n) off += fs.writeSync(dst, buf, off, n - off)
        size += n
      }
    } finally {
      fs.closeSync(src)
      fs.closeSync(dst)
    }
    const oid = hash.digest('hex')
    install(gitdir, tmp, oid)
    return { oid, size }
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    throw ioFailed(file, e)
  }
}

export function putLfsBytes(gitdir: string, data: Uint8Array): LfsPointer {
  const oid = createHash('sha256').update(data).digest('hex')
  if (fs.existsSync(lfsObjectPath(gitdir, oid))) return { oid, size: data.length }
  const tmp = tmpPath(gitdir)
  try {
    fs.writeFileSync(tmp, data)
    install(gitdir, tmp, oid)
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    throw ioFailed(`${data.length} bytes`, e)
  }
  return { oid, size: data.length }
}

/** Links (or copies) an existing content file whose sha256 is known, e.g. a v1 `.git/labbook/objects` file. */
export function adoptLfsObject(gitdir: string, file: string, p: LfsPointer): void {
  if (hasLfsObject(gitdir, p)) return
  const tmp = tmpPath(gitdir)
  try {
    try { fs.linkSync(file, tmp) } catch { fs.copyFileSync(file, tmp) }
    install(gitdir, tmp, p.oid)
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    throw ioFailed(file, e)
  }
}
