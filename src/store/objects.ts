import { AsyncLocalStorage } from 'node:async_hooks'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import { LabbookError } from '../errors.js'
import { CatFileBatch } from './git.js'
import { assertSha1 } from './gitdir.js'
import { buildPack, deflateObject, installPack, packEntry, recordOwnPack, ROLL_AT, rollUpPacks } from './pack-write.js'

export type ObjectType = 'blob' | 'tree' | 'commit' | 'tag'

export interface TreeEntry {
  mode: string
  name: string
  oid: string
}

const TREE_MODE = '40000'

/** Objects written inside `writeBatch`, kept in memory until the batch goes out as one pack. */
interface Batch {
  objects: Map<string, { type: ObjectType; body: Uint8Array }>
  open: boolean
}

/** Objects this store packed lately, kept for its own reads (a commit reads back the trees and files it just wrote). */
const RECENT_OBJECTS = 8192
const RECENT_BYTES = 32 << 20

/**
 * The object database of one repository. Writes are our own loose objects (sync, ~0.07 ms each here, against
 * ~1.5 ms through isomorphic-git's writeBlob); reads try the loose file first and fall back to one long-lived
 * `git cat-file --batch` (the door, git.ts) for packed objects: 17x faster than isomorphic-git's readObject on the
 * same objects (bench/packed-read.ts, docs/benchmarks.md), and C git is required anyway.
 */
export class ObjectStore {
  private readonly objectsDir: string
  private readonly knownDirs = new Set<string>()
  private readonly treeCache = new Map<string, TreeEntry[]>()
  private packed: CatFileBatch | undefined
  private tmpCounter = 0
  /** Bytes written as new loose objects and packs since this store was opened (the repo-growth bench reads it). */
  bytesWritten = 0
  /** Loose objects written (the background packing counts them). */
  objectsWritten = 0
  /** Objects written in packs of our own (writeBatch), and those packs. */
  objectsPacked = 0
  packsWritten = 0
  /**
   * Whether writeBatch writes packs: on unless `LABBOOK_AUTO_PACK_OBJECTS=0` (packing off: every object stays a loose
   * file, as C git writes them).
   */
  readonly packWrites: boolean
  private readonly batches = new AsyncLocalStorage<Batch>()
  private readonly recent = new Map<string, { type: ObjectType; body: Uint8Array }>()
  private recentBytes = 0

  constructor(readonly gitdir: string) {
    // A SHA-256 repository would get SHA-1 objects it cannot read (git fsck exits 2, gc fails): refuse up front.
    assertSha1(gitdir)
    this.objectsDir = join(gitdir, 'objects')
    this.packWrites = process.env.LABBOOK_AUTO_PACK_OBJECTS !== '0'
  }

  /**
   * Runs `fn` with the objects it writes (in its async context) kept in memory, then writes them as ONE pack file and
   * its index, before this returns: a caller publishes them (moves a ref) only after. A failing `fn` writes nothing.
   * Two files per commit instead of one per object (pack-write.ts). `unused(result)` true: nothing will name the
   * objects (a commit that changed nothing is not made), so none is written.
   */
  async writeBatch<T>(fn: () => Promise<T>, unused?: (result: T) => boolean): Promise<T> {
    // A batch inside another (a store's commit started from another's) is its own: each is written before its caller
    // moves its ref.
    if (!this.packWrites) return fn()
    const batch: Batch = { objects: new Map(), open: true }
    let result: T
    try {
      result = await this.batches.run(batch, fn)
    } finally {
      batch.open = false
    }
    if (!unused?.(result)) await this.flushBatch(batch)
    return result
  }

  private async flushBatch(batch: Batch): Promise<void> {
    const all = [...batch.objects]
    if (all.length < 2) {
      for (const [, o] of all) this.writeLoose(o.type, o.body)
      return
    }
    try {
      const built = buildPack(all.map(([oid, o]) => packEntry(oid, o.type as 'blob', Buffer.from(o.body.buffer, o.body.byteOffset, o.body.byteLength))))
      this.bytesWritten += await installPack(this.gitdir, built)
      recordOwnPack(this.gitdir, built.name)
    } catch (e) {
      throw new LabbookError('IO_FAILED', `Could not write a pack of ${all.length} git objects: ${(e as Error).message}`, 'Check free disk space and permissions of .git/objects.', {}, { cause: e })
    }
    for (const [oid, o] of all) this.remember(oid, o)
    this.objectsPacked += all.length
    if (++this.packsWritten % ROLL_AT === 0) {
      await rollUpPacks(this.gitdir).catch(() => { /* the next one; git's gc also packs them */ })
    }
  }

