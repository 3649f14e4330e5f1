// A branch commit's objects go out as one pack (src/store/pack-write.ts): git reads every object of it, fsck is clean,
// a failed commit writes nothing, and our packs are rolled up so their number stays bounded.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { ObjectStore } from '../../src/store/objects.js'
import { deflateObject, ROLL_AT, rollUpPacks, STORED_BELOW, storedZlib } from '../../src/store/pack-write.js'
import { thisProcess } from '../../src/store/process.js'
import { collect, ensureBuilt, runCli, startCli } from '../helpers/cli.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo | undefined
afterEach(() => {
  repo?.cleanup()
  repo = undefined
})

const packs = (dir: string) => fs.readdirSync(join(dir, '.git', 'objects', 'pack')).filter((f) => f.endsWith('.idx')).sort()
const loose = (r: TestRepo) => Number(/^count: (\d+)/m.exec(r.git('count-objects', '-v'))![1])
/** Every id is a blob git finds (one `cat-file --batch-check`). */
function expectBlobs(dir: string, oids: string[]): void {
  const out = execFileSync('git', ['cat-file', '--batch-check'], { cwd: dir, input: oids.join('\n') + '\n', encoding: 'utf8' })
  expect(out.trim().split('\n').map((l) => l.split(' ')[1])).toEqual(oids.map(() => 'blob'))
}
const fsck = (r: TestRepo) => r.git('fsck', '--strict', '--no-progress', '--no-dangling').trim()

