import type { Experiment } from '../model/experiment.js'
import { compareValues, metricGoal, PRIMARY_TAGS, primaryMetrics } from '../judge/index.js'
import { RUN_STATUSES, type RunStatus, type RunSummary } from '../model/run.js'
import { BranchStore, type EditBuilder } from '../store/branch-store.js'
import { isTreeMode, type ObjectStore } from '../store/objects.js'
import type { TreeChange } from '../store/tree-edit.js'
import type { TreeView } from '../store/tree-view.js'

export const NOTES_REF = 'refs/notes/labbook'

/**
 * The note on a code commit is a bounded summary of the runs that ran on it, not a line per run: one header line,
 * one line per experiment (at most MAX_EXPERIMENT_LINES, the rest folded into one "more experiments" line), so
 * `git log --notes=labbook` prints at most 20 lines under a commit however many runs it has, and ending a run
 * rewrites a note of bounded size (O(1)). Example:
 *
 *     labbook: 10000 runs on this commit · FINISHED 9990 · FAILED 10 · list them: labbook ls --commit 1a2b3c4d5e6f
 *     labbook: experiment 1 "iris" · FINISHED 9990 · FAILED 10 · best "accuracy" max 0.93 by "rf-12" [01J0…]
 *
 * The lines are the state: counts are parsed back, incremented and written again. Merge rule (pull): three-way per
 * experiment and status, merged = ours + theirs − base; the best of both sides wins.
 */
export const MAX_EXPERIMENT_LINES = 16

const MORE = '*'
/** Lines written by labbook before notes were bounded (one per run) are counted under this experiment id. */
const LEGACY = '?'

export interface NoteBest {
  key: string
  goal: 'min' | 'max'
  value: number
  run: string
  name: string
}

export interface NoteExperiment {
  id: string
  name: string
  counts: Partial<Record<RunStatus, number>>
  best?: NoteBest
}

/** A parsed note: experiments by id, in the order they are printed. */
export type NoteState = Map<string, NoteExperiment>

