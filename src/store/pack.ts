import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { join } from 'node:path'
import { runGitSync } from './git.js'
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

/** Runs the packing in a detached background process (node running this file, which then calls git through the door) so the caller (a finishing run) does not wait. */
export function packInBackground(gitdir: string, branch: string, script: string): void {
  try {
    const child = spawn(process.execPath, [script, gitdir, branch], { detached: true, stdio: 'ignore' })
    child.unref()
  } catch { /* packing is an optimisation */ }
}

function hasObject(gitdir: string, oid: string): boolean {
  return runGitSync(['cat-file', '-e', oid], { gitdir }).code === 0
}

// Entry point for packInBackground: `node pack.js GITDIR BRANCH`.
if (process.argv[1] && import.meta.url === `file://${process.argv[1]}` && process.argv.length === 4) {
  packBranchObjects(process.argv[2]!, process.argv[3]!)
}
