/** What a new run starts with: the options of `startRun`, checked, and the run's first summary. */
import os from 'node:os'
import { newRunId } from '../model/ids.js'
import type { StartRunOptions } from '../model/book.js'
import { keyed, type RunSummary } from '../model/run.js'
import { validateDescription, validateKey, validateParamValue, validateRunId, validateRunName, validateTagValue } from '../model/validate.js'
import { currentUser, detectCodeLink } from './code-link.js'
import { randomRunName } from './names.js'

export type { StartRunOptions }

/**
 * Checks every option (nothing is written when one is bad) and builds the run's first summary; params and tags are
 * left for the Run to log. `diff` is the uncommitted diff of the repository, when the code link detected one.
 */
export function initialRun(repo: string, bare: boolean, experimentId: string, o: StartRunOptions): { initial: RunSummary; diff: string | undefined } {
  const id = o.id ?? newRunId()
  validateRunId(id)
  const name = o.name ?? randomRunName()
  validateRunName(name)
  for (const [k, v] of Object.entries(o.params ?? {})) { validateKey(k, 'param'); validateParamValue(k, v) }
  for (const [k, v] of Object.entries(o.tags ?? {})) { validateKey(k, 'tag'); validateTagValue(k, v) }
  const link = o.source ? { source: o.source, diff: undefined } : detectCodeLink(repo, bare)
  if (o.command !== undefined) link.source = { ...link.source, command: o.command }
  const initial: RunSummary = {
    id, name, experiment: experimentId, status: 'RUNNING', lifecycle: 'active',
    startTime: o.startTime ?? Date.now(), user: o.user === null ? undefined : (o.user ?? currentUser()), host: os.hostname(),
    source: link.source, params: keyed(), tags: keyed(), metrics: keyed(),
  }
  if (o.parent) { validateRunId(o.parent); initial.parent = o.parent }
  if (o.description) { validateDescription(o.description); initial.description = o.description }
  return { initial, diff: link.diff }
}
