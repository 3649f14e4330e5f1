import { LabbookError } from '../errors.js'
import { isTreeMode, type ObjectStore, type TreeEntry } from './objects.js'
import { editTree, lookup, walkFiles, type TreeChange } from './tree-edit.js'

/** Read-only access to the files of one tree (one revision of the branch). */
export class TreeView {
  /** The tree read (a PendingTree's view: the tree its pending changes are laid over; read it through the methods). */
  constructor(readonly store: ObjectStore, readonly tree: string) {}

  entry(path: string): Promise<TreeEntry | undefined> {
    return lookup(this.store, this.tree, path)
  }

  /** Entries of a directory, or [] when it does not exist. */
  async list(dir: string): Promise<TreeEntry[]> {
    const e = await this.entry(dir)
    return e && isTreeMode(e.mode) ? this.store.readTree(e.oid) : []
  }

  async readBytes(path: string): Promise<Buffer | undefined> {
    const e = await this.entry(path)
    if (!e || isTreeMode(e.mode)) return undefined
    return this.store.readBlob(e.oid)
  }

  async readText(path: string): Promise<string | undefined> {
    return (await this.readBytes(path))?.toString('utf8')
  }

  async mustReadText(path: string): Promise<string> {
    const t = await this.readText(path)
    if (t === undefined) throw new LabbookError('CORRUPT_DATA', `${path} is missing from the branch.`)
    return t
  }

  async files(dir: string): Promise<Array<TreeEntry & { path: string }>> {
    const e = await this.entry(dir)
    return e && isTreeMode(e.mode) ? walkFiles(this.store, e.oid) : []
  }
}

/**
 * The tree of a group commit while its edits are built one after the other: the changes of the edits built so far
 * stay pending (no trees written) and each next edit reads through a view that sees them: a read whose path they
 * touch (the path, a folder above it or a file below it) applies them first. Edits of different runs touch different
 * folders, so a group commit of N runs writes the shared trees (the root, runs/, each shard) once instead of N times.
 */
export class PendingTree {
  private pending: TreeChange[] = []
  /** Paths of the pending changes, and every folder above them ('' is the root). */
  private readonly changed = new Set<string>()
  private readonly above = new Set<string>()

  constructor(private readonly store: ObjectStore, private current: string) {}

  /** The tree with the pending changes applied (writing its new trees). */
  async apply(): Promise<string> {
    if (this.pending.length) {
      this.current = await editTree(this.store, this.current, this.pending)
      this.pending = []
      this.changed.clear()
      this.above.clear()
    }
    return this.current
  }

  /** Lays an edit's changes over the others; changes that touch pending paths (ancestor, descendant or the same) apply those first. */
  async add(changes: TreeChange[]): Promise<void> {
    if (changes.some((c) => this.touches(c.path))) await this.apply()
    for (const c of changes) {
      this.pending.push(c)
      this.changed.add(c.path)
      for (let dir = c.path; dir !== '';) {
        dir = parentOf(dir)
        if (this.above.has(dir)) break // and so are the folders above it
        this.above.add(dir)
      }
    }
  }

  /** The tree the pending changes are laid over, and those changes (for the caller to apply in its last rewrite). */
  take(): { tree: string; pending: TreeChange[] } {
    const out = { tree: this.current, pending: this.pending }
    this.pending = []
    this.changed.clear()
    this.above.clear()
    return out
  }

  /** A view of the tree with the pending changes, as each edit's builder reads it. */
  view(): TreeView {
    return new PendingView(this.store, this.current, this)
  }

  /** @internal the tree to read `path` from (pending changes that touch it applied). */
  async rootFor(path: string): Promise<string> {
    return this.touches(path) ? this.apply() : this.current
  }

  private touches(path: string): boolean {
    if (this.pending.length === 0) return false
    if (this.above.has(path)) return true
    for (let p = path; p !== ''; p = parentOf(p)) if (this.changed.has(p)) return true
    return false
  }
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/')
  return i < 0 ? '' : path.slice(0, i)
}

class PendingView extends TreeView {
  constructor(store: ObjectStore, base: string, private readonly layers: PendingTree) {
    super(store, base)
  }

  override async entry(path: string): Promise<TreeEntry | undefined> {
    return lookup(this.store, await this.layers.rootFor(path), path)
  }
}
