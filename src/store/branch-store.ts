import os from 'node:os'
import { checkRoot, encodeRoot } from '../format/yaml.js'
import { FORMAT_VERSION, ROOT_FILE } from '../model/layout.js'
import type { RunSummary } from '../model/run.js'
import { ObjectStore, type Signature } from './objects.js'
import { assertNotCheckedOut, lockRef, readRef } from './ref.js'
import { rebuildSummaries, summaryChanges, touchedRuns } from './summaries.js'
import { editTree, type TreeChange } from './tree-edit.js'
import { PendingTree, TreeView } from './tree-view.js'
import { repoConfigValue } from './git.js'

/** What an update wants to do to the branch, computed from the tip it is applied to. */
export interface Edit<T> {
  changes: TreeChange[]
  /** First line of the commit message. */
  subject: string
  /** `Key: value` trailers, e.g. Labbook-Run. */
  trailers?: Array<[string, string]>
  /** The runs whose run.yaml this edit writes, as written (spares the store reading them back for the summaries). */
  runs?: RunSummary[]
  result: T
}

/** Computes an edit against the current tip; `null` means "nothing to change" (and no commit is made for it). */
export type EditBuilder<T> = (view: TreeView) => Promise<Edit<T> | { result: T; changes?: undefined }>

interface Pending {
  build?: EditBuilder<unknown>
  /** Moves the tip to a commit made by the caller (a merge): gets the current tip, returns the new one or null. */
  replace?: (tip: string | null) => Promise<string | null>
  /** Settles the promise of `edit<T>` or of a tip replacement with what its own builder made (a method, so each
   *  queued entry keeps its own `T`). */
  resolve(v: unknown): void
  reject: (e: unknown) => void
}

export interface BranchStoreOptions {
  /** The full ref to move. @default refs/heads/<branch> */
  ref?: string
  /** A plain ref (git notes): no labbook.yaml, no format check. @default false */
  plain?: boolean
}

/**
 * The labbook branch of one repository. Moves only refs/heads/<branch>, under C git's lock protocol, re-applying each
 * edit to whatever tip it finds once it holds the lock, so concurrent writers never lose each other's runs.
 * Edits queued while a commit is in flight are applied together in the next commit (group commit).
 */
export class BranchStore {
  readonly ref: string
  readonly objects: ObjectStore
  private queue: Pending[] = []
  private running = false
  private gatherQueued = false
  private author?: Signature
  /** labbook.yaml blob id → its format version. */
  private checkedRoots = new Map<string, number>()

  private readonly plain: boolean

  constructor(readonly gitdir: string, readonly branch: string, objects?: ObjectStore, options: BranchStoreOptions = {}) {
    this.ref = options.ref ?? `refs/heads/${branch}`
    this.plain = options.plain ?? false
    this.objects = objects ?? new ObjectStore(gitdir)
  }

  tip(): string | null {
    return readRef(this.gitdir, this.ref)
  }

  /** A view of the tip's tree, or null when the branch does not exist yet. */
  async head(): Promise<TreeView | null> {
    const tip = this.tip()
    return tip ? this.viewOfCommit(tip) : null
  }

  async viewOfCommit(commit: string): Promise<TreeView> {
    const { tree } = await this.objects.readCommit(commit)
    const view = new TreeView(this.objects, tree)
    await this.checkFormat(view)
    return view
  }

  /** Refuses a newer format; returns the tree's format version (1 when labbook.yaml is missing). */
  private async checkFormat(view: TreeView): Promise<number> {
    if (this.plain) return FORMAT_VERSION
    const root = await view.entry(ROOT_FILE)
    if (!root) return 1
    let v = this.checkedRoots.get(root.oid)
    if (v === undefined) {
      v = checkRoot((await this.objects.readBlob(root.oid)).toString('utf8'), `${this.branch}:${ROOT_FILE}`)
      this.checkedRoots.set(root.oid, v)
    }
    return v
  }

