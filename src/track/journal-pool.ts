import fs from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { RUN_ID_RULE } from '../model/validate.js'
import { processAlive, testCrashPoint, thisProcess, type ProcessId } from '../store/process.js'
import { FIRST_SEGMENT, spareHooks, spareRoot } from './journal.js'

export { spareRoot }

/**
 * Spare run journals, made ahead of need. A new run's journal is a new directory and a new segment file, and the
 * create's fdatasync has to commit both to the filesystem's journal; `runs/create` through the server waits for that.
 * So each writing process keeps a few spare journal directories, each holding an empty first segment, created and
 * fsynced in the background under `.git/labbook/journal-spare/<pid>-<hex>/` (with `process.json`: who made them).
 * A new run takes one (`takeSpare`): its owner.json is written into it, then ONE rename moves it to
 * `journal/<run>/`, and the start op goes into the segment that is already on disk.
 *
 * Readers look at `journal/` only, so a spare is invisible until that rename. A crash at any point:
 * - while a spare is made, or with spares never used: the next recovery (`sweepSpares`) removes the dead
 *   process's spares;
 * - after owner.json was written into a spare but before the rename: `sweepSpares` renames it into `journal/<run>/`,
 *   and recovery treats it as every journal (no start op yet: removed; a start op: that run, recovered);
 * - after the rename: an ordinary journal.
 * docs/format.md ("Private state") describes the layout. On unless `$LABBOOK_JOURNAL_SPARES=0` (see sparesOn).
 */

/**
 * On unless `$LABBOOK_JOURNAL_SPARES=0`. Opt-in from 2026-11-30 until 2026-12-01: with spares on,
 * test/track/concurrency.test.ts's 8 writers racing C git's `gc` ended with missing objects in 3 of 4 runs on a loaded
 * machine. The cause was not the spares but `git gc`'s repack deleting a pack of ours caught between its .pack and
 * .idx (fixed in pack-write.ts installPack, 8aa04ab); with the fix the test passed with spares on (docs/format.md).
 * A spare holds no data: removing them loses nothing.
 */
export function sparesOn(): boolean {
  return process.env.LABBOOK_JOURNAL_SPARES !== '0'
}

/** Spares kept ready per process and repository: a burst of creates larger than this falls back to making one. */
const SPARES = 4
/** A pool directory with no process.json (its maker died between mkdir and writing it) is removed after this. */
const STALE_MS = 60_000
const PROCESS_FILE = 'process.json'


interface Pool {
  dir: string
  ready: string[]
  /** Spares being made (at most 2 at once: they share the thread pool with the journals' fdatasyncs). */
  making: number
  next: number
  /** The pool directory and its process.json, once made. */
  made?: Promise<void>
  inFlight: Set<Promise<void>>
  closed: boolean
  failed: boolean
}

const pools = new Map<string, Pool>()
/** Repositories this process made a new run in (the pool starts at the second). */
const firstRun = new Set<string>()

/**
 * A spare journal directory for a new run (its empty first segment fsynced), or undefined when none is ready; the
 * caller then makes the journal the ordinary way. Taking one starts making its replacement in the background. The
 * first call in a process for a repository does nothing (a one-run process pays nothing), the second starts the pool.
 */
export function takeSpare(gitdir: string): string | undefined {
  if (!sparesOn()) return undefined
  let pool = pools.get(gitdir)
  if (!pool && !firstRun.has(gitdir)) {
    // a process that makes one run (`labbook run`, a script) makes no spares: the pool starts at its second new run
    firstRun.add(gitdir)
    return undefined
  }
  if (!pool) {
    pool = { dir: join(spareRoot(gitdir), `${process.pid}-${randomBytes(4).toString('hex')}`), ready: [], making: 0, next: 0, inFlight: new Set(), closed: false, failed: false }
    pools.set(gitdir, pool)
  }
  const spare = pool.ready.shift()
  refill(pool)
  return spare
}

/** @internal How many spares are ready in this process for a repository (tests wait for the pool with it). */
export function readySpares(gitdir: string): number {
  return pools.get(gitdir)?.ready.length ?? 0
}

/** Removes this process's spares for a repository (`Labbook.close()`); a later new run starts a pool again. */
export async function releaseSpares(gitdir: string): Promise<void> {
  const pool = pools.get(gitdir)
  if (!pool) return
  pools.delete(gitdir)
  pool.closed = true
  pool.ready = []
  while (pool.inFlight.size > 0) await Promise.allSettled([...pool.inFlight])
  await pool.made?.catch(() => {})
  await fs.promises.rm(pool.dir, { recursive: true, force: true }).catch(() => {})
}

function refill(pool: Pool): void {
  while (!pool.closed && !pool.failed && pool.making < 2 && pool.ready.length + pool.making < SPARES) {
    pool.making++
    const p: Promise<void> = makeSpare(pool)
      .then((dir) => {
        if (pool.closed) return fs.promises.rm(dir, { recursive: true, force: true })
        pool.ready.push(dir)
      })
      .catch(() => { pool.failed = true }) // read-only or full .git: runs make their journals the ordinary way
      .finally(() => {
        pool.making--
        pool.inFlight.delete(p)
        refill(pool)
      })
    pool.inFlight.add(p)
  }
}

/** One spare: a directory with an empty first segment, the file and the directory fsynced (thread pool). */
async function makeSpare(pool: Pool): Promise<string> {
  pool.made ??= (async () => {
    await fs.promises.mkdir(pool.dir, { recursive: true })
    await fs.promises.writeFile(join(pool.dir, PROCESS_FILE), JSON.stringify(thisProcess()))
  })()
  await pool.made
  const dir = join(pool.dir, String(pool.next++))
  await fs.promises.mkdir(dir)
  testCrashPoint('spare-dir')
  const segment = await fs.promises.open(join(dir, FIRST_SEGMENT), 'wx')
  try {
    await segment.sync()
  } finally {
    await segment.close()
  }
  const d = await fs.promises.open(dir, 'r')
  try {
    await d.sync()
  } finally {
    await d.close()
  }
  return dir
}

/**
 * Removes the spares of processes that are gone (recovery calls it before it reads the journals). A spare that a
 * dead process had claimed for a run (it holds owner.json) but not yet renamed is moved to `journal/<run>/`, so
 * recovery treats it like every other journal of a dead writer.
 */
export function sweepSpares(gitdir: string, journalRoot: string): void {
  const root = spareRoot(gitdir)
  let names: string[]
  try {
    names = fs.readdirSync(root)
  } catch {
    return
  }
  for (const name of names) {
    const dir = join(root, name)
    const maker = readJson<ProcessId>(join(dir, PROCESS_FILE))
    if (maker ? processAlive(maker) : young(dir)) continue
    let spares: string[] = []
    try {
      spares = fs.readdirSync(dir)
    } catch { /* swept by another process meanwhile */ }
    for (const s of spares) {
      const owner = readJson<{ runId?: unknown }>(join(dir, s, 'owner.json'))
      if (typeof owner?.runId !== 'string' || !RUN_ID_RULE.test(owner.runId)) continue
      try {
        fs.mkdirSync(journalRoot, { recursive: true })
        fs.renameSync(join(dir, s), join(journalRoot, owner.runId))
      } catch { /* that run has a journal already: this copy never took a write */ }
    }
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(path, 'utf8')) as T
  } catch {
    return undefined
  }
}

function young(dir: string): boolean {
  try {
    return Date.now() - fs.statSync(dir).mtimeMs < STALE_MS
  } catch {
    return true
  }
}

spareHooks.take = takeSpare
spareHooks.release = releaseSpares
