import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { join } from 'node:path'
import { runGitSync } from './git.js'
import { processAlive, thisProcess } from './process.js'
import { readRef } from './ref.js'

export interface PackResult {
  /** Objects put into the new pack (0 when there was nothing new). */
  objects: number
  tip: string | null
}

/**
 * Packs the branch's objects written since the last pack into one pack file, then removes the loose copies
 * (`git prune-packed`). C git's own `gc --auto` would otherwise fire in the user's next `git commit` once ~6,700 loose
 * objects pile up, and stall it for seconds per thousand runs. Needs C git; without it, nothing happens.
 */
export function packBranchObjects(gitdir: string, branch: string): PackResult {
  const tip = readRef(gitdir, `refs/heads/${branch}`)
  if (!tip) return { objects: 0, tip }
  const marker = join(gitdir, 'labbook', 'packed-tip')
  let last: string | undefined
  try {
    last = fs.readFileSync(marker, 'utf8').trim()
  } catch { /* never packed */ }
  if (last === tip) return { objects: 0, tip }
  const range = last && /^[0-9a-f]{40}$/.test(last) && hasObject(gitdir, last) ? [tip, `^${last}`] : [tip]
  const list = runGitSync(['rev-list', '--objects', ...range], { gitdir })
  if (list.code !== 0) return { objects: 0, tip }
  const objects = list.stdout.split('\n').filter(Boolean).length
  if (objects > 0) {
    const pack = runGitSync(['pack-objects', '--quiet', join(gitdir, 'objects', 'pack', 'pack')], { gitdir, input: list.stdout })
    if (pack.code !== 0) return { objects: 0, tip }
    runGitSync(['prune-packed', '--quiet'], { gitdir })
  }
  try {
    fs.writeFileSync(marker + '.tmp', tip)
    fs.renameSync(marker + '.tmp', marker)
  } catch { /* packing again later is harmless */ }
  return { objects, tip }
}

/**
 * Loose objects in the repository, estimated the way `git gc --auto` does: the files in `objects/17` times 256. Below
 * 4,096 (thresholds lowered for tests) every fan-out directory is counted exactly.
 */
export function looseObjects(gitdir: string, threshold: number): number {
  const count = (d: string) => {
    try {
      return fs.readdirSync(join(gitdir, 'objects', d)).filter((f) => /^[0-9a-f]{38}$/.test(f)).length
    } catch {
      return 0
    }
  }
  if (threshold >= 4096) return count('17') * 256
  let n = 0
  for (let i = 0; i < 256; i++) n += count(i.toString(16).padStart(2, '0'))
  return n
}

/**
 * At the end of a command that wrote objects: packs in the background when the repository holds `threshold` or more
 * loose objects and the branch moved since the last pack, unless a packing is already running. Short CLI processes
 * each write a few objects, so counting this process's writes alone never triggers; this counts the repository's.
 */
export function autoPack(gitdir: string, branch: string, script: string, threshold: number): boolean {
  if (!(threshold > 0) || looseObjects(gitdir, threshold) < threshold) return false
  try {
    if (fs.readFileSync(join(gitdir, 'labbook', 'packed-tip'), 'utf8').trim() === readRef(gitdir, `refs/heads/${branch}`)) return false
  } catch { /* never packed */ }
  if (packLockHeld(gitdir)) return false
  packInBackground(gitdir, branch, script)
  return true
}

const PACK_LOCK_STALE_MS = 3_600_000

function packLockPath(gitdir: string): string {
  return join(gitdir, 'labbook', 'pack.lock')
}

/** Whether a live packing process holds `.git/labbook/pack.lock`; a dead holder's (or an hour-old) lock is removed. */
export function packLockHeld(gitdir: string): boolean {
  const path = packLockPath(gitdir)
  try {
    const st = fs.statSync(path)
    const holder = JSON.parse(fs.readFileSync(path, 'utf8'))
    if (processAlive(holder) && Date.now() - st.mtimeMs < PACK_LOCK_STALE_MS) return true
  } catch (caught) {
    const e = caught as NodeJS.ErrnoException
    if (e.code === 'ENOENT') return false
    // Empty or half-written: its writer is still starting unless it is old.
    try {
      if (Date.now() - fs.statSync(path).mtimeMs < 10_000) return true
    } catch {
      return false
    }
  }
  try { fs.unlinkSync(path) } catch { /* someone else did */ }
  return false
}

/** Packs under `.git/labbook/pack.lock` (exclusive create), so two packings never run at once; false when one runs. */
export function packWithLock(gitdir: string, branch: string): PackResult | false {
  const path = packLockPath(gitdir)
  packLockHeld(gitdir)
  let fd: number
  try {
    fs.mkdirSync(join(gitdir, 'labbook'), { recursive: true })
    fd = fs.openSync(path, 'wx')
  } catch {
    return false
  }
  try {
    fs.writeSync(fd, JSON.stringify(thisProcess()))
    fs.closeSync(fd)
    return packBranchObjects(gitdir, branch)
  } finally {
    try { fs.unlinkSync(path) } catch { /* gone */ }
  }
}

/** Runs the packing in a detached background process (node running pack-main.js, which then calls git through the door) so the caller (a finishing run) does not wait. */
export function packInBackground(gitdir: string, branch: string, script: string): void {
  try {
    const child = spawn(process.execPath, [script, gitdir, branch], { detached: true, stdio: 'ignore' })
    child.unref()
  } catch { /* packing is an optimisation */ }
}

function hasObject(gitdir: string, oid: string): boolean {
  return runGitSync(['cat-file', '-e', oid], { gitdir }).code === 0
}
