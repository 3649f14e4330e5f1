import type { RunSummary } from '../model/run.js'
import { BranchStore } from '../store/branch-store.js'
import { isTreeMode, type ObjectStore } from '../store/objects.js'
import type { TreeView } from '../store/tree-view.js'

export const NOTES_REF = 'refs/notes/labbook'

/** One line per run in the code commit's note: name, status, a few latest metrics, id. */
export function noteLine(run: RunSummary, maxMetrics = 4): string {
  const metrics = Object.keys(run.metrics).filter((k) => !k.startsWith('system/')).sort().slice(0, maxMetrics)
    .map((k) => `${k}=${formatNumber(run.metrics[k]!.value)}`)
  const name = (run.name || run.id).replace(/\s+/g, ' ')
  return `labbook: ${name} ${run.status}${metrics.length ? ' ' + metrics.join(' ') : ''} [${run.id}]`
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v)
  return Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-4) ? v.toExponential(3) : String(Number(v.toPrecision(5)))
}

/** git's cat_sort_uniq: concatenate, sort lines, drop duplicates. Concurrent notes on one commit never clobber. */
export function catSortUniq(...texts: string[]): string {
  const lines = new Set<string>()
  for (const t of texts) for (const l of t.split('\n')) if (l.trim() !== '') lines.add(l)
  return [...lines].sort().join('\n') + '\n'
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

/** Adds (or replaces) the run's line in the note of the commit it ran on, under the notes ref's lock. */
export async function addRunNote(store: BranchStore, run: RunSummary): Promise<void> {
  const commit = run.source.commit
  if (!commit || !/^[0-9a-f]{40}$/.test(commit)) return
  const line = noteLine(run)
  await store.update(async (view) => {
    const path = await notePath(view, commit)
    const old = (await readNote(view, commit)) ?? ''
    const kept = old.split('\n').filter((l) => l.trim() !== '' && !l.endsWith(`[${run.id}]`))
    const text = catSortUniq(kept.join('\n'), line)
    if (text === old) return { result: undefined }
    return {
      changes: [{ path, blob: store.objects.writeBlob(text) }],
      subject: `Notes added by labbook for run ${run.name || run.id}`,
      result: undefined,
    }
  })
}

/** All notes of a notes tree as commit → text (both layouts). */
export async function allNotes(view: TreeView): Promise<Map<string, { path: string; text: string }>> {
  const out = new Map<string, { path: string; text: string }>()
  for (const f of await view.files('')) {
    const commit = f.path.replace('/', '')
    if (!/^[0-9a-f]{40}$/.test(commit)) continue
    out.set(commit, { path: f.path, text: (await view.store.readBlob(f.oid)).toString('utf8') })
  }
  return out
}
