/** Edits of a run's run.yaml by someone other than its writer (rm, restore, rename, describe): one commit each. */
import { join } from 'node:path'
import { decodeRun, encodeRun } from '../format/yaml.js'
import { RUN_FILE, runDir } from '../model/layout.js'
import type { RunSummary } from '../model/run.js'
import type { EditBuilder } from '../store/branch-store.js'
import type { ObjectStore } from '../store/objects.js'
import { journalOwner, journalRoot, ownerAlive, readJournal } from './journal.js'
import { runNotFound } from './reader.js'

/** The edit that applies `edit` to run `id`'s run.yaml at the tip; RUN_NOT_FOUND when the run is not there. */
export function editRunFile(objects: ObjectStore, id: string, subject: string, edit: (r: RunSummary) => void): EditBuilder<void> {
  return async (view) => {
    const path = `${runDir(id)}/${RUN_FILE}`
    const text = await view.readText(path)
    if (!text) throw runNotFound(id)
    const run = decodeRun(text, path)
    edit(run)
    return { changes: [{ path, blob: objects.writeBlob(encodeRun(run)) }], subject: `${subject} run ${run.name || id}`, trailers: [['Labbook-Run', id]], runs: [run], result: undefined }
  }
}

/**
 * A run another live writer (another process, or another Labbook here) acknowledged from its journal reaches the
 * branch with its group commit, within its commit delay: wait for it (up to 5 s) before editing the branch's copy.
 */
export async function awaitCommitElsewhere(gitdir: string, branch: string, id: string, onBranch: (id: string) => Promise<boolean>): Promise<void> {
  for (let waited = 0; waited < 5000; waited += 10) {
    const owner = journalOwner(gitdir, id)
    if (!owner || owner.branch !== branch || !ownerAlive(owner)) return
    let ended: boolean
    try {
      ended = readJournal(join(journalRoot(gitdir), id)).ended !== undefined
    } catch { return } // removed while we looked: committed
    // a writer still writing (its run on the branch) is the caller's business (RUN_LOCKED, or an edit it merges)
    if (!ended && (await onBranch(id))) return
    await new Promise((r) => setTimeout(r, 10))
  }
}
