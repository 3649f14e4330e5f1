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

const STALE_LOCK_MS = 30_000

/**
 * Takes `<gitdir>/<ref>.lock` with an exclusive create, exactly as C git does, so our writers, other labbook
 * processes and C git's own `update-ref`/`gc` exclude each other. Waits with jittered backoff. A lock left by a
 * labbook process that died holding it (killed mid-commit) is removed at once, an empty one after 1 s, any other
 * once it is 30 s old (ours are held for milliseconds). Removal is compare-and-delete (`removeIfSame`), and `commit`
 * renames only its own lock file onto the ref.
 */
export async function lockRef(gitdir: string, ref: string, timeoutMs = 60_000): Promise<RefLock> {
  const path = join(gitdir, ref)
  const lockPath = path + '.lock'
  assertNotCheckedOut(gitdir, ref)
  fs.mkdirSync(dirname(path), { recursive: true })
  const started = Date.now()
  let delay = 1
  let fd: number | undefined
  while (fd === undefined) {
    try {
      fd = fs.openSync(lockPath, 'wx')
    } catch (caught) {
      const e = caught as NodeJS.ErrnoException
      if (e.code !== 'EEXIST') throw new LabbookError('IO_FAILED', `Cannot create ${lockPath}: ${e.message}`, undefined, {}, { cause: e })
      const judged = staleLock(gitdir, ref, lockPath)
      if (judged) {
        testDelay('judged')
        removeIfSame(lockPath, judged)
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
    fs.writeSync(lockFd, oid + '\n')
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
 */
function recordHolder(gitdir: string, ref: string, fd: number): void {
  try {
    const st = fs.fstatSync(fd)
    const file = holderFile(gitdir, ref)
    const text = JSON.stringify({ ...thisProcess(), ino: st.ino, ctimeMs: st.ctimeMs })
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

/** What a waiter judged stale: the lock file's identity at that moment (rename keeps inode and mtime). */
interface Judged { ino: bigint; dev: bigint; mtimeNs: bigint }

/** A lock file created but left empty by a writer that died before it recorded itself: C git and we write at once. */
const EMPTY_LOCK_MS = 1_000

/**
 * Whether the lock at `lockPath` is stale: held by a labbook process that is gone (its pid is dead or belongs to a
 * process started at another time), empty for over a second with no live labbook holder (a writer died between
 * creating and recording it), or older than 30 s and not held by a live labbook process.
 */
function staleLock(gitdir: string, ref: string, lockPath: string): Judged | null {
  const st = statOrNull(lockPath)
  if (!st) return null
  const judged = { ino: st.ino, dev: st.dev, mtimeNs: st.mtimeNs }
  let holder: (ProcessId & { ino: number; ctimeMs: number }) | undefined
  try {
    holder = JSON.parse(fs.readFileSync(holderFile(gitdir, ref), 'utf8'))
  } catch { /* no record */ }
  // Same inode as recorded (ctime moves when the holder writes the oid, so it is not compared).
  const ours = holder !== undefined && BigInt(holder.ino) === st.ino
  if (ours) return processAlive(holder!) ? null : judged
  const age = Date.now() - Number(st.mtimeNs / 1_000_000n)
  if (st.size === 0n && age > EMPTY_LOCK_MS) return judged
  return age > STALE_LOCK_MS ? judged : null
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
