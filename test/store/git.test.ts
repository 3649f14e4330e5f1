import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { git, gitConfig, gitConfigAdd, gitConfigAll, gitSync, revParseCommit, runGitSync } from '../../src/store/git.js'
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
