/**
 * Writing git pack files in-process: a branch commit's new objects go out as ONE pack (+ its .idx), not one loose
 * file each. A group commit of ten runs writes ~70 objects; as loose files that is 70 temporary files and 70 renames
 * (and the metadata journal traffic that comes with them, which is what a run's fdatasync then waits behind); as a
 * pack it is two files. Packs we write are listed in `.git/labbook/packs` and rolled up geometrically (the smallest
 * ones merged into one whenever ROLL_AT of them exist), so the repository holds a bounded number of them: C git's
 * `gc --auto` starts a full repack in the user's next `git commit` past 50 packs (gc.autoPackLimit).
 * Format: git's pack v2 (no deltas) and .idx v2 (Documentation/gitformat-pack.txt).
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { join } from 'node:path'
import zlib, { deflateSync } from 'node:zlib'
import { packLockHeld } from './pack.js'
import { processAlive, testCrashPoint, thisProcess, type ProcessId } from './process.js'

export type PackObjectType = 'commit' | 'tree' | 'blob' | 'tag'

const TYPE_CODE: Record<PackObjectType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 }
/** Own packs at which a roll-up is tried. */
export const ROLL_AT = 16
/**
 * The most entry bytes one roll-up writes (16 MiB; `$LABBOOK_ROLL_MAX_BYTES` for tests). Geometric merging alone copies
 * each object O(log n) times, but then one run's commit may rewrite half the repository (a 100,000-run branch's packs
 * in one go); capped, a roll-up costs at most this (~0.2 s) and each object is copied at most ~log2(cap / one commit)
 * times, whatever the repository's size. Packs this big are left to `labbook gc` and C git's gc (past 50 packs).
 */
export function rollMaxBytes(): number {
  const n = Number(process.env.LABBOOK_ROLL_MAX_BYTES)
  return n > 0 ? n : 16 << 20
}
const IDX_MAGIC = Buffer.from([0xff, 0x74, 0x4f, 0x63])

/** One object as it sits in a pack: its id and its entry bytes (type/size header + zlib data). */
interface Entry {
  oid: string
  raw: Buffer
}

export function packEntry(oid: string, type: PackObjectType, body: Buffer): Entry {
  let size = body.length
  const head: number[] = []
  let byte = (TYPE_CODE[type] << 4) | (size & 15)
  size = Math.floor(size / 16)
  while (size > 0) {
    head.push(byte | 0x80)
    byte = size & 0x7f
    size = Math.floor(size / 128)
  }
  head.push(byte)
  return { oid, raw: Buffer.concat([Buffer.from(head), deflateObject(body)]) }
}

/** Objects smaller than this are stored in their zlib stream uncompressed (see deflateObject). */
export const STORED_BELOW = 1024

/**
 * An object's zlib stream. Below STORED_BELOW bytes (a run.yaml, a run's trees, a summary line file of a few runs:
 * nearly all a run writes) one stored block, written here: zlib's deflate costs ~100-200 µs a call in a busy
 * process (a native stream set up and torn down per object; measured 220 µs a call in bench/scale.ts's loop, 9 a
 * run) to save ~30% of a few hundred bytes. git reads any valid zlib stream (its own core.compression 0 writes
 * these), and `git gc` recompresses. Larger objects: zlib level 1 with a window no larger than the object needs
 * (git inflates any window size up to 32 KB): the default 32 KB window and 8 memLevel allocate ~384 KB of state per
 * call; the compressed size is the same while the object fits the window.
 */
export function deflateObject(body: Uint8Array): Buffer {
  if (body.length < STORED_BELOW) return storedZlib(body)
  const windowBits = Math.min(15, Math.max(9, Math.ceil(Math.log2(body.length + 262))))
  return deflateSync(body, { level: 1, windowBits, memLevel: Math.min(8, windowBits - 7) })
}

/** A zlib stream of one stored (uncompressed) final block: header, LEN/NLEN, the bytes, Adler-32 (RFC 1950/1951). */
export function storedZlib(body: Uint8Array): Buffer {
  const n = body.length
  if (n > 0xffff) throw new RangeError('one stored block holds at most 65535 bytes')
  const out = Buffer.allocUnsafe(2 + 5 + n + 4)
  out[0] = 0x78 // deflate, 32 KB window
  out[1] = 0x01 // no dictionary, fastest; (0x78 << 8 | 0x01) % 31 === 0
  out[2] = 0x01 // BFINAL, BTYPE 00 (stored)
  out.writeUInt16LE(n, 3)
  out.writeUInt16LE(~n & 0xffff, 5)
  out.set(body, 7)
  let a = 1, b = 0
  for (let i = 0; i < n; i++) {
    a += body[i]!
    b += a
  }
  // n < 65536 bytes of at most 255: a < 2^24 and b < 2^41 before the reductions, exact in doubles
  out.writeUInt32BE((((b % 65521) << 16) | (a % 65521)) >>> 0, 7 + n)
  return out
}

