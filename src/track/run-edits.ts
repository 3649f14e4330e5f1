/** Edits of a run's run.yaml by someone other than its writer (rm, restore, rename, describe): one commit each. */
import { decodeRun, encodeRun } from '../format/yaml.js'
import { RUN_FILE, runDir } from '../model/layout.js'
import type { RunSummary } from '../model/run.js'
import type { EditBuilder } from '../store/branch-store.js'
import type { ObjectStore } from '../store/objects.js'
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