  /**
   * Throws what a commit would throw up front when the branch cannot move at all (checked out in a worktree). A pass
   * holds for the rest of this turn of the event loop: a server's creates that arrive together read HEAD and the
   * worktrees once (a few file reads, most of them failing, per create), and every commit checks again under its lock.
   */
  assertMovable(): void {
    if (this.movableThisTurn) return
    assertNotCheckedOut(this.gitdir, this.ref)
    this.movableThisTurn = true
    setImmediate(() => { this.movableThisTurn = false })
  }

  private movableThisTurn = false

  /**
   * Applies an edit on the branch (creating the branch if needed) and resolves with the edit's result. With `gather`,
   * the commit starts on the next turn of the event loop instead of at once, so every edit queued until then (a group
   * commit of many runs, each queued from its own promise chain) goes out in that one commit.
   */
  update<T>(build: EditBuilder<T>, o: { gather?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ build, resolve, reject })
      if (this.running) return
      if (!o.gather) void this.drain()
      else if (!this.gatherQueued) {
        this.gatherQueued = true
        setImmediate(() => {
          this.gatherQueued = false
          if (!this.running && this.queue.length > 0) void this.drain()
        })
      }
    })
  }

  /** Moves the tip under the lock to a commit the caller builds from the current tip (merges, fast-forwards). */
  replaceTip(compute: (tip: string | null) => Promise<string | null>): Promise<string | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ replace: compute, resolve, reject })
      if (!this.running) void this.drain()
    })
  }

  private async drain(): Promise<void> {
    this.running = true
    try {
      while (this.queue.length > 0) {
        if (this.queue[0]!.replace) {
          await this.replaceOne(this.queue.shift()!)
          continue
        }
        const n = this.queue.findIndex((p) => p.replace)
        const batch = n < 0 ? this.queue : this.queue.slice(0, n)
        this.queue = n < 0 ? [] : this.queue.slice(n)
        await this.commitBatch(batch)
      }
    } finally {
      this.running = false
    }
  }

  private async replaceOne(p: Pending): Promise<void> {
    let lock
    try {
      lock = await lockRef(this.gitdir, this.ref)
    } catch (e) {
      p.reject(e)
      return
    }
    try {
      const next = await p.replace!(lock.current)
      if (next && next !== lock.current) lock.commit(next)
      else lock.release()
      p.resolve(next ?? lock.current)
    } catch (e) {
      lock.release()
      p.reject(e)
    }
  }

  private async commitBatch(batch: Pending[]): Promise<void> {
    let lock
    try {
      lock = await lockRef(this.gitdir, this.ref)
    } catch (e) {
      for (const p of batch) p.reject(e)
      return
    }
    const settled: Array<() => void> = []
    try {
      // Every object of this commit goes out in one pack (objects.ts writeBatch), written before the ref moves.
      const commit = await this.objects.writeBatch(async () => {
        const parent = lock.current
        const parentTree = parent ? (await this.objects.readCommit(parent)).tree : undefined
        let tree = parentTree !== undefined
          ? parentTree
          : await editTree(this.objects, null, this.plain ? [] : [{ path: ROOT_FILE, blob: this.objects.writeBlob(encodeRoot()) }])
        const format = await this.checkFormat(new TreeView(this.objects, tree))
        const subjects: string[] = []
        const trailers: Array<[string, string]> = []
        const applied: TreeChange[] = []
        const hints = new Map<string, RunSummary>()
        // Each edit is built against the tree with the edits before it; their changes stay pending (PendingTree) until
        // the one rewrite at the end, together with the summary lines, so the shared trees are written once.
        const layers = new PendingTree(this.objects, tree)
        for (const p of batch) {
          try {
            const edit = await p.build!(layers.view())
            if (edit.changes && edit.changes.length > 0) {
              await layers.add(edit.changes)
              subjects.push((edit as Edit<unknown>).subject)
              trailers.push(...((edit as Edit<unknown>).trailers ?? []))
              applied.push(...edit.changes)
              for (const r of (edit as Edit<unknown>).runs ?? []) hints.set(r.id, r)
            }
            settled.push(() => p.resolve(edit.result))
          } catch (e) {
            settled.push(() => p.reject(e))
          }
        }
        const { tree: under, pending } = layers.take()
        tree = under
        if (!this.plain && applied.length > 0) tree = await this.keepSummaries(tree, pending, format, applied, hints, subjects)
        else if (pending.length) tree = await editTree(this.objects, tree, pending)
        // An edit that rewrites files with the bytes they already hold makes no commit (no empty commits on the branch).
        if ((subjects.length > 0 && tree !== parentTree) || (!parent && !this.plain)) {
          const message = commitMessage(subjects.length ? subjects : ['Create the labbook branch'], trailers)
          // (a plain ref with nothing to commit is not created)
          return this.objects.writeCommit({ tree, parents: parent ? [parent] : [], author: this.signature(), message })
        }
        // No commit, no pack: the tree is the tip's, so the branch has every object it names. (Written, a server's close,
        // which commits each open run, left a pack per running run, each one more for every roll-up to stat.)
        return null
      }, (commit) => commit === null)
      if (commit) await lock.commitAsync(commit)
      else lock.release()
      for (const s of settled) s()
    } catch (e) {
      lock.release()
      for (const p of batch) p.reject(e)
    }
  }

  /**
   * The same commit that writes a run writes its summary line (format 2). A format-1 branch is migrated by its first
   * write: summaries for every shard, and labbook.yaml says format 2.
   */
  private async keepSummaries(tree: string, pending: TreeChange[], format: number, applied: TreeChange[], hints: Map<string, RunSummary>, subjects: string[]): Promise<string> {
    if (format >= 2) {
      // `tree` lacks only `pending`, which touches run directories, never the summary files
      const touched = await touchedRuns(this.objects, applied, hints)
      return editTree(this.objects, tree, touched.size ? [...pending, ...(await summaryChanges(this.objects, tree, touched))] : pending)
    }
    if (pending.length) tree = await editTree(this.objects, tree, pending)
    const changes = await rebuildSummaries(this.objects, tree)
    changes.push({ path: ROOT_FILE, blob: this.objects.writeBlob(encodeRoot()) })
    subjects.push(`migrate the branch to labbook format ${FORMAT_VERSION} (run summaries per shard)`)
    return editTree(this.objects, tree, changes)
  }

  /** The commit identity: $GIT_AUTHOR_NAME/EMAIL, else git config user.name/email, else the OS user. */
  signature(): Signature {
    if (!this.author) {
      const read = (key: string) => repoConfigValue(this.gitdir, key)?.trim() ?? ''
      const name = process.env.GIT_AUTHOR_NAME || read('user.name') || os.userInfo().username || 'labbook'
      const email = process.env.GIT_AUTHOR_EMAIL || read('user.email') || `${name}@${os.hostname()}`
      this.author = { name, email, time: 0 }
    }
    return { ...this.author, time: Date.now() }
  }
}

/** Names reach subjects: one line, no control characters, whatever an old branch or a caller holds. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
  return flat.length > 200 ? flat.slice(0, 199) + '…' : flat
}

function commitMessage(subjects: string[], trailers: Array<[string, string]>): string {
  subjects = subjects.map(oneLine)
  trailers = trailers.map(([k, v]) => [oneLine(k), oneLine(v)])
  const head = subjects.length === 1 ? subjects[0]! : `${subjects.length} updates\n\n${subjects.map((s) => `- ${s}`).join('\n')}`
  const seen = new Set<string>()
  const lines = trailers.filter(([k, v]) => !seen.has(k + v) && seen.add(k + v)).map(([k, v]) => `${k}: ${v}`)
  return lines.length ? `${head}\n\n${lines.join('\n')}\n` : `${head}\n`
}