const crcTable = (() => {
  const t = new Int32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c
  }
  return t
})()

/** CRC-32 (zlib's), for the .idx; node:zlib has it from Node 20.15. */
export function crc32(b: Uint8Array): number {
  const native = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32
  if (native) return native(b)
  let c = -1
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ -1) >>> 0
}

/** The pack and .idx bytes for entries (duplicates by id are dropped: the first is kept). */
export function buildPack(entries: Entry[]): { name: string; pack: Buffer; idx: Buffer; count: number } {
  const seen = new Set<string>()
  const unique = entries.filter((e) => !seen.has(e.oid) && seen.add(e.oid))
  const header = Buffer.alloc(12)
  header.write('PACK', 0, 'latin1')
  header.writeUInt32BE(2, 4)
  header.writeUInt32BE(unique.length, 8)
  const parts: Buffer[] = [header]
  const offsets = new Map<string, number>()
  let offset = 12
  for (const e of unique) {
    offsets.set(e.oid, offset)
    parts.push(e.raw)
    offset += e.raw.length
  }
  const body = Buffer.concat(parts)
  const packSum = createHash('sha1').update(body).digest()
  const pack = Buffer.concat([body, packSum])
  const sorted = unique.map((e) => e.oid).sort()
  const raws = new Map(unique.map((e) => [e.oid, e.raw]))
  const n = sorted.length
  const idx = Buffer.alloc(8 + 1024 + n * 28 + 40)
  IDX_MAGIC.copy(idx, 0)
  idx.writeUInt32BE(2, 4)
  const fanout = new Uint32Array(256)
  for (const oid of sorted) fanout[parseInt(oid.slice(0, 2), 16)]!++
  let acc = 0
  for (let i = 0; i < 256; i++) {
    acc += fanout[i]!
    idx.writeUInt32BE(acc, 8 + i * 4)
  }
  let p = 8 + 1024
  for (const oid of sorted) p += idx.write(oid, p, 'hex')
  for (const oid of sorted) { idx.writeUInt32BE(crc32(raws.get(oid)!), p); p += 4 }
  for (const oid of sorted) { idx.writeUInt32BE(offsets.get(oid)!, p); p += 4 }
  packSum.copy(idx, p)
  p += 20
  createHash('sha1').update(idx.subarray(0, p)).digest().copy(idx, p)
  return { name: `pack-${packSum.toString('hex')}`, pack, idx, count: n }
}

let tmpCounter = 0

/**
 * Puts a pack in objects/pack: the .pack first, then the .idx (git sees a pack by its .idx). Returns its size.
 * C git's `repack -d` (run by `git gc`) lists the packs it deletes afterwards by their `*.pack` files, while its
 * pack-objects sees only packs with an .idx: a .pack whose .idx is not there yet would be deleted unread, and the
 * objects in it lost once a ref names them. So, as git's index-pack does for a fetch, a `.keep` is written before the
 * .pack (repack leaves kept packs alone) and removed once the .idx is in place (from then on repack reads the pack);
 * and the temporary files' names end in neither `.pack` nor `.idx` (git's own `tmp_pack_`/`tmp_idx_`; a C git
 * `prune` removes them two weeks after a crash). test/store/pack-write.test.ts runs repack in that window.
 * Through the thread pool: a commit in the background must not hold the event loop while these creates and renames
 * wait for the filesystem's journal (on ext4 they queue behind a concurrent fdatasync's journal commit, which is
 * exactly when the foreground is waiting for its own).
 */
