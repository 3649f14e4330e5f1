import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CatFileBatch, git, gitConfig, gitConfigAdd, gitConfigAll, gitSync, revParseCommit, runGitSync } from '../../src/store/git.js'
import { gitRepo } from '../helpers/git-repo.js'

const ROOT = join(import.meta.dirname, '..', '..')

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : []
  })
}

describe('the one door to git (src/store/git.ts)', () => {
  it('is the only code in src/ and cli/ that starts git, and nobody parses .git/config by hand', () => {
    const offenders: string[] = []
    for (const file of [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'cli'))]) {
      const rel = relative(ROOT, file)
      if (rel === join('src', 'store', 'git.ts')) continue
      const text = readFileSync(file, 'utf8')
      if (/\b(spawn|spawnSync|execFile|execFileSync|exec|execSync)\(\s*['"]git['"]/.test(text)) offenders.push(`${rel}: spawns git`)
      if (/['"]config['"]\)/.test(text) && /readFileSync\(join\([^)]*gitdir/.test(text)) offenders.push(`${rel}: reads .git/config`)
    }
    expect(offenders).toEqual([])
  })

  it('reads config through git, resolves revisions, and reports failures with git\'s own message', async () => {
    const r = gitRepo()
    try {
      const gitdir = join(r.dir, '.git')
      expect(gitConfig({ gitdir }, 'user.name')).toBe('Test User')
      expect(gitConfig({ gitdir }, 'labbook.nothing')).toBeUndefined()
      gitConfigAdd({ cwd: r.dir }, 'notes.displayRef', 'refs/notes/a')
      gitConfigAdd({ cwd: r.dir }, 'notes.displayRef', 'refs/notes/b')
      expect(gitConfigAll({ gitdir }, 'notes.displayRef')).toEqual(['refs/notes/a', 'refs/notes/b'])
      const head = r.git('rev-parse', 'HEAD').trim()
      expect(revParseCommit({ gitdir }, 'main')).toBe(head)
      expect(revParseCommit({ gitdir }, head.slice(0, 8))).toBe(head)
      expect(revParseCommit({ gitdir }, 'no-such-branch')).toBeNull()
      expect(revParseCommit({ gitdir }, '--help')).toBeNull()
      expect(gitSync(['cat-file', '-t', head], { gitdir }).trim()).toBe('commit')
      expect(runGitSync(['cat-file', '-t', 'f'.repeat(40)], { gitdir }).code).not.toBe(0)
      await expect(git(['log', 'no-such-ref'], { cwd: r.dir })).rejects.toMatchObject({ code: 'GIT_FAILED', message: expect.stringMatching(/git log no-such-ref failed \(exit 128\): fatal: /) })
      expect(await git(['hash-object', '--stdin'], { cwd: r.dir, input: 'x' })).toMatch(/^[0-9a-f]{40}\n$/)
    } finally {
      r.cleanup()
    }
  })
})

describe('git cat-file --batch (CatFileBatch)', () => {
  it('reads objects of every size in one request, bodies within and across pipe reads, and answers undefined for a missing one', async () => {
    const r = gitRepo()
    try {
      // sizes around the 64 KiB pipe read and a header split by one: 0 bytes, 1, many small, 65,535…65,537, 1 MiB
      const sizes = [0, 1, 7, 100, 4095, 4096, 65_535, 65_536, 65_537, 30_000, 30_001, 1 << 20, 3, 200_000]
      for (let i = 0; i < 40; i++) sizes.push(1000 + i * 997)
      const bodies = sizes.map((n, i) => { const b = Buffer.alloc(n); for (let k = 0; k < n; k++) b[k] = (k * 31 + i * 7) % 251; return b })
      const files = bodies.map((b, i) => { const f = join(r.dir, `body-${i}`); writeFileSync(f, b); return f })
      const oids = execFileSync('git', ['hash-object', '-w', ...files], { cwd: r.dir, encoding: 'utf8' }).trim().split('\n')
      const batch = new CatFileBatch(join(r.dir, '.git'))
      const missing = '0123456789abcdef0123456789abcdef01234567'
      const asked = [...oids.slice(0, 7), missing, ...oids.slice(7)]
      const got = await Promise.all(asked.map((o) => batch.read(o)))
      expect(got[7]).toBeUndefined()
      const found = got.filter((x) => x !== undefined)
      expect(found.map((x) => x!.type)).toEqual(bodies.map(() => 'blob'))
      for (let i = 0; i < bodies.length; i++) expect(Buffer.compare(found[i]!.body, bodies[i]!), `object ${i} (${sizes[i]} bytes)`).toBe(0)
      // readParts: the same bodies as the pipe's pieces, no copy (laid end to end they are the body), mixed with read
      const parts = await Promise.all(asked.map((o, i) => (i % 2 ? batch.read(o) : batch.readParts(o))))
      expect(parts[7]).toBeUndefined()
      const pieces = (x: { body: Buffer; parts?: Buffer[] }) => x.parts ?? [x.body]
      const whole = parts.filter((x) => x !== undefined).map((x) => Buffer.concat(pieces(x)))
      for (let i = 0; i < bodies.length; i++) expect(Buffer.compare(whole[i]!, bodies[i]!), `object ${i} in parts`).toBe(0)
      expect(parts.some((x) => x !== undefined && pieces(x).length > 1)).toBe(true) // some spanned pipe reads
      // and one at a time after the batch (the reader keeps no stale bytes)
      expect((await batch.read(oids[11]!))!.body.equals(bodies[11]!)).toBe(true)
      expect((await batch.read(oids[0]!))!.body.length).toBe(0)
      batch.close()
    } finally {
      r.cleanup()
    }
  })
})

describe('tree entry order (src/store/objects.ts)', () => {
  it('sorts as git does (byte order, directories as name + "/"), also for non-ASCII and astral names, and git accepts the trees', async () => {
    const { compareTreeEntries, MODES, ObjectStore, sortTreeEntries } = await import('../../src/store/objects.js')
    const fc = (await import('fast-check')).default
    const entry = fc.record({
      name: fc.oneof(fc.stringMatching(/^[a-z0-9.\-_]{1,6}$/), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }), fc.constantFrom('a', 'a-b', 'a.b', 'a/', 'ab', '\u{1F600}', '\uffff', '\u00e9')),
      tree: fc.boolean(),
    })
    fc.assert(fc.property(fc.array(entry, { maxLength: 30 }), (list) => {
      const entries = list.filter((e) => !e.name.includes('/') && !e.name.includes('\0')).map((e) => ({ mode: e.tree ? MODES.tree : MODES.file, name: e.name, oid: '0'.repeat(40) }))
      const uniq = [...new Map(entries.map((e) => [e.name, e])).values()]
      expect(sortTreeEntries(uniq).map((e) => e.name)).toEqual(uniq.slice().sort(compareTreeEntries).map((e) => e.name))
    }), { numRuns: 300 })
    const repo = gitRepo()
    try {
      const objects = new ObjectStore(join(repo.dir, '.git'))
      const blob = objects.writeBlob('x')
      const sub = objects.writeTree([{ mode: MODES.file, name: 'f', oid: blob }])
      const names = ['a-b', 'a.b', 'a', 'ab', '\u{1F600}', '\uffff', '\u00e9', 'Z']
      const tree = objects.writeTree(names.map((name, i) => (i % 2 ? { mode: MODES.file, name, oid: blob } : { mode: MODES.tree, name, oid: sub })))
      expect(repo.git('fsck', '--strict', '--no-dangling').trim()).toBe('')
      expect(repo.git('ls-tree', '--name-only', '-z', tree).split('\0').filter(Boolean)).toHaveLength(names.length)
    } finally {
      repo.cleanup({ check: false })
    }
  })
})