  private remember(oid: string, o: { type: ObjectType; body: Uint8Array }): void {
    this.recent.set(oid, o)
    this.recentBytes += o.body.byteLength
    while (this.recent.size > RECENT_OBJECTS || this.recentBytes > RECENT_BYTES) {
      const [first, v] = this.recent.entries().next().value as [string, { body: Uint8Array }]
      this.recent.delete(first)
      this.recentBytes -= v.body.byteLength
    }
  }

  /** An object written in a batch still open in this context, packed lately by this store, or a commit it read lately. */
  private inMemory(oid: string): { type: ObjectType; body: Buffer } | undefined {
    const o = this.batches.getStore()?.objects.get(oid) ?? this.recent.get(oid)
    return o ? { type: o.type, body: Buffer.from(o.body.buffer, o.body.byteOffset, o.body.byteLength) } : undefined
  }

  hash(type: ObjectType, body: Uint8Array): string {
    return createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest('hex')
  }

  /**
   * Writes an object and returns its id: into the open batch (writeBatch), else as a loose file (if it is not there
   * yet; atomic: a temp file renamed into place).
   */
  write(type: ObjectType, body: Uint8Array): string {
    const batch = this.batches.getStore()
    if (batch?.open) {
      const oid = this.hash(type, body)
      if (!batch.objects.has(oid)) batch.objects.set(oid, { type, body })
      return oid
    }
    return this.writeLoose(type, body)
  }

  private writeLoose(type: ObjectType, body: Uint8Array): string {
    const header = Buffer.from(`${type} ${body.length}\0`)
    const oid = createHash('sha1').update(header).update(body).digest('hex')
    const dir = join(this.objectsDir, oid.slice(0, 2))
    const file = join(dir, oid.slice(2))
    if (this.freshen(file)) return oid
    if (!this.knownDirs.has(dir)) {
      fs.mkdirSync(dir, { recursive: true })
      this.knownDirs.add(dir)
    }
    const data = deflateObject(Buffer.concat([header, body]))
    const tmp = join(dir, `tmp_obj_lb_${process.pid}_${++this.tmpCounter}`)
    try {
      // C git's prune-packed removes emptied fan-out directories, possibly between our mkdir and our write.
      for (let attempt = 0; ; attempt++) {
        try {
          fs.writeFileSync(tmp, data)
          fs.renameSync(tmp, file)
          break
        } catch (caught) {
          const e = caught as NodeJS.ErrnoException
          if (e.code !== 'ENOENT' || attempt >= 20) throw e
          fs.mkdirSync(dir, { recursive: true })
        }
      }
    } catch (e) {
      try { fs.unlinkSync(tmp) } catch { /* already gone */ }
      throw new LabbookError('IO_FAILED', `Could not write git object ${oid}: ${(e as Error).message}`, 'Check free disk space and permissions of .git/objects.', {}, { cause: e })
    }
    this.bytesWritten += data.length
    this.objectsWritten++
    return oid
  }

  /** Like C git: an object we are about to reuse gets a new mtime, so a concurrent `git gc` does not prune it as old garbage. */
  private freshen(file: string): boolean {
    try {
      const now = new Date()
      fs.utimesSync(file, now, now)
      return true
    } catch {
      return false
    }
  }

  writeBlob(body: Uint8Array | string): string {
    return this.write('blob', typeof body === 'string' ? Buffer.from(body) : body)
  }

  writeTree(entries: TreeEntry[]): string {
    const sorted = sortTreeEntries(entries)
    const parts: Buffer[] = []
    for (const e of sorted) {
      parts.push(Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(e.oid, 'hex'))
    }
    const oid = this.write('tree', Buffer.concat(parts))
    this.treeCache.set(oid, sorted)
    return oid
  }

