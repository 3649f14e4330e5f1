import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { deflateSync } from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { LabbookError } from '../../src/errors.js'
import { artifactPath, pathComponentProblem } from '../../src/model/path.js'
import { validateDescription, validateExperimentName, validateParamValue, validateRunName, validateTagValue } from '../../src/model/validate.js'

const REFUSED = [
  '.git', '.GIT', '.Git', '.git.', '.git ', '.git. . ', '.git::$INDEX_ALLOCATION', 'git~1', 'GIT~1', 'git~1.', 'git~1::$DATA',
  '.g\u200cit', '\ufeff.git', '.gi\u206at',
  '.gitmodules', '.GITMODULES', '.gitmodules.', '.gitmodules::$DATA', 'gitmod~1', 'GITMOD~4', 'gi7eba~1', 'gi7eb~12', '.git\u200dmodules',
  '.gitattributes', 'gitatt~1', 'gi7d29~3',
  '..', '.', '', 'a\0b', 'a\nb', 'a\x1bb', 'a\x7fb', 'tab\there', 'a\\b', '\ud800x',
]
const ACCEPTED = ['model.bin', '.gitignore', '.github', 'git', 'git~2', 'gitmod~5', 'gi7eba~0', '.gitx', 'x.git', '.git-x', 'a:b', 'résumé.txt', '日本', '.hidden', '...', 'a b', '😀']

describe('the artifact path rule', () => {
  it('refuses every component git fsck rejects or gives a meaning to, accepts plain names', () => {
    for (const c of REFUSED) expect(pathComponentProblem(c), JSON.stringify(c)).toBeDefined()
    for (const c of ACCEPTED) expect(pathComponentProblem(c), JSON.stringify(c)).toBeUndefined()
  })

  it('normalises and names the problem with a code and a hint', () => {
    expect(artifactPath('./plots\\loss.png')).toBe('plots/loss.png')
    expect(artifactPath('a/b/')).toBe('a/b')
    expect(() => artifactPath('a//b')).toThrow(expect.objectContaining({ code: 'INVALID_PATH' }))
    expect(() => artifactPath('a/./b')).toThrow(expect.objectContaining({ code: 'INVALID_PATH' }))
    expect(artifactPath('', { allowRoot: true })).toBe('')
    expect(() => artifactPath('')).toThrow(expect.objectContaining({ code: 'INVALID_PATH' }))
    expect(() => artifactPath('/etc/passwd')).toThrow(expect.objectContaining({ code: 'PATH_ESCAPE' }))
    expect(() => artifactPath('C:/x')).toThrow(expect.objectContaining({ code: 'PATH_ESCAPE' }))
    expect(() => artifactPath('a/../../b')).toThrow(expect.objectContaining({ code: 'PATH_ESCAPE' }))
    try {
      artifactPath('ckpt/m/.git/config')
      expect.unreachable()
    } catch (caught) {
      const e = caught as LabbookError
      expect(e.code).toBe('INVALID_PATH')
      expect(e.message).toContain('.git')
      expect(e.hint).toMatch(/\.gitmodules/)
    }
  })

  it('agrees with git fsck --strict: whatever fsck rejects in a tree, the rule refuses (fast-check)', () => {
    const dir = fs.mkdtempSync(join(os.tmpdir(), 'labbook-path-'))
    try {
      const git = (args: string[], input?: string) => execFileSync('git', args, { cwd: dir, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] })
      git(['init', '-q'])
      const blob = git(['hash-object', '-w', '--stdin'], 'x\n').trim()
      // names built from the characters that matter to fsck's rules
      const alphabet = fc.constantFrom('.', 'g', 'G', 'i', 't', 'T', '~', '1', '4', '9', ' ', ':', 'm', 'o', 'd', 'u', 'l', 'e', 's', 'a', 'r', 'b', '7', 'x', '\u200c', '\ufeff')
      const names = fc.array(alphabet, { minLength: 1, maxLength: 14 }).map((a) => a.join(''))
      const samples = [...REFUSED.filter((n) => n && !/[\0/]/.test(n) && !/[\ud800-\udfff]/.test(n)), ...ACCEPTED, ...fc.sample(names, { numRuns: 120, seed: 10 })]
      // one tree per name, one fsck over all of them
      const trees = new Map<string, string>()
      for (const name of new Set(samples)) trees.set(writeTree(dir, blob, name), name)
      let out = ''
      try {
        out = execFileSync('git', ['fsck', '--strict', '--no-dangling', '--no-progress', ...trees.keys()], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      } catch (caught) {
        const e = caught as { stdout?: string; stderr?: string }
        out = `${e.stdout}${e.stderr}`
      }
      const rejected = new Set<string>()
      for (const m of out.matchAll(/tree ([0-9a-f]{40})/g)) rejected.add(trees.get(m[1]!)!)
      expect(rejected.size).toBeGreaterThan(5)
      for (const name of rejected) expect(pathComponentProblem(name), `fsck rejects ${JSON.stringify(name)}`).toBeDefined()
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

/** Writes a loose tree object with one entry by hand (mktree refuses some names fsck must see). */
function writeTree(dir: string, blob: string, name: string): string {
  const body = Buffer.concat([Buffer.from(`100644 ${name}\0`), Buffer.from(blob, 'hex')])
  const raw = Buffer.concat([Buffer.from(`tree ${body.length}\0`), body])
  const oid = createHash('sha1').update(raw).digest('hex')
  const file = join(dir, '.git', 'objects', oid.slice(0, 2), oid.slice(2))
  fs.mkdirSync(join(file, '..'), { recursive: true })
  if (!fs.existsSync(file)) fs.writeFileSync(file, deflateSync(raw))
  return oid
}

describe('text rules for names, values and descriptions', () => {
  it('refuse NUL and control characters; names are one line, values and descriptions may hold tab and newline', () => {
    for (const bad of ['a\0b', 'a\nb', 'a\rb', 'a\x1b[31mred', 'a\u0085b', '\udc00']) {
      expect(() => validateRunName(bad)).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
      expect(() => validateExperimentName(bad)).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    }
    for (const bad of ['a\0b', 'a\x1bb', '\udc00', 'x\x7f']) {
      expect(() => validateTagValue('t', bad)).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
      expect(() => validateParamValue('p', bad)).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
      expect(() => validateDescription(bad)).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    }
    expect(validateTagValue('t', 'line 1\n\tline 2\r\n')).toBe('line 1\n\tline 2\r\n')
    expect(() => validateDescription('# Notes\n\n- a\n')).not.toThrow()
    expect(() => validateRunName('bright-owl-42 ✓')).not.toThrow()
  })
})
