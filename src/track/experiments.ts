import { createHash } from 'node:crypto'
import { LabbookError } from '../errors.js'
import { encodeExperiment } from '../format/yaml.js'
import { DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME, type Experiment } from '../model/experiment.js'
import { experimentFile } from '../model/layout.js'
import { keyed } from '../model/run.js'
import type { EditBuilder } from '../store/branch-store.js'
import type { ObjectStore } from '../store/objects.js'
import { readExperiments } from './reader.js'

/**
 * The edit that finds an experiment by name or creates it. It runs under the branch lock against the current tip, so
 * any number of processes asking for one new name at once end with one experiment.
 */
export function getOrCreateExperiment(objects: ObjectStore, name: string): EditBuilder<string> {
  return async (view) => {
    const all = await readExperiments(view)
    const found = all.find((e) => e.name === name)
    if (found) {
      if (found.lifecycle === 'deleted') {
        throw new LabbookError('EXPERIMENT_NOT_FOUND', `Experiment ${JSON.stringify(name)} (id ${found.id}) is deleted.`, `Restore it with book.restoreExperiment("${found.id}") or choose another name.`, { id: found.id })
      }
      return { result: found.id }
    }
    const id = experimentIdFor(name, new Set(all.map((e) => e.id)))
    const exp: Experiment = { id, name, lifecycle: 'active', createdAt: Date.now(), tags: keyed() }
    return {
      changes: [{ path: experimentFile(id), blob: objects.writeBlob(encodeExperiment(exp)) }],
      subject: `create experiment ${name}`,
      trailers: [['Labbook-Experiment', id]],
      result: id,
    }
  }
}

/** The edit that changes one experiment's file (rename, lifecycle, tags, description). */
export function editExperiment(objects: ObjectStore, id: string, edit: (e: Experiment, all: Experiment[]) => void, subject: string): EditBuilder<void> {
  return async (view) => {
    const all = await readExperiments(view)
    const exp = all.find((e) => e.id === id)
    if (!exp) throw new LabbookError('EXPERIMENT_NOT_FOUND', `No experiment with id ${JSON.stringify(id)}.`, 'List them with `labbook experiments`.', { id })
    edit(exp, all)
    exp.updatedAt = Date.now()
    return { changes: [{ path: experimentFile(id), blob: objects.writeBlob(encodeExperiment(exp)) }], subject: `${subject} ${exp.name}`, trailers: [['Labbook-Experiment', id]], result: undefined }
  }
}

/** Default experiment keeps MLflow's id "0"; others get a stable id from their name (salted on a clash). */
export function experimentIdFor(name: string, taken: Set<string>): string {
  if (name === DEFAULT_EXPERIMENT_NAME && !taken.has(DEFAULT_EXPERIMENT_ID)) return DEFAULT_EXPERIMENT_ID
  for (let salt = 0; ; salt++) {
    const id = BigInt('0x' + createHash('sha256').update(salt ? `${name}\0${salt}` : name).digest('hex').slice(0, 15)).toString()
    if (!taken.has(id)) return id
  }
}
