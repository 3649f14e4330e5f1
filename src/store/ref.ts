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
  } catch (caught) {
    const e = caught as NodeJS.ErrnoException
    if (e.code !== 'ENOENT' && e.code !== 'EISDIR') throw e
  }
  try {
    const packed = fs.readFileSync(join(gitdir, 'packed-refs'), 'utf8')
    for (const line of packed.split('\n')) {
      if (line.length > 41 && line[40] === ' ' && line.slice(41) === ref) return line.slice(0, 40)
    }
  } catch (caught) {
    const e = caught as NodeJS.ErrnoException
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
  /** The same, with the final rename in the thread pool (a background commit must not hold the event loop). */
  commitAsync(oid: string): Promise<void>
  release(): void
}

/** How long a lock labbook cannot prove was left by a dead labbook process (git's own, another tool's) is waited for. */
const FOREIGN_LOCK_MS = 10_000

/**
 * Takes `<gitdir>/<ref>.lock` with an exclusive create, exactly as C git does, so our writers, other labbook
 * processes and C git's own `update-ref`/`gc` exclude each other. Waits with jittered backoff. labbook removes a lock
 * only when it proves the lock is its own and its holder is dead: the lock file is born holding its taker's identity
 * (created aside and hard-linked into place, so it is never empty) until the object id replaces it, and from then on
 * `.git/labbook/locks/<ref>.json` names it (inode and birth time). Any other lock (C git's — empty while `git
 * pack-refs`/`gc` prunes a loose ref —, another tool's, or one labbook cannot read) is never removed: it is waited for
 * up to 10 s, then LOCK_TIMEOUT names it. Removal is compare-and-delete (`removeIfSame`), and `commit` renames only
 * its own lock file onto the ref.
 */
export async function lockRef(gitdir: string, ref: string, timeoutMs = 60_000): Promise<RefLock> {
  const path = join(gitdir, ref)
  const lockPath = path + '.lock'
  assertNotCheckedOut(gitdir, ref)
  fs.mkdirSync(dirname(path), { recursive: true })
  const started = Date.now()
  let foreignSince: number | undefined
  let delay = 1
  let fd: number | undefined
  const born = bornLock(gitdir, ref)
  try {
    while (fd === undefined) {
      try {
        fd = born.take(lockPath)
      } catch (caught) {
        const e = caught as NodeJS.ErrnoException
        if (e.code !== 'EEXIST') throw new LabbookError('IO_FAILED', `Cannot create ${lockPath}: ${e.message}`, undefined, {}, { cause: e })
        const judged = staleLock(gitdir, ref, lockPath)
        if (judged === null) continue // released meanwhile
        if (typeof judged === 'object') {
          testDelay('judged')
          removeIfSame(lockPath, judged)
          continue
        }
        const now = Date.now()
        if (judged === 'foreign') {
          foreignSince ??= now
          if (now - foreignSince > Math.min(FOREIGN_LOCK_MS, timeoutMs) || now - started > timeoutMs) {
            throw new LabbookError('LOCK_TIMEOUT', `${lockPath} is held by another program (not a labbook process labbook can check) and stayed for ${now - foreignSince} ms; labbook removes a ref lock only when it proves a labbook process that is gone left it.`,
              `If no git command (gc, pack-refs, update-ref, fetch) is running in this repository, delete ${lockPath} and run the command again.`, { lockPath })
          }
        } else {
          foreignSince = undefined
          if (now - started > timeoutMs) {
            throw new LabbookError('LOCK_TIMEOUT', `${lockPath} stayed locked for ${timeoutMs} ms by a running labbook process.`, `Wait for the other labbook command to finish; if none is running, delete ${lockPath}.`, { lockPath })
          }
        }
        await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())))
        delay = Math.min(delay * 2, 25)
      }
    }
  } finally {
    born.done(fd)
  }
  const lockFd = fd
  let done = false
  testDelay('created')
  recordHolder(gitdir, ref, lockFd)
  testDelay('recorded')
  const current = readRef(gitdir, ref)
  const claim = (): void => {
    if (done) throw new Error('ref lock already released')
    done = true
  }
  /** Writes the lock file and checks it is still ours; the caller renames it onto the ref. */
  const prepare = (oid: string): void => {
    // No fsync, as C git by default: a killed process loses nothing once rename() returned; the journal's
    // fsync covers the points themselves.
    // The identity the lock was born with gives way to the object id (the holder record names the lock from here on).
    fs.ftruncateSync(lockFd, 0)
    fs.writeSync(lockFd, oid + '\n', 0)
    testDelay('written')
    // Only our own lock file may become the ref: if a waiter took it away (it judged us dead), the path may now
    // hold another writer's empty lock, and renaming that would leave the ref an empty file.
    const mine = fs.fstatSync(lockFd, { bigint: true })
    const there = statOrNull(lockPath)
    fs.closeSync(lockFd)
    if (!there || there.ino !== mine.ino || there.dev !== mine.dev) throw new Error(`the lock ${lockPath} was taken away`)
  }
  const failed = (e: unknown): LabbookError => {
    unlinkIfMine(lockPath, lockFd)
    return new LabbookError('IO_FAILED', `Could not move ${ref}: ${(e as Error).message}`, undefined, {}, { cause: e })
  }
  return {
    ref,
    current,
    commit(oid: string) {
      claim()
      try {
        prepare(oid)
        fs.renameSync(lockPath, path)
      } catch (e) {
        throw failed(e)
      }
    },
    async commitAsync(oid: string) {
      claim()
      try {
        prepare(oid)
        await fs.promises.rename(lockPath, path)
      } catch (e) {
        throw failed(e)
      }
    },
    release() {
      if (done) return
      done = true
      unlinkIfMine(lockPath, lockFd)
      try { fs.closeSync(lockFd) } catch { /* closed */ }
    },
  }
}

