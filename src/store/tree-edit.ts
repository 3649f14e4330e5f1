import { isTreeMode, MODES, type ObjectStore, type TreeEntry } from './objects.js'

/** One edit of a tree: put a blob (or a whole subtree) at a path, or remove what is there. */
export type TreeChange =
  | { path: string; blob: string; mode?: string }
  | { path: string; tree: string }
  | { path: string; remove: true }

interface EditNode {
  leaf?: TreeChange
  children: Map<string, EditNode>
}

/**
 * Rewrites only the trees on the paths of the changes and returns the new root tree id. Everything else is shared
 * with the old tree, so a commit that touches one run writes a handful of small trees however big the branch is.
 */
export async function editTree(store: ObjectStore, root: string | null, changes: TreeChange[]): Promise<string> {
  const top: EditNode = { children: new Map() }
  for (const c of changes) {
    let node = top
    for (const part of c.path.split('/')) {
      let next = node.children.get(part)
      if (!next) node.children.set(part, (next = { children: new Map() }))
      node = next
    }
    node.leaf = c
    node.children.clear()
  }
  return (await rewrite(store, root, top)) ?? store.writeTree([])
}

async function rewrite(store: ObjectStore, oid: string | null, node: EditNode): Promise<string | null> {
  const entries = new Map<string, TreeEntry>()
  if (oid) for (const e of await store.readTree(oid)) entries.set(e.name, e)
  for (const [name, child] of node.children) {
    const leaf = child.leaf
    if (leaf && 'remove' in leaf) entries.delete(name)
    else if (leaf && 'blob' in leaf) entries.set(name, { mode: leaf.mode ?? MODES.file, name, oid: leaf.blob })
    else if (leaf && 'tree' in leaf) entries.set(name, { mode: MODES.tree, name, oid: leaf.tree })
    else {
      const existing = entries.get(name)
      const sub = await rewrite(store, existing && isTreeMode(existing.mode) ? existing.oid : null, child)
      if (sub === null) entries.delete(name)
      else entries.set(name, { mode: MODES.tree, name, oid: sub })
    }
  }
  if (entries.size === 0) return null
  return store.writeTree([...entries.values()])
}

/** Reads the entry at `path` below a root tree, or undefined. */
export async function lookup(store: ObjectStore, root: string, path: string): Promise<TreeEntry | undefined> {
  let entry: TreeEntry = { mode: MODES.tree, name: '', oid: root }
  if (path === '') return entry
  for (const part of path.split('/')) {
    if (!isTreeMode(entry.mode)) return undefined
    const found = (await store.readTree(entry.oid)).find((e) => e.name === part)
    if (!found) return undefined
    entry = found
  }
  return entry
}

/** Every file below a tree, as paths relative to it. */
export async function walkFiles(store: ObjectStore, tree: string, prefix = ''): Promise<Array<TreeEntry & { path: string }>> {
  const out: Array<TreeEntry & { path: string }> = []
  for (const e of await store.readTree(tree)) {
    const path = prefix ? `${prefix}/${e.name}` : e.name
    if (isTreeMode(e.mode)) out.push(...(await walkFiles(store, e.oid, path)))
    else out.push({ ...e, path })
  }
  return out
}
