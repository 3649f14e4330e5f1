import fs from 'node:fs'
import { join } from 'node:path'
import { RUN_FILE, runDir } from '../model/layout.js'
import { checkedOutIn } from '../store/gitdir.js'
import { journalOwner, journalRoot, ownerAlive } from './journal.js'
import type { Labbook } from './labbook.js'

/** One thing `labbook doctor` found: what kind, where, what is wrong, what to do. */
export interface Diagnosis {
  kind: 'damaged-run' | 'damaged-experiments' | 'checked-out' | 'dead-writer' | 'stale-lock' | 'orphan-metrics-file'
  path: string
  message: string
  hint: string
}

/**
 * Looks for what makes labbook skip data or stall, without changing anything: damaged run.yaml files (skipped by
 * `ls`, `show`, `export` and the site, with a warning), damaged experiment files, the branch checked out in a
 * worktree, journals of dead writers not yet recovered, `$LABBOOK_METRICS` files a killed `labbook run` left, and
 * ref locks left behind.
 * @example for (const d of await diagnose(book)) console.log(`${d.kind}: ${d.path}: ${d.message}`)
 */
export async function diagnose(book: Labbook): Promise<Diagnosis[]> {
  const out: Diagnosis[] = []
  const gitdir = book.gitdir
  const wt = checkedOutIn(gitdir, book.store.ref)
  if (wt) out.push({ kind: 'checked-out', path: wt, message: `${book.store.ref} is checked out in the worktree ${wt}; labbook will not move it.`, hint: `git -C ${wt} switch --detach` })
  try {
    await book.listExperiments({ includeDeleted: true })
  } catch (e) {
    out.push({ kind: 'damaged-experiments', path: 'experiments/', message: (e as Error).message, hint: 'Fix or restore the file with `git log -p labbook -- experiments/`.' })
  }
  // Listing reads summaries (format 2 keeps them on the branch), so every listed run's own run.yaml is read too.
  const damaged = new Map((await book.damagedRuns()).map((d) => [d.path, d]))
  for (const r of await book.listRuns({ includeDeleted: true })) {
    try {
      await book.getRun(r.id)
    } catch (e) {
      const path = `${runDir(r.id)}/${RUN_FILE}`
      damaged.set(path, { path, message: (e as Error).message })
    }
  }
  for (const d of damaged.values()) {
    out.push({ kind: 'damaged-run', path: d.path, message: d.message, hint: `Restore it from history: \`git log -p ${book.branch} -- ${d.path}\`; until then ls, show, export and the site skip it.` })
  }
  let journals: string[] = []
  try { journals = fs.readdirSync(journalRoot(gitdir)) } catch { /* none */ }
  for (const id of journals) {
    const owner = journalOwner(gitdir, id)
    if (owner && !ownerAlive(owner)) out.push({ kind: 'dead-writer', path: join(journalRoot(gitdir), id), message: `Run ${id}: its writer (pid ${owner.pid}) died before committing everything.`, hint: '`labbook recover` commits what its journal holds.' })
  }
  const cliDir = join(gitdir, 'labbook', 'cli')
  let files: string[] = []
  try { files = fs.readdirSync(cliDir).filter((f) => f.endsWith('.metrics.jsonl')) } catch { /* none */ }
  for (const f of files) {
    const id = f.slice(0, -'.metrics.jsonl'.length)
    const owner = journalOwner(gitdir, id)
    if (!owner || !ownerAlive(owner)) out.push({ kind: 'orphan-metrics-file', path: join(cliDir, f), message: `Run ${id}: a $LABBOOK_METRICS file left by a labbook run that is gone.`, hint: '`labbook recover` commits the lines it holds.' })
  }
  const lock = join(gitdir, `${book.store.ref}.lock`)
  try {
    const age = Date.now() - fs.statSync(lock).mtimeMs
    if (age > 5000) out.push({ kind: 'stale-lock', path: lock, message: `${lock} has been there for ${Math.round(age / 1000)} s; writers wait for it.`, hint: 'If no git or labbook process is running, delete it.' })
  } catch { /* no lock */ }
  return out
}