/** Refuses a ref that a worktree has checked out (moving it would make a commit there undo newer runs). */
export function assertNotCheckedOut(gitdir: string, ref: string): void {
  const worktree = checkedOutIn(gitdir, ref)
  if (worktree) {
    throw new LabbookError('BRANCH_CHECKED_OUT', `${ref} is checked out in the worktree ${worktree}; moving it would make a commit there undo newer runs.`,
      `Detach it (\`git -C ${worktree} switch --detach\`) or remove that worktree; to look at the runs, use \`git worktree add --detach <dir> ${ref.replace(/^refs\/heads\//, '')}\`.`, { ref, worktree })
  }
}

/**
 * Who holds a lock we took: `.git/labbook/locks/<ref>.json` with our process and the lock file's inode and ctime, so
 * a waiter can tell a lock left by a dead labbook process from a fresh one someone else made in its place.
 */
function holderFile(gitdir: string, ref: string): string {
  return join(gitdir, 'labbook', 'locks', ref.replace(/\//g, '%') + '.json')
}

/** Holder files whose directory exists (created once per process). */
const holderDirs = new Set<string>()
/** A record's bytes: padded, so a rewrite in place never leaves a longer old record's tail (JSON ignores the spaces). */
const HOLDER_BYTES = 512

/**
 * Rewritten in place (one open and one write, no temporary file and rename per commit): only the lock's holder writes
 * the record, and a reader that catches it half-written finds no record, as when a holder died before writing it.
 * The lock's inode and birth time identify it (an inode number alone is reused once a lock is gone).
 */
function recordHolder(gitdir: string, ref: string, fd: number): void {
  try {
    const st = fs.fstatSync(fd, { bigint: true })
    const file = holderFile(gitdir, ref)
    const text = JSON.stringify({ ...thisProcess(), ino: String(st.ino), birthNs: String(st.birthtimeNs) })
    let out: number
    try {
      if (!holderDirs.has(dirname(file))) throw Object.assign(new Error('first'), { code: 'ENOENT' })
      out = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644)
    } catch (caught) {
      const e = caught as NodeJS.ErrnoException
      if (e.code !== 'ENOENT') throw e
      fs.mkdirSync(dirname(file), { recursive: true })
      holderDirs.add(dirname(file))
      out = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644)
    }
    try {
      fs.writeSync(out, text.padEnd(HOLDER_BYTES), 0)
      if (text.length > HOLDER_BYTES) fs.ftruncateSync(out, Buffer.byteLength(text))
    } finally {
      fs.closeSync(out)
    }
  } catch { /* only speeds up recovery from a crash */ }
}

/** How a labbook ref lock starts: its taker's identity (JSON on one line), until the object id replaces it. */
const LOCK_TAG = '{"labbook":"ref lock"'

/**
 * A lock file that is never empty: created under `.git/labbook/locks/` with this process's identity and hard-linked
 * onto the lock path (link() fails with EEXIST like an exclusive create). Where hard links are refused, the lock is
 * created in place and the identity written right after (a writer killed in between leaves an empty lock, which is
 * then treated as foreign: LOCK_TIMEOUT names it).
 */
function bornLock(gitdir: string, ref: string): { take(lockPath: string): number; done(taken: number | undefined): void } {
  const identity = JSON.stringify({ labbook: 'ref lock', ...thisProcess() }) + '\n'
  const dir = join(gitdir, 'labbook', 'locks')
  const tmp = join(dir, `${ref.replace(/\//g, '%')}.${process.pid}-${Math.random().toString(36).slice(2)}.lock`)
  let fd: number | undefined
  let linkable = true
  try {
    if (!holderDirs.has(dir)) { fs.mkdirSync(dir, { recursive: true }); holderDirs.add(dir) }
    fd = fs.openSync(tmp, 'wx')
    fs.writeSync(fd, identity)
  } catch {
    if (fd !== undefined) fs.closeSync(fd)
    fd = undefined
    linkable = false
  }
  return {
    take(lockPath) {
      if (linkable && fd !== undefined) {
        try {
          fs.linkSync(tmp, lockPath)
          return fd
        } catch (caught) {
          const e = caught as NodeJS.ErrnoException
          if (e.code === 'EEXIST' || e.code === 'ENOENT') throw e
          linkable = false
        }
      }
      const own = fs.openSync(lockPath, 'wx')
      fs.writeSync(own, identity)
      return own
    },
    done(taken) {
      if (fd === undefined) return
      try { fs.unlinkSync(tmp) } catch { /* gone */ }
      if (taken !== fd) fs.closeSync(fd)
    },
  }
}