  writeCommit(c: { tree: string; parents: string[]; author: Signature; committer?: Signature; message: string }): string {
    let text = `tree ${c.tree}\n`
    for (const p of c.parents) text += `parent ${p}\n`
    text += `author ${formatSignature(c.author)}\ncommitter ${formatSignature(c.committer ?? c.author)}\n\n${c.message}`
    if (!text.endsWith('\n')) text += '\n'
    return this.write('commit', Buffer.from(text))
  }

  async read(oid: string): Promise<{ type: ObjectType; body: Buffer }> {
    const mem = this.inMemory(oid)
    if (mem) return mem
    const file = join(this.objectsDir, oid.slice(0, 2), oid.slice(2))
    let raw: Buffer | undefined
    // A fresh clone has no loose objects: a failed open per object (an exception each) costs a cold listing of
    // 768 objects ~10% of its time. Fan-out directories absent when first listed go straight to cat-file, which
    // reads loose objects too, so one made since by another process is still found.
    if (this.mayBeLoose(oid)) {
      try {
        raw = inflateSync(fs.readFileSync(file))
      } catch (caught) {
        const e = caught as NodeJS.ErrnoException
        if (e?.code !== 'ENOENT') throw new LabbookError('CORRUPT_DATA', `Git object ${oid} is damaged: ${e.message}`, 'Run `git fsck` on the repository.', { oid }, { cause: e })
      }
    }
    if (raw) {
      const nul = raw.indexOf(0)
      const type = raw.subarray(0, raw.indexOf(32)).toString() as ObjectType
      return { type, body: raw.subarray(nul + 1) }
    }
    // C git's gc may move a loose object into a new pack between our two looks: re-list packs and look again.
    for (let attempt = 0; ; attempt++) {
      let e: unknown
      try {
        const r = await (this.packed ??= new CatFileBatch(this.gitdir)).read(oid)
        if (r) return { type: r.type as ObjectType, body: r.body }
      } catch (err) {
        e = err
      }
      {
        if (attempt < 3) {
          await new Promise((r) => setTimeout(r, 20 * (attempt + 1)))
          const again = this.readLoose(oid)
          if (again) return again
          continue
        }
        throw new LabbookError('CORRUPT_DATA', `Git object ${oid} is missing from ${this.gitdir}.`, 'The branch refers to an object that is not in the repository: fetch it again or run `git fsck`.', { oid }, { cause: e })
      }
    }
  }

  private fanOut: Set<string> | undefined

  private mayBeLoose(oid: string): boolean {
    if (!this.fanOut) {
      try {
        this.fanOut = new Set(fs.readdirSync(this.objectsDir).filter((d) => d.length === 2))
      } catch {
        return true
      }
    }
    const dir = oid.slice(0, 2)
    return this.fanOut.has(dir) || this.knownDirs.has(join(this.objectsDir, dir))
  }

  private readLoose(oid: string): { type: ObjectType; body: Buffer } | undefined {
    try {
      const raw = inflateSync(fs.readFileSync(join(this.objectsDir, oid.slice(0, 2), oid.slice(2))))
      return { type: raw.subarray(0, raw.indexOf(32)).toString() as ObjectType, body: raw.subarray(raw.indexOf(0) + 1) }
    } catch {
      return undefined
    }
  }

  async readTree(oid: string): Promise<TreeEntry[]> {
    const cached = this.treeCache.get(oid)
    if (cached) return cached
    const { type, body } = await this.read(oid)
    if (type !== 'tree') throw new LabbookError('CORRUPT_DATA', `Object ${oid} is a ${type}, expected a tree.`)
    const entries = parseTree(body)
    if (this.treeCache.size > 50_000) this.treeCache.clear()
    this.treeCache.set(oid, entries)
    return entries
  }

  async readBlob(oid: string): Promise<Buffer> {
    const { type, body } = await this.read(oid)
    if (type !== 'blob') throw new LabbookError('CORRUPT_DATA', `Object ${oid} is a ${type}, expected a blob.`)
    return body
  }

  /**
   * A blob as the pieces git's pipe delivered it in (CatFileBatch.readParts: laid end to end they are the blob), for
   * a reader that scans it and keeps views, not one copy. A blob this process holds or that may be loose, and any
   * failed read, go the way of readBlob (one piece).
   */
  async readBlobParts(oid: string): Promise<Buffer[]> {
    if (!this.inMemory(oid) && !this.mayBeLoose(oid)) {
      const r = await (this.packed ??= new CatFileBatch(this.gitdir)).readParts(oid).catch(() => undefined)
      if (r?.type === 'blob') return r.parts ?? [r.body]
    }
    return [await this.readBlob(oid)]
  }

