import { LabbookError } from '../errors.js'
import { isTreeMode, type ObjectStore, type TreeEntry } from './objects.js'
import { lookup, walkFiles } from './tree-edit.js'

/** Read-only access to the files of one tree (one revision of the branch). */
export class TreeView {
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