/** What a waiter judged stale: the lock file's identity at that moment (rename keeps inode and mtime). */
interface Judged { ino: bigint; dev: bigint; mtimeNs: bigint }

/**
 * Who holds the lock at `lockPath`: null when it is gone, `live` when a running labbook process does, `foreign` when
 * labbook cannot prove it is a labbook lock (git's own, another tool's), or the lock's identity when the labbook
 * process that took it is gone (its pid is dead, a zombie, or belongs to a process started at another time).
 */
function staleLock(gitdir: string, ref: string, lockPath: string): Judged | 'live' | 'foreign' | null {
  let fd: number
  try {
    fd = fs.openSync(lockPath, 'r')
  } catch (caught) {
    return (caught as NodeJS.ErrnoException).code === 'ENOENT' ? null : 'foreign'
  }
  let st: fs.BigIntStats
  let text: string
  try {
    st = fs.fstatSync(fd, { bigint: true })
    const buf = Buffer.alloc(HOLDER_BYTES)
    text = buf.toString('utf8', 0, fs.readSync(fd, buf, 0, HOLDER_BYTES, 0))
  } finally {
    fs.closeSync(fd)
  }
  let holder: ProcessId | undefined
  try {
    if (text.startsWith(LOCK_TAG)) {
      holder = JSON.parse(text)
    } else {
      const h = JSON.parse(fs.readFileSync(holderFile(gitdir, ref), 'utf8'))
      if (st.birthtimeNs !== 0n && h.ino === String(st.ino) && h.birthNs === String(st.birthtimeNs)) holder = h
    }
  } catch { /* no record, or half-written */ }
  if (!holder || typeof holder.pid !== 'number') return 'foreign'
  return processAlive(holder) ? 'live' : { ino: st.ino, dev: st.dev, mtimeNs: st.mtimeNs }
}

/**
 * Compare-and-delete: moves the lock aside under a name no one else uses (rename is atomic), checks that the file
 * moved is the one judged stale, and deletes it; if another writer's fresh lock was moved instead (the stale one
 * was already removed and the path re-taken), it is put back with link(), which never overwrites a newer lock.
 */
function removeIfSame(lockPath: string, judged: Judged): void {
  const aside = `${lockPath}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`
  try {
    fs.renameSync(lockPath, aside)
  } catch {
    return // someone else removed it
  }
  testDelay('aside')
  const st = statOrNull(aside)
  if (st && st.ino === judged.ino && st.dev === judged.dev && st.mtimeNs === judged.mtimeNs) {
    try { fs.unlinkSync(aside) } catch { /* gone */ }
    return
  }
  try { fs.linkSync(aside, lockPath) } catch { /* a newer lock took the path; its holder's commit refuses */ }
  try { fs.unlinkSync(aside) } catch { /* gone */ }
}

function unlinkIfMine(lockPath: string, fd: number): void {
  try {
    const mine = fs.fstatSync(fd, { bigint: true })
    const there = statOrNull(lockPath)
    if (there && there.ino === mine.ino && there.dev === mine.dev) fs.unlinkSync(lockPath)
  } catch { /* closed or gone */ }
}

function statOrNull(path: string): fs.BigIntStats | null {
  try {
    return fs.statSync(path, { bigint: true })
  } catch {
    return null
  }
}

/**
 * Test-only: `LABBOOK_TEST_LOCK_DELAY_MS=step:ms[,step:ms]` sleeps at a step of the lock protocol (created, recorded,
 * written, judged, aside) so tests can stop or kill a real writer between steps; `LABBOOK_TEST_LOCK_TRACE=file` appends `<pid> <step>` lines.
 * Unset, they cost one lookup.
 */
const delays = new Map((process.env.LABBOOK_TEST_LOCK_DELAY_MS ?? '').split(',').filter(Boolean).map((s) => {
  const [step, ms] = s.split(':')
  return [step!, Number(ms)] as const
}))

function testDelay(step: string): void {
  const trace = process.env.LABBOOK_TEST_LOCK_TRACE
  if (trace) fs.appendFileSync(trace, `${process.pid} ${step}\n`)
  const ms = delays.get(step)
  if (ms && ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
