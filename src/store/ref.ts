import fs from 'node:fs'
import { dirname, join } from 'node:path'
import { LabbookError } from '../errors.js'
import { checkedOutIn } from './gitdir.js'
import { processAlive, thisProcess, type ProcessId } from './process.js'

/** Reads a ref the way C git does: the loose file first, then packed-refs. Returns null when it does not exist. */
export function readRef(gitdir: string, ref: string): string | null {
  try {
    const text = fs.readFileSync(join(gitdir, ref), 'utf8').trim()
    if (/^[0-9a-f]{40}$/.test(text)) return text
    if (text.startsWith('ref:')) return readRef(gitdir, text.slice(4).trim())
  } catch (e: any) {
    if (e.code !== 'ENOENT' && e.code !== 'EISDIR') throw e
  }
  try {
    const packed = fs.readFileSync(join(gitdir, 'packed-refs'), 'utf8')
    for (const line of packed.split('\n')) {
      if (line.length > 41 && line[40] === ' ' && line.slice(41) === ref) return line.slice(0, 40)
    }
  } catch (e: any) {
    if (e.code !== 'ENOENT') throw e
  }
  return null
}

export interface RefLock {
  readonly ref: string
  /** The ref's value when the lock was taken. */
  readonly current: string | null
  /** Points the ref at `oid` and releases the lock (write the lock file, rename it onto the ref: C git's protocol). */
  commit(oid: string): void
  release(): void
}

const STALE_LOCK_MS = 30_000

/**
 * Takes `<gitdir>/<ref>.lock` with an exclusive create, exactly as C git does, so our writers, other labbook
 * processes and C git's own `update-ref`/`gc` exclude each other. Waits with jittered backoff. A lock left by a
 * labbook process that died holding it (killed mid-commit) is removed at once; any other lock once it is 30 s old
 * (ours are held for milliseconds).
 */
export async function lockRef(gitdir: string, ref: string, timeoutMs = 60_000): Promise<RefLock> {
  const path = join(gitdir, ref)
  const lockPath = path + '.lock'
  const worktree = checkedOutIn(gitdir, ref)
  if (worktree) {
    throw new LabbookError('BRANCH_CHECKED_OUT', `${ref} is checked out in the worktree ${worktree}; moving it would make a commit there undo newer runs.`,
      `Detach it (\`git -C ${worktree} switch --detach\`) or remove that worktree; to look at the runs, use \`git worktree add --detach <dir> ${ref.replace(/^refs\/heads\//, '')}\`.`, { ref, worktree })
  }
  fs.mkdirSync(dirname(path), { recursive: true })
  const started = Date.now()
  let delay = 1
  let fd: number | undefined
  while (fd === undefined) {
    try {
      fd = fs.openSync(lockPath, 'wx')
    } catch (e: any) {
      if (e.code !== 'EEXIST') throw new LabbookError('IO_FAILED', `Cannot create ${lockPath}: ${e.message}`, undefined, {}, { cause: e })
      const age = lockAge(lockPath)
      if ((age !== undefined && age > STALE_LOCK_MS) || heldByDeadLabbook(gitdir, ref, lockPath)) {
        try { fs.unlinkSync(lockPath) } catch { /* someone else removed it */ }
        continue
      }
      if (Date.now() - started > timeoutMs) {
        throw new LabbookError('LOCK_TIMEOUT', `${lockPath} stayed locked for ${timeoutMs} ms.`, 'Another git process holds the branch; if none is running, delete the .lock file.', { lockPath })
      }
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())))
      delay = Math.min(delay * 2, 25)
    }
  }
  const lockFd = fd
  let done = false
  recordHolder(gitdir, ref, lockFd)
  const current = readRef(gitdir, ref)
  return {
    ref,
    current,
    commit(oid: string) {
      if (done) throw new Error('ref lock already released')
      done = true
      try {
        // No fsync, as C git by default: a killed process loses nothing once rename() returned; the journal's
        // fsync covers the points themselves.
        fs.writeSync(lockFd, oid + '\n')
        fs.closeSync(lockFd)
        fs.renameSync(lockPath, path)
      } catch (e) {
        try { fs.unlinkSync(lockPath) } catch { /* gone */ }
        throw new LabbookError('IO_FAILED', `Could not move ${ref}: ${(e as Error).message}`, undefined, {}, { cause: e })
      }
    },
    release() {
      if (done) return
      done = true
      try { fs.closeSync(lockFd) } catch { /* closed */ }
      try { fs.unlinkSync(lockPath) } catch { /* gone */ }
    },
  }
}

/**
 * Who holds a lock we took: `.git/labbook/locks/<ref>.json` with our process and the lock file's inode and ctime, so
 * a waiter can tell a lock left by a dead labbook process from a fresh one someone else made in its place.
 */
function holderFile(gitdir: string, ref: string): string {
  return join(gitdir, 'labbook', 'locks', ref.replace(/\//g, '%') + '.json')
}

function recordHolder(gitdir: string, ref: string, fd: number): void {
  try {
    const st = fs.fstatSync(fd)
    const file = holderFile(gitdir, ref)
    fs.mkdirSync(dirname(file), { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    fs.writeFileSync(tmp, JSON.stringify({ ...thisProcess(), ino: st.ino, ctimeMs: st.ctimeMs }))
    fs.renameSync(tmp, file)
  } catch { /* only speeds up recovery from a crash */ }
}

function heldByDeadLabbook(gitdir: string, ref: string, lockPath: string): boolean {
  try {
    const holder = JSON.parse(fs.readFileSync(holderFile(gitdir, ref), 'utf8')) as ProcessId & { ino: number; ctimeMs: number }
    const st = fs.statSync(lockPath)
    return st.ino === holder.ino && st.ctimeMs === holder.ctimeMs && !processAlive(holder)
  } catch {
    return false
  }
}

function lockAge(path: string): number | undefined {
  try {
    return Date.now() - fs.statSync(path).mtimeMs
  } catch {
    return undefined
  }
}