export async function installPack(gitdir: string, built: { name: string; pack: Buffer; idx: Buffer }): Promise<number> {
  const dir = join(gitdir, 'objects', 'pack')
  const n = `lb_${process.pid}_${++tmpCounter}`
  const tmpPack = join(dir, `tmp_pack_${n}`)
  const tmpIdx = join(dir, `tmp_idx_${n}`)
  const final = join(dir, built.name)
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.promises.writeFile(final + '.keep', keepText())
      break
    } catch (caught) {
      const e = caught as NodeJS.ErrnoException
      if (e.code !== 'ENOENT' || attempt > 0) throw e
      await fs.promises.mkdir(dir, { recursive: true })
    }
  }
  try {
    await fs.promises.writeFile(tmpPack, built.pack)
    await fs.promises.rename(tmpPack, final + '.pack')
    await testPause()
    await fs.promises.writeFile(tmpIdx, built.idx)
    await fs.promises.rename(tmpIdx, final + '.idx')
    testCrashPoint('pack-installed')
  } catch (e) {
    for (const f of [tmpPack, tmpIdx]) await fs.promises.unlink(f).catch(() => { /* gone */ })
    throw e
  } finally {
    await fs.promises.unlink(final + '.keep').catch(() => { /* gone */ })
  }
  if (!swept.has(gitdir)) {
    swept.add(gitdir)
    removeDeadKeeps(gitdir)
  }
  return built.pack.length
}

/** Repositories whose leftover .keep files this process has looked for (once each, at its first pack). */
const swept = new Set<string>()
const KEEP_TAG = 'labbook installing '

/** What installPack's .keep says: who is installing (pid, host, start time), so a leftover can be proven dead. */
function keepText(): string {
  return KEEP_TAG + JSON.stringify(thisProcess()) + '\n'
}

/**
 * Removes the `.keep` files a killed labbook writer left between its .idx and the keep's removal (the pack then stays
 * out of every `git repack`, forever). Only keeps installPack wrote (`labbook installing {pid, host, started}`), whose
 * writer is dead (processAlive: same host, pid gone or reused) and whose .pack and .idx are both in place (a complete
 * pack: git reads it from then on, so nothing depends on the keep any more, even if a live writer is installing a
 * byte-identical pack at that moment). Keeps git or the user wrote are never touched. Runs at each process's first
 * pack and in `labbook gc`; returns the keeps removed.
 */
export function removeDeadKeeps(gitdir: string): string[] {
  const dir = join(gitdir, 'objects', 'pack')
  const removed: string[] = []
  try {
    for (const f of fs.readdirSync(dir)) {
      if (!/^pack-[0-9a-f]{40}(?:[0-9a-f]{24})?\.keep$/.test(f)) continue
      const base = join(dir, f.slice(0, -'.keep'.length))
      try {
        const text = fs.readFileSync(base + '.keep', 'utf8')
        if (!text.startsWith(KEEP_TAG) || !text.endsWith('\n')) continue
        const who = JSON.parse(text.slice(KEEP_TAG.length)) as ProcessId
        if (typeof who.pid !== 'number' || typeof who.host !== 'string' || processAlive(who)) continue
        if (!fs.existsSync(base + '.pack') || !fs.existsSync(base + '.idx')) continue
        fs.unlinkSync(base + '.keep')
        removed.push(f)
      } catch { /* unreadable or gone: not ours to judge */ }
    }
  } catch { /* no pack directory */ }
  return removed
}

/**
 * Test-only: `LABBOOK_TEST_PACK_DELAY_MS=ms` waits (without blocking the event loop) between the .pack and the .idx of
 * installPack, so a test can run C git in that window. Unset, it costs one lookup.
 */
function testPause(): Promise<void> | undefined {
  const ms = Number(process.env.LABBOOK_TEST_PACK_DELAY_MS)
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : undefined
}

function listFile(gitdir: string): string {
  return join(gitdir, 'labbook', 'packs')
}

/** Records a pack as ours (a line in .git/labbook/packs; appends of one line are atomic). */
export function recordOwnPack(gitdir: string, name: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.appendFileSync(listFile(gitdir), name + '\n')
      return
    } catch (caught) {
      const e = caught as NodeJS.ErrnoException
      if (e.code !== 'ENOENT') return // an unlisted pack is only never rolled up; git's own gc takes it
      fs.mkdirSync(join(gitdir, 'labbook'), { recursive: true })
    }
  }
}

