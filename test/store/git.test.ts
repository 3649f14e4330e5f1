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
