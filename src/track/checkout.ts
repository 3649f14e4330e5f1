import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fail } from '../errors.js'
import type { RunSummary } from '../model/run.js'
import { gitMessage, runGitSync } from '../store/git.js'

/** A temporary checkout of a run's code: its commit in a linked `git worktree`, with its uncommitted diff applied. */
export interface RunCheckout {
  /** The checkout's top directory (under the system temp directory). */
  dir: string
  /** Removes the worktree and its registration; safe to call twice. */
  remove(): void
}

function git(cwd: string, args: string[], input?: string): { ok: boolean; err: string } {
  const r = runGitSync(args, { cwd, input, timeout: 300_000 })
  return { ok: r.code === 0, err: gitMessage(r) }
}

/**
 * Checks out the commit a run ran on into a new temporary `git worktree` (detached; the user's checkout, index,
 * HEAD and branches are not touched) and applies the run's recorded uncommitted diff to its files. Throws
 * NOT_REPRODUCIBLE when the run has no commit, COMMIT_MISSING when this clone lacks it, DIFF_NOT_APPLIED when the
 * diff does not apply (the worktree is removed again before throwing).
 * @example const co = checkoutRun(book.repo, run, diff); try { … run in co.dir … } finally { co.remove() }
 */
export function checkoutRun(repo: string, run: RunSummary, diff: string | undefined): RunCheckout {
  const commit = run.source?.commit
  if (!commit) {
    throw fail('NOT_REPRODUCIBLE', `Run ${run.id} (${run.name}) has no recorded commit: it was not logged from inside a git checkout.`)
  }
  if (!git(repo, ['cat-file', '-e', `${commit}^{commit}`]).ok) {
    const where = [run.source.branch && `branch ${run.source.branch}`, run.source.remote && `remote ${run.source.remote}`].filter(Boolean).join(' of ')
    throw fail('COMMIT_MISSING', `Run ${run.id} (${run.name}) ran on commit ${commit.slice(0, 12)}, which is not in this clone.`, {
      hint: `Fetch it${where ? ` (it ran on ${where})` : ''}, e.g. \`git fetch origin ${run.source.branch ?? commit}\`, then try again.`,
      data: { run: run.id, commit },
    })
  }
  const base = mkdtempSync(join(tmpdir(), 'labbook-reproduce-'))
  const dir = join(base, 'code')
  let removed = false
  const remove = () => {
    if (removed) return
    removed = true
    git(repo, ['worktree', 'remove', '--force', dir])
    rmSync(base, { recursive: true, force: true })
    git(repo, ['worktree', 'prune'])
  }
  const add = git(repo, ['worktree', 'add', '--quiet', '--detach', dir, commit])
  if (!add.ok) {
    remove()
    throw fail('GIT_FAILED', `git worktree add could not check out ${commit.slice(0, 12)}: ${add.err}`)
  }
  if (run.source.dirty && !diff) {
    remove()
    throw fail('NOT_REPRODUCIBLE', `Run ${run.id} (${run.name}) ran with uncommitted changes, but their diff is not among its artifacts.`)
  }
  if (diff) {
    const apply = git(dir, ['apply', '--binary', '--whitespace=nowarn', '-'], diff)
    if (!apply.ok) {
      remove()
      throw fail('DIFF_NOT_APPLIED', `Run ${run.id} (${run.name})'s uncommitted changes do not apply to ${commit.slice(0, 12)}: ${apply.err}`, {
        data: { run: run.id, commit },
      })
    }
  }
  return { dir, remove }
}