/** The entries of a pack we wrote (no deltas), read back through its .idx; undefined if it is not such a pack. */
function readEntries(dir: string, name: string): Entry[] | undefined {
  let idx: Buffer, pack: Buffer
  try {
    idx = fs.readFileSync(join(dir, name + '.idx'))
    pack = fs.readFileSync(join(dir, name + '.pack'))
  } catch {
    return undefined
  }
  if (idx.length < 1072 || !idx.subarray(0, 4).equals(IDX_MAGIC) || idx.readUInt32BE(4) !== 2) return undefined
  const n = idx.readUInt32BE(8 + 255 * 4)
  if (idx.length !== 8 + 1024 + n * 28 + 40 || pack.toString('latin1', 0, 4) !== 'PACK') return undefined
  const items: Array<{ oid: string; offset: number }> = []
  for (let i = 0; i < n; i++) {
    const offset = idx.readUInt32BE(8 + 1024 + n * 24 + i * 4)
    if (offset & 0x80000000) return undefined
    items.push({ oid: idx.toString('hex', 8 + 1024 + i * 20, 8 + 1024 + i * 20 + 20), offset })
  }
  items.sort((a, b) => a.offset - b.offset)
  const out: Entry[] = []
  for (let i = 0; i < n; i++) {
    const start = items[i]!.offset
    const end = i + 1 < n ? items[i + 1]!.offset : pack.length - 20
    const type = (pack[start]! >> 4) & 7
    if (type < 1 || type > 4) return undefined // a delta: not one of ours
    out.push({ oid: items[i]!.oid, raw: pack.subarray(start, end) })
  }
  return out
}

/**
 * Merges our smallest packs into one when ROLL_AT or more exist (geometric: the smallest, then the next while it is at
 * most twice what is taken so far, so a big pack is not rewritten for a few small ones and each object is copied
 * O(log n) times; and never more than rollMaxBytes() in all, so no run's commit pays for the repository's size). Under .git/labbook/pack.lock (exclusive create; skipped when held). The merged pack is in place
 * before the small ones go, so every object stays readable throughout. Returns the number of packs merged.
 */
export async function rollUpPacks(gitdir: string): Promise<number> {
  const lock = join(gitdir, 'labbook', 'pack.lock')
  let fd: number
  try {
    if (packLockHeld(gitdir)) return 0 // (and a dead holder's lock is removed)
    fd = fs.openSync(lock, 'wx')
  } catch {
    return 0
  }
  try {
    fs.writeSync(fd, JSON.stringify(thisProcess()))
    fs.closeSync(fd)
    const dir = join(gitdir, 'objects', 'pack')
    let names: string[]
    try {
      names = [...new Set(fs.readFileSync(listFile(gitdir), 'utf8').split('\n').filter((l) => /^pack-[0-9a-f]{40}$/.test(l)))]
    } catch {
      return 0
    }
    const live = names.flatMap((name) => {
      try {
        fs.statSync(join(dir, name + '.idx'))
        return [{ name, size: fs.statSync(join(dir, name + '.pack')).size - 32 }] // the entries' bytes (header and trailer: 32)
      } catch {
        return [] // repacked by git, or merged already
      }
    })
    if (live.length < ROLL_AT) {
      if (live.length < names.length) writeList(gitdir, live.map((p) => p.name), names)
      return 0
    }
    live.sort((a, b) => a.size - b.size)
    const cap = rollMaxBytes()
    let take = 1
    let sum = live[0]!.size
    while (take < live.length && live[take]!.size <= 2 * sum && sum + live[take]!.size <= cap) sum += live[take++]!.size
    if (take < 2) return 0
    const entries: Entry[] = []
    const merged: string[] = []
    for (const p of live.slice(0, take)) {
      const e = readEntries(dir, p.name)
      if (!e) continue
      entries.push(...e)
      merged.push(p.name)
    }
    if (merged.length < 2) return 0
    const built = buildPack(entries)
    await installPack(gitdir, built)
    for (const name of merged) {
      if (name === built.name) continue
      for (const ext of ['.idx', '.pack']) try { fs.unlinkSync(join(dir, name + ext)) } catch { /* gone */ }
    }
    const keep = live.map((p) => p.name).filter((n) => !merged.includes(n))
    writeList(gitdir, [...keep, built.name], names)
    return merged.length
  } finally {
    try { fs.unlinkSync(lock) } catch { /* gone */ }
  }
}

/** Rewrites the list; lines appended since it was read (`seen` did not have them) are kept. */
function writeList(gitdir: string, names: string[], seen: string[]): void {
  const file = listFile(gitdir)
  let added: string[] = []
  try {
    const known = new Set(seen)
    added = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l && !known.has(l))
  } catch { /* gone */ }
  try {
    fs.writeFileSync(file + '.tmp', [...names, ...added].map((n) => n + '\n').join(''))
    fs.renameSync(file + '.tmp', file)
  } catch { /* next roll-up */ }
}
