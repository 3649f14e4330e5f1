/**
 * `labbook gc --migrate-artifacts`: format-1 pointers (bytes in .git/labbook/objects, never pushed) become Git LFS
 * pointers (bytes in .git/lfs/objects, pushed by `labbook push`). The sha256 is the same, so older commits that
 * still hold the format-1 pointer read the moved bytes too.
 */
import fs from 'node:fs'
import { encodeLfsPointer } from '../format/lfs-pointer.js'
import { ARTIFACTS_DIR, RUNS_DIR } from '../model/layout.js'
import { adoptLfsObject, hasLfsObject } from '../store/lfs-store.js'
import { isTreeMode, type ObjectStore } from '../store/objects.js'
import type { TreeChange } from '../store/tree-edit.js'
import type { TreeView } from '../store/tree-view.js'
import type { BranchStore } from '../store/branch-store.js'
import { decodePointer, externalObjectPath } from './artifacts.js'

export interface MigrateResult {
  /** Artifacts whose pointer now is a Git LFS pointer. */
  migrated: Array<{ run: string; path: string; size: number }>
  /** Format-1 pointers whose bytes are not on this machine (left as they are). */
  missing: Array<{ run: string; path: string; sha256: string }>
  /** The commit that made the change, or null when there was nothing to migrate. */
  commit: string | null
}

/** Rewrites every format-1 pointer at the branch tip whose bytes this machine has, in one commit. */
export async function migrateArtifacts(store: BranchStore, gitdir: string): Promise<MigrateResult> {
  const result: MigrateResult = { migrated: [], missing: [], commit: null }
  const moved: string[] = []
  await store.update(async (view) => {
    result.migrated = []
    result.missing = []
    const changes: TreeChange[] = []
    for (const { run, dir } of await runDirs(view)) {
      for (const f of await view.files(`${dir}/${ARTIFACTS_DIR}`)) {
        if (isTreeMode(f.mode)) continue
        const data = await smallBlob(view.store, f.oid)
        const p = data && decodePointer(data)
        if (!p) continue
        const pointer = { oid: p.sha256, size: p.size }
        const v1 = externalObjectPath(gitdir, p.sha256)
        if (fs.existsSync(v1)) {
          adoptLfsObject(gitdir, v1, pointer)
          moved.push(v1)
        }
        if (!hasLfsObject(gitdir, pointer)) {
          result.missing.push({ run, path: f.path, sha256: p.sha256 })
          continue
        }
        changes.push({ path: `${dir}/${ARTIFACTS_DIR}/${f.path}`, blob: view.store.writeBlob(encodeLfsPointer(pointer)) })
        result.migrated.push({ run, path: f.path, size: p.size })
      }
    }
    if (changes.length === 0) return { result: undefined }
    return { changes, subject: `migrate ${changes.length} large artifact${changes.length === 1 ? '' : 's'} to Git LFS`, result: undefined }
  })
  if (result.migrated.length > 0) {
    result.commit = store.tip()
    // Their bytes are in .git/lfs/objects now (hard link or copy); the format-1 copies are no longer needed.
    for (const f of moved) fs.rmSync(f, { force: true })
  }
  return result
}

async function runDirs(view: TreeView): Promise<Array<{ run: string; dir: string }>> {
  const out: Array<{ run: string; dir: string }> = []
  for (const shard of await view.list(RUNS_DIR)) {
    if (!isTreeMode(shard.mode)) continue
    for (const run of await view.store.readTree(shard.oid)) {
      if (isTreeMode(run.mode)) out.push({ run: run.name, dir: `${RUNS_DIR}/${shard.name}/${run.name}` })
    }
  }
  return out
}

/** Only blobs of pointer size are decoded (a format-1 pointer is a few hundred bytes). */
async function smallBlob(objects: ObjectStore, oid: string): Promise<Buffer | undefined> {
  const body = await objects.readBlob(oid)
  return body.length <= 1024 ? body : undefined
}