const EXP_LINE = /^labbook: experiment (\S+) ("(?:[^"\\]|\\.)*")((?: · .*)?)$/
const MORE_LINE = /^labbook: more experiments((?: · .*)?)$/
const BEST = /^best ("(?:[^"\\]|\\.)*") (min|max) (\S+) by ("(?:[^"\\]|\\.)*") \[([\w-]+)\]$/
const LEGACY_LINE = / (RUNNING|FINISHED|FAILED|KILLED)(?: .*)? \[[\w-]+\]$/

/** Reads a note back into counts; lines it does not know are ignored (old per-run lines are counted, once each). */
export function decodeNote(text: string | undefined): NoteState {
  const out: NoteState = new Map()
  if (!text) return out
  for (const line of text.split('\n')) {
    if (!line.startsWith('labbook: ')) continue
    let m = EXP_LINE.exec(line)
    let exp: NoteExperiment | undefined
    let rest: string
    if (m) {
      let name: string
      try { name = JSON.parse(m[2]!) } catch { continue }
      exp = { id: m[1]!, name, counts: {} }
      rest = m[3]!
    } else if ((m = MORE_LINE.exec(line))) {
      exp = { id: MORE, name: '', counts: {} }
      rest = m[1]!
    } else {
      if (line.includes(' runs on this commit')) continue // the header is derived
      const legacy = LEGACY_LINE.exec(line)
      if (!legacy) continue
      const e = out.get(LEGACY) ?? { id: LEGACY, name: 'noted by an older labbook', counts: {} }
      const s = legacy[1] as RunStatus
      e.counts[s] = (e.counts[s] ?? 0) + 1
      out.set(LEGACY, e)
      continue
    }
    for (const part of rest.split(' · ').slice(1)) {
      const [word, num] = part.split(' ')
      if ((RUN_STATUSES as readonly string[]).includes(word!) && /^\d+$/.test(num ?? '')) exp.counts[word as RunStatus] = Number(num)
      const b = BEST.exec(part)
      if (b) {
        try {
          exp.best = { key: JSON.parse(b[1]!), goal: b[2] as 'min' | 'max', value: Number(b[3]), run: b[5]!, name: JSON.parse(b[4]!) }
        } catch { /* an unreadable best is recomputed by the next run */ }
      }
    }
    out.set(exp.id, exp)
  }
  return out
}

/** Writes a note: header, experiments in first-noted order, the folded rest. Same state, same bytes. */
export function encodeNote(state: NoteState, commit: string): string {
  const exps = [...state.values()].filter((e) => e.id !== MORE)
  const shown = exps.slice(0, MAX_EXPERIMENT_LINES)
  const more: NoteExperiment = { id: MORE, name: '', counts: { ...state.get(MORE)?.counts } }
  for (const e of exps.slice(MAX_EXPERIMENT_LINES)) addCounts(more.counts, e.counts, 1)
  const total: Partial<Record<RunStatus, number>> = {}
  for (const e of [...shown, more]) addCounts(total, e.counts, 1)
  const n = sum(total)
  const lines = [`labbook: ${n} run${n === 1 ? '' : 's'} on this commit${counts(total)} · list them: labbook ls --commit ${commit.slice(0, 12)}`]
  for (const e of shown) {
    const best = e.best ? ` · best ${JSON.stringify(e.best.key)} ${e.best.goal} ${e.best.value} by ${JSON.stringify(e.best.name)} [${e.best.run}]` : ''
    lines.push(`labbook: experiment ${e.id} ${JSON.stringify(e.name)}${counts(e.counts)}${best}`)
  }
  if (sum(more.counts) > 0) lines.push(`labbook: more experiments${counts(more.counts)}`)
  return lines.join('\n') + '\n'
}

function counts(c: Partial<Record<RunStatus, number>>): string {
  return RUN_STATUSES.filter((s) => (c[s] ?? 0) > 0).map((s) => ` · ${s} ${c[s]}`).join('')
}

function sum(c: Partial<Record<RunStatus, number>>): number {
  let n = 0
  for (const s of RUN_STATUSES) n += c[s] ?? 0
  return n
}

function addCounts(into: Partial<Record<RunStatus, number>>, from: Partial<Record<RunStatus, number>>, sign: 1 | -1): void {
  for (const s of RUN_STATUSES) {
    const v = (into[s] ?? 0) + sign * (from[s] ?? 0)
    if (v > 0) into[s] = v
    else delete into[s]
  }
}

/**
 * Which metric decides "best" in a note, and its direction: src/judge's primary metric and goal for the experiment's
 * tags (the key the note already uses when the tags name none), never a telemetry metric. The config file is not read
 * here (the note is written by the library); the site and the report apply it.
 */
export function notePrimary(exp: Pick<Experiment, 'tags'> | undefined, run: RunSummary, current?: NoteBest): { key: string; goal: 'min' | 'max' } | undefined {
  const ctx = { tags: exp?.tags ?? {} }
  const tagged = PRIMARY_TAGS.some((t) => ctx.tags[t])
  const key = !tagged && current ? current.key : primaryMetrics([run], ctx)[0] ?? (tagged ? undefined : current?.key)
  const goal = key === undefined ? undefined : metricGoal(key, ctx).goal
  return key === undefined || goal === undefined ? undefined : { key, goal: goal === 'minimize' ? 'min' : 'max' }
}

/** src/judge's order on values: NaN and ±inf never win. */
function beats(a: NoteBest, b: NoteBest | undefined): boolean {
  if (!b || b.key !== a.key) return true
  if (!Number.isFinite(a.value)) return false
  if (!Number.isFinite(b.value)) return true
  return compareValues(a.value, b.value, a.goal === 'min' ? 'minimize' : 'maximize') < 0
}

/**
 * Counts an ended run into a note: +1 for its experiment and status (−1 for the status it had, when a finished run
 * was reopened and ended again), and the best eligible run (FINISHED, active) by the experiment's primary metric.
 */
export function noteRun(state: NoteState, run: RunSummary, exp: Pick<Experiment, 'name' | 'tags'> | undefined, previous?: RunStatus): void {
  const e = state.get(run.experiment) ?? { id: run.experiment, name: exp?.name ?? run.experiment, counts: {} }
  if (exp?.name) e.name = exp.name
  if (previous && previous !== 'RUNNING' && (e.counts[previous] ?? 0) > 0) addCounts(e.counts, { [previous]: 1 }, -1)
  addCounts(e.counts, { [run.status]: 1 }, 1)
  const primary = run.status === 'FINISHED' && run.lifecycle === 'active' ? notePrimary(exp, run, e.best) : undefined
  const m = primary && run.metrics[primary.key]
  if (primary && m) {
    const candidate: NoteBest = { ...primary, value: m.value, run: run.id, name: (run.name || run.id).replace(/\s+/g, ' ') }
    if (e.best?.run === run.id || beats(candidate, e.best)) e.best = candidate
  }
  state.set(e.id, e)
}

/** Three-way merge of two notes on one commit: counts add up (ours + theirs − base), the better best wins. */
export function mergeNotes(base: string | undefined, ours: string, theirs: string): NoteState {
  const b = decodeNote(base), a = decodeNote(ours), t = decodeNote(theirs)
  const out: NoteState = new Map()
  for (const e of a.values()) out.set(e.id, { ...e, counts: { ...e.counts } })
  for (const e of t.values()) {
    const mine = out.get(e.id)
    const delta = { ...e.counts }
    const was = b.get(e.id)
    if (was) addCounts(delta, was.counts, -1)
    if (!mine) {
      out.set(e.id, { ...e, counts: delta })
      continue
    }
    addCounts(mine.counts, delta, 1)
    if (e.best && (!mine.best || (e.best.key === mine.best.key && beats(e.best, mine.best)))) mine.best = e.best
  }
  return out
}

/** The path of a commit's note in a notes tree: flat, or 2/38 fan-out when the tree already uses it for that prefix. */
async function notePath(view: TreeView | null, commit: string): Promise<string> {
  if (!view) return commit
  const fan = await view.entry(commit.slice(0, 2))
  return fan && isTreeMode(fan.mode) ? `${commit.slice(0, 2)}/${commit.slice(2)}` : commit
}

export async function readNote(view: TreeView, commit: string): Promise<string | undefined> {
  return (await view.readText(commit)) ?? (await view.readText(`${commit.slice(0, 2)}/${commit.slice(2)}`))
}

export function notesStore(gitdir: string, objects: ObjectStore): BranchStore {
  return new BranchStore(gitdir, 'labbook notes', objects, { ref: NOTES_REF, plain: true })
}

/** One ended run to count into its commit's note. */
interface NoteItem {
  run: RunSummary
  exp?: Pick<Experiment, 'name' | 'tags'>
  previous?: RunStatus
}

/** Runs ended together, waiting for their notes edit to be built (one edit per notes store and group commit). */
const gathering = new WeakMap<BranchStore, { items: NoteItem[]; done: Promise<void> }>()

/**
 * Counts an ended run into the note of the commit it ran on, under the notes ref's lock (O(1): the note is bounded).
 * `gather`: runs ended together (a group commit) are counted in ONE edit of one notes commit, each note read and
 * written once however many of them ran on its commit (not a note blob and a notes tree per run).
 */
export async function addRunNote(store: BranchStore, run: RunSummary, exp?: Pick<Experiment, 'name' | 'tags'>, previous?: RunStatus, o: { gather?: boolean } = {}): Promise<void> {
  const commit = run.source.commit
  if (!commit || !/^[0-9a-f]{40}$/.test(commit)) return
  if (!o.gather) return store.update(noteEdit(store, [{ run, exp, previous }]))
  const open = gathering.get(store)
  if (open) {
    open.items.push({ run, exp, previous })
    return open.done
  }
  const items: NoteItem[] = [{ run, exp, previous }]
  const build = noteEdit(store, items)
  // runs that end until the edit is built join it; later ones start the next
  const done = store.update(async (view) => {
    if (gathering.get(store)?.items === items) gathering.delete(store)
    return build(view)
  }, o)
  gathering.set(store, { items, done })
  return done
}

function noteEdit(store: BranchStore, items: NoteItem[]): EditBuilder<undefined> {
  return async (view) => {
    const byCommit = new Map<string, NoteItem[]>()
    for (const item of items) {
      const commit = item.run.source.commit!
      byCommit.set(commit, [...(byCommit.get(commit) ?? []), item])
    }
    const changes: TreeChange[] = []
    for (const [commit, list] of byCommit) {
      const path = await notePath(view, commit)
      const old = await readNote(view, commit)
      const state = decodeNote(old)
      for (const { run, exp, previous } of list) noteRun(state, run, exp, previous)
      const text = encodeNote(state, commit)
      if (text !== old) changes.push({ path, blob: store.objects.writeBlob(text) })
    }
    if (changes.length === 0) return { result: undefined }
    const one = items.length === 1 ? items[0]!.run : undefined
    return { changes, subject: one ? `Notes added by labbook for run ${one.name || one.id}` : `Notes added by labbook for ${items.length} runs`, result: undefined }
  }
}