describe('writing a batch of objects as one pack', () => {
  it('writes one pack git reads (verify-pack, cat-file), with nothing loose; a fresh reader reads it through git', async () => {
    repo = gitRepo()
    const gitdir = join(repo.dir, '.git')
    const objects = new ObjectStore(gitdir)
    const before = loose(repo)
    const big = Buffer.alloc(70_000, 'ab') // sizes past one header byte
    const { blobs, tree } = await objects.writeBatch(async () => {
      const blobs = ['one\n', 'two\n', big.toString(), ''].map((t) => objects.writeBlob(t))
      const tree = objects.writeTree(blobs.map((oid, i) => ({ mode: '100644', name: `f${i}`, oid })))
      // read back inside the batch: from memory
      expect((await objects.readBlob(blobs[0]!)).toString()).toBe('one\n')
      return { blobs, tree }
    })
    expect(loose(repo)).toBe(before)
    const [idx] = packs(repo.dir)
    expect(idx).toMatch(/^pack-[0-9a-f]{40}\.idx$/)
    const verify = repo.git('verify-pack', '-v', join(gitdir, 'objects', 'pack', idx!))
    expect(verify).toMatch(/ok$/m)
    expect(verify).toMatch(new RegExp(`^${tree} tree`, 'm'))
    expect(repo.git('cat-file', '-p', blobs[1]!)).toBe('two\n')
    expect(repo.git('cat-file', '-s', blobs[2]!).trim()).toBe('70000')
    expect(repo.git('ls-tree', tree).trim().split('\n')).toHaveLength(4)
    const fresh = new ObjectStore(gitdir) // nothing in memory: through git cat-file --batch
    expect((await fresh.readBlob(blobs[2]!)).equals(big)).toBe(true)
    expect((await fresh.readTree(tree)).map((e) => e.name)).toEqual(['f0', 'f1', 'f2', 'f3'])
    expect(fs.readFileSync(join(gitdir, 'labbook', 'packs'), 'utf8')).toBe(idx!.replace('.idx', '') + '\n')
  })

  it('stores small objects in a zlib stream of one stored block that zlib inflates and checks (Adler-32), any bytes', () => {
    for (const n of [0, 1, 2, 100, 1023, 5552, 5553, 65535]) {
      for (const body of [randomBytes(n), Buffer.alloc(n, 0xff), Buffer.alloc(n, 0)]) {
        const z = storedZlib(body)
        expect(z.length).toBe(n + 11)
        expect(inflateSync(z).equals(body)).toBe(true) // zlib verifies the header check bits and the Adler-32
      }
    }
    const small = Buffer.from('id: x\n'.repeat(100))
    expect(small.length).toBeLessThan(STORED_BELOW)
    expect(deflateObject(small)).toEqual(storedZlib(small))
    const large = Buffer.from('id: x\n'.repeat(1000))
    expect(deflateObject(large).length).toBeLessThan(large.length / 10)
    expect(inflateSync(deflateObject(large)).equals(large)).toBe(true)
  })

  it('a batch whose work fails writes nothing; with LABBOOK_AUTO_PACK_OBJECTS=0 objects stay loose', async () => {
    repo = gitRepo()
    const gitdir = join(repo.dir, '.git')
    const objects = new ObjectStore(gitdir)
    const before = loose(repo)
    await expect(objects.writeBatch(async () => {
      objects.writeBlob('lost 1')
      objects.writeBlob('lost 2')
      throw new Error('boom')
    })).rejects.toThrow('boom')
    expect(packs(repo.dir)).toEqual([])
    expect(loose(repo)).toBe(before)
    process.env.LABBOOK_AUTO_PACK_OBJECTS = '0'
    try {
      const plain = new ObjectStore(gitdir)
      await plain.writeBatch(async () => { plain.writeBlob('a'); plain.writeBlob('b') })
      expect(loose(repo)).toBe(before + 2)
      expect(packs(repo.dir)).toEqual([])
    } finally {
      delete process.env.LABBOOK_AUTO_PACK_OBJECTS
    }
  })

  it('rolls our packs up (geometric), keeping every object readable and fsck clean', async () => {
    repo = gitRepo()
    const gitdir = join(repo.dir, '.git')
    const objects = new ObjectStore(gitdir)
    const written: string[] = []
    // 15 packs: below ROLL_AT, nothing rolls up (the store tries at every ROLL_AT-th pack it writes)
    for (let i = 0; i < ROLL_AT - 1; i++) {
      await objects.writeBatch(async () => { written.push(objects.writeBlob(`a${i}`), objects.writeBlob(`b${i}`)) })
    }
    expect(packs(repo.dir)).toHaveLength(ROLL_AT - 1)
    expect(await rollUpPacks(gitdir)).toBe(0)
    await objects.writeBatch(async () => { written.push(objects.writeBlob('c'), objects.writeBlob('d')) }) // the 16th: rolls up
    expect(packs(repo.dir)).toHaveLength(1)
    expectBlobs(repo.dir, written)
    expect(fs.readFileSync(join(gitdir, 'labbook', 'packs'), 'utf8').trim().split('\n')).toEqual([packs(repo.dir)[0]!.replace('.idx', '')])
    // geometric: a pack is merged again only once the smaller ones add up to half its size
    const round = async (tag: string, perPack: number) => {
      for (let i = 0; i < ROLL_AT - 1; i++) {
        await objects.writeBatch(async () => { for (let j = 0; j < perPack; j++) written.push(objects.writeBlob(`${tag}-${i}-${j}`)) })
      }
    }
    await round('2', 4)
    expect(await rollUpPacks(gitdir)).toBe(ROLL_AT) // 15 small ones are more than half the first merge: all in one
    expect(packs(repo.dir)).toHaveLength(1)
    const big = packs(repo.dir)[0]
    await round('3', 2)
    expect(await rollUpPacks(gitdir)).toBe(ROLL_AT - 1) // now the big one is over twice the small ones: it stays
    expect(packs(repo.dir)).toHaveLength(2)
    expect(packs(repo.dir)).toContain(big)
    expectBlobs(repo.dir, written)
    expect(fsck(repo)).toBe('')
  })

  it('a roll-up never writes more than its cap: packs that big stay as they are, whatever the repository holds', async () => {
    const r = gitRepo()
    repo = r
    const gitdir = join(r.dir, '.git')
    const objects = new ObjectStore(gitdir)
    const written: string[] = []
    const pack = async (tag: string, blobs: number) => {
      await objects.writeBatch(async () => { for (let j = 0; j < blobs; j++) written.push(objects.writeBlob(`${tag}-${j}-${'x'.repeat(200)}`)) })
    }
    const sizes = () => packs(r.dir).map((p) => fs.statSync(join(gitdir, 'objects', 'pack', p.replace('.idx', '.pack'))).size).sort((a, b) => a - b)
    for (let i = 0; i < 4; i++) await pack(`big${i}`, 40) // 4 packs of ~40 objects (~1.3 KB of entries each)
    for (let i = 0; i < ROLL_AT - 5; i++) await pack(`small${i}`, 3)
    const big = sizes().slice(-4)
    process.env.LABBOOK_ROLL_MAX_BYTES = String(big[0]! + 200) // room for the small ones, not for any big one on top
    try {
      await pack('last', 3) // the 16th pack this store wrote: it tries a roll-up
      // geometric alone would take every pack here (each big one is at most twice what precedes it); the cap stops it
      // before the first big one, so only the small ones merge, and the merged pack is within the cap
      expect(packs(repo.dir)).toHaveLength(5)
      const after = sizes()
      expect(after.slice(-4)).toEqual(big)
      expect(after[0]! - 32).toBeLessThanOrEqual(big[0]! + 200)
      delete process.env.LABBOOK_ROLL_MAX_BYTES
      for (let i = 0; i < ROLL_AT - 1; i++) await pack(`more${i}`, 3)
      expect(await rollUpPacks(gitdir)).toBeGreaterThan(ROLL_AT) // uncapped, the big ones join
    } finally {
      delete process.env.LABBOOK_ROLL_MAX_BYTES
    }
    expectBlobs(repo.dir, written)
    expect(fsck(repo)).toBe('')
  })

  it('a book\'s runs: commits are packs, the branch lists back in a new process\'s reader, fsck clean', async () => {
    repo = gitRepo()
    const book = await Labbook.open({ repo: repo.dir })
    const before = loose(repo)
    for (let i = 0; i < 12; i++) {
      const run = await book.startRun({ name: `r${i}`, params: { i } })
      run.logMetric('m', i)
      await run.end()
    }
    await book.close()
    expect(loose(repo)).toBeLessThanOrEqual(before + 2)
    expect(packs(repo.dir).length).toBeGreaterThan(0)
    expect(packs(repo.dir).length).toBeLessThanOrEqual(ROLL_AT)
    const again = await Labbook.open({ repo: repo.dir })
    expect((await again.listRuns()).map((r) => r.name).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `r${i}`).sort())
    await again.close()
    expect(fsck(repo)).toBe('')
  })

  it('a commit that changes nothing writes no pack (a closing book commits each open run: no pack a run)', async () => {
    repo = gitRepo()
    const book = await Labbook.open({ repo: repo.dir })
    const runs = await Promise.all(Array.from({ length: 10 }, (_, i) => book.startRun({ name: `r${i}` })))
    await book.flush()
    const tip = await book.tip()
    const had = packs(repo.dir)
    // nothing new in any run: each commit is built, finds the tip's tree, and makes no commit
    for (const r of runs) await r.commit()
    expect(await book.tip()).toBe(tip)
    expect(packs(repo.dir)).toEqual(had)
    await book.close() // commits the open runs again: still nothing new
    expect(packs(repo.dir)).toEqual(had)
    const again = await Labbook.open({ repo: repo.dir })
    expect((await again.listRuns()).length).toBe(10)
    await again.close()
    expect(fsck(repo)).toBe('')
  })

  it('C git\'s repack (as git gc runs it) in the window between a pack\'s .pack and its .idx deletes nothing of it', async () => {
    // git 2.39's repack lists the packs it will delete by their .pack files, while pack-objects sees packs by their .idx:
    // a .pack whose .idx is not there yet was deleted unread, and the commit in it lost once a ref named it. A .keep
    // written before the .pack (as git's own index-pack does for a fetch) keeps repack off it.
    repo = gitRepo()
    const gitdir = join(repo.dir, '.git')
    const dir = join(gitdir, 'objects', 'pack')
    const objects = new ObjectStore(gitdir)
    let commit = ''
    process.env.LABBOOK_TEST_PACK_DELAY_MS = '1000'
    const writing = objects.writeBatch(async () => {
      const tree = objects.writeTree([{ mode: '100644', name: 'f', oid: objects.writeBlob('in a half-installed pack\n') }])
      commit = objects.writeCommit({ tree, parents: [], author: { name: 'T', email: 't@e', time: Date.now() }, message: 'half\n' })
    })
    const halfInstalled = () => fs.readdirSync(dir).some((f) => /^pack-[0-9a-f]{40}\.pack$/.test(f) && !fs.existsSync(join(dir, f.replace(/\.pack$/, '.idx'))))
    try {
      const t = Date.now()
      while (!halfInstalled()) {
        if (Date.now() - t > 10_000) throw new Error('the pack was never half installed')
        await new Promise((r) => setTimeout(r, 2))
      }
      // Synchronous: the writer's pause cannot end while it runs.
      repo.git('repack', '-d', '-l', '-A', '--unpack-unreachable=2.weeks.ago', '-q')
    } finally {
      delete process.env.LABBOOK_TEST_PACK_DELAY_MS
    }
    await writing
    repo.git('update-ref', 'refs/heads/half', commit)
    expect(repo.git('cat-file', '-t', commit).trim()).toBe('commit')
    expect(fsck(repo)).toBe('')
    expect(fs.readdirSync(dir).filter((f) => !/^pack-[0-9a-f]{40}\.(pack|idx)$/.test(f))).toEqual([]) // no .keep or temporary file left
    repo.git('update-ref', '-d', 'refs/heads/half')
  })

  it('a .keep left by a killed writer is removed by the next labbook write and by labbook gc; keeps git, the user or a live writer made stay', async () => {
    ensureBuilt()
    repo = gitRepo()
    const { dir } = repo
    const pdir = join(dir, '.git', 'objects', 'pack')
    expect((await runCli(['run', '--name', 'R', '--', 'true'], { cwd: dir })).code).toBe(0)
    const keeps = () => fs.readdirSync(pdir).filter((f) => f.endsWith('.keep')).sort()
    // A real writer killed between its .idx and the removal of its .keep.
    const killed = await collect(startCli(['log', 'metric', 'killed=1', '--run', 'R'], { cwd: dir, env: { LABBOOK_TEST_CRASH_AT: 'pack-installed' } }))
    expect(killed.signal).toBe('SIGKILL')
    expect(keeps()).toHaveLength(1)
    const dead = keeps()[0]!
    const deadText = fs.readFileSync(join(pdir, dead), 'utf8')
    expect(deadText).toMatch(/^labbook installing \{"pid":\d+,/)
    // C git's own keep (index-pack --keep, as fetch writes it), a user's, a live labbook writer's, and a dead writer's
    // whose pack is not complete: none of them may go.
    const packed = execFileSync('git', ['pack-objects', '--stdout', '--revs'], { cwd: dir, input: 'HEAD\n' })
    const gitPack = /(?:pack|keep)\t([0-9a-f]{40})/.exec(execFileSync('git', ['index-pack', '--stdin', '--keep=fetch-pack 4242 on elsewhere'], { cwd: dir, input: packed, encoding: 'utf8' }))![1]
    expect(fs.readFileSync(join(pdir, `pack-${gitPack}.keep`), 'utf8')).toBe('fetch-pack 4242 on elsewhere\n')
    const other = (name: string, text: string) => fs.writeFileSync(join(pdir, `pack-${name.repeat(40)}.keep`), text)
    other('a', 'mine, do not repack\n')
    other('b', `labbook installing ${JSON.stringify(thisProcess())}\n`)
    fs.copyFileSync(join(pdir, dead.replace('.keep', '.pack')), join(pdir, `pack-${'c'.repeat(40)}.pack`))
    other('c', deadText)
    const stays = keeps().filter((f) => f !== dead)
    expect(stays).toHaveLength(4)
    const staysText = stays.map((f) => fs.readFileSync(join(pdir, f), 'utf8'))
    // The next write removes the dead writer's keep.
    const next = await runCli(['log', 'metric', 'next=1', '--run', 'R'], { cwd: dir })
    expect(next.code, next.stderr).toBe(0)
    expect(keeps()).toEqual(stays)
    expect(stays.map((f) => fs.readFileSync(join(pdir, f), 'utf8'))).toEqual(staysText)
    // And so does `labbook gc` (the same leftover put back).
    fs.writeFileSync(join(pdir, dead), deadText)
    expect((await runCli(['gc'], { cwd: dir })).code).toBe(0)
    expect(keeps()).toEqual(stays)
    // Unkept, the killed writer's pack is repacked like any other; everything stays readable.
    fs.unlinkSync(join(pdir, `pack-${'c'.repeat(40)}.pack`))
    repo.git('repack', '-a', '-d', '-q')
    expect(fs.existsSync(join(pdir, dead.replace('.keep', '.pack')))).toBe(false)
    expect(fsck(repo)).toBe('')
  }, 60_000)
})