  async readCommit(oid: string): Promise<{ tree: string; parents: string[]; message: string; time: number }> {
    // a commit never changes under its id: the branch tip is read on every head() (a server reads it for each
    // create, to look its experiment up), so a commit read through git is kept with the objects this store holds in
    // memory (remember) and read again from there, not through a pipe round trip to git each time
    const held = this.inMemory(oid) !== undefined
    const { type, body } = await this.read(oid)
    if (type !== 'commit') throw new LabbookError('CORRUPT_DATA', `Object ${oid} is a ${type}, expected a commit.`)
    if (!held) this.remember(oid, { type, body })
    const text = body.toString('utf8')
    const end = text.indexOf('\n\n')
    const head = text.slice(0, end < 0 ? text.length : end)
    const tree = /^tree ([0-9a-f]{40})$/m.exec(head)?.[1]
    if (!tree) throw new LabbookError('CORRUPT_DATA', `Commit ${oid} has no tree.`)
    const parents = [...head.matchAll(/^parent ([0-9a-f]{40})$/gm)].map((m) => m[1]!)
    const time = Number(/^committer .* (\d+) [+-]\d{4}$/m.exec(head)?.[1] ?? 0) * 1000
    return { tree, parents, message: end < 0 ? '' : text.slice(end + 2), time }
  }

  /** Whether the object exists (loose or packed). */
  async has(oid: string): Promise<boolean> {
    if (this.inMemory(oid)) return true
    if (fs.existsSync(join(this.objectsDir, oid.slice(0, 2), oid.slice(2)))) return true
    try {
      return (await (this.packed ??= new CatFileBatch(this.gitdir)).read(oid)) !== undefined
    } catch {
      return false
    }
  }
}

export interface Signature {
  name: string
  email: string
  /** ms since epoch */
  time: number
}

function formatSignature(s: Signature): string {
  const clean = (v: string) => v.replace(/[<>\n]/g, '')
  return `${clean(s.name)} <${clean(s.email)}> ${Math.floor(s.time / 1000)} +0000`
}

export function parseTree(body: Buffer): TreeEntry[] {
  const out: TreeEntry[] = []
  let i = 0
  while (i < body.length) {
    const space = body.indexOf(32, i)
    const nul = body.indexOf(0, space)
    const mode = body.toString('latin1', i, space)
    const name = body.toString('utf8', space + 1, nul)
    const oid = body.toString('hex', nul + 1, nul + 21)
    out.push({ mode: mode === '040000' ? TREE_MODE : mode, name, oid })
    i = nul + 21
  }
  return out
}

export function isTreeMode(mode: string): boolean {
  return mode === TREE_MODE || mode === '040000'
}

/**
 * Entries in git's order, cheaply: UTF-16 code-unit order is UTF-8 byte order for names without surrogate pairs, so
 * those sort as strings (a commit rewrites the 256-entry runs/ tree and a shard tree of runs/256 entries; comparing
 * through two Buffers per comparison was most of writeTree's time); other names go through compareTreeEntries.
 */
export function sortTreeEntries(entries: TreeEntry[]): TreeEntry[] {
  const keyed = entries.map((e) => ({ e, k: isTreeMode(e.mode) ? e.name + '/' : e.name }))
  if (keyed.some((x) => SURROGATE.test(x.k))) return entries.slice().sort(compareTreeEntries)
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
  return keyed.map((x) => x.e)
}

const SURROGATE = /[\ud800-\udfff]/

/** Git's order: byte order of names, with directories compared as if their name ended in "/". */
export function compareTreeEntries(a: TreeEntry, b: TreeEntry): number {
  const an = Buffer.from(isTreeMode(a.mode) ? a.name + '/' : a.name)
  const bn = Buffer.from(isTreeMode(b.mode) ? b.name + '/' : b.name)
  return Buffer.compare(an, bn)
}

export const MODES = { tree: TREE_MODE, file: '100644', executable: '100755', symlink: '120000' } as const
