import fs from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeConfig, parseConfig, validateConfig, type LabbookConfig } from '../../src/format/config.js'
import { loadConfig } from '../../src/format/config-file.js'
import { resolveBranch } from '../../src/track/branch.js'
import { locateRepo } from '../../src/store/gitdir.js'
import { gitRepo } from '../helpers/git-repo.js'
import type { LabbookError } from '../../src/errors.js'

describe('labbook.config.yaml', () => {
  it('round-trips every valid config (property)', () => {
    const key = fc.string({ minLength: 1, maxLength: 20 }).filter((k) => k !== '__proto__')
    const config: fc.Arbitrary<LabbookConfig> = fc.record({
      branch: fc.stringMatching(/^[a-z][a-z0-9/_-]{0,15}$/),
      push: fc.oneof(fc.boolean(), fc.constantFrom('origin', 'upstream')),
      metrics: fc.dictionary(key, fc.record({ goal: fc.constantFrom('maximize' as const, 'minimize' as const) })),
      primary: fc.array(key, { maxLength: 4 }),
    }, { requiredKeys: [] })
    fc.assert(fc.property(config, (c) => {
      expect(parseConfig(encodeConfig(c))).toEqual(c)
    }), { numRuns: 60 })
  })

  it('accepts the shorthands (key: min, primary: one key)', () => {
    expect(validateConfig({ metrics: { val_loss: 'min', acc: { goal: 'MAX' } }, primary: 'acc' }))
      .toEqual({ metrics: { val_loss: { goal: 'minimize' }, acc: { goal: 'maximize' } }, primary: ['acc'] })
    expect(parseConfig('')).toEqual({})
    expect(parseConfig('# only a comment\n')).toEqual({})
  })

  it('names the file and the key in every error, and suggests the key meant', () => {
    const cases: Array<[string, RegExp]> = [
      ['brnach: x\n', /cfg\.yaml: brnach is not a setting labbook knows \(did you mean "branch"\?\)/],
      ['metrics:\n  val_loss: { goal: down }\n', /cfg\.yaml: metrics\.val_loss\.goal must be maximize, minimize or none, got "down"/],
      ['metrics:\n  val_loss: { goul: min }\n', /metrics\.val_loss\.goul is not a setting.*did you mean "goal"/],
      ['primary: [1]\n', /cfg\.yaml: primary must be a list of metric keys/],
      ['branch: [a]\n', /cfg\.yaml: branch must be a non-empty string/],
      ['- a\n- b\n', /cfg\.yaml: the top level must be a mapping/],
      ['a: [\n', /cfg\.yaml is not valid YAML/],
    ]
    for (const [text, message] of cases) {
      let err: LabbookError | undefined
      try { parseConfig(text, 'cfg.yaml') } catch (e) { err = e as LabbookError }
      expect(err, text).toMatchObject({ code: 'INVALID_VALUE' })
      expect(err?.message, text).toMatch(message)
      expect(err?.hint, text).toMatch(/\S/)
    }
  })

  it('is read once per process and again when the file changes; the CLI and the library resolve the branch the same way', () => {
    const r = gitRepo()
    try {
      const loc = locateRepo(r.dir)
      expect(resolveBranch(loc, undefined, {})).toBe('labbook')
      r.git('config', 'labbook.branch', 'from-git-config')
      expect(resolveBranch(loc, undefined, {})).toBe('from-git-config')
      fs.writeFileSync(join(r.dir, 'labbook.config.yaml'), 'branch: exp2\n')
      expect(loadConfig(r.dir)).toBe(loadConfig(r.dir)) // cached: the same object
      expect(resolveBranch(loc, undefined, {})).toBe('exp2')
      expect(resolveBranch(loc, undefined, { LABBOOK_BRANCH: 'env' })).toBe('env')
      expect(resolveBranch(loc, 'flag', { LABBOOK_BRANCH: 'env' })).toBe('flag')
      fs.writeFileSync(join(r.dir, 'labbook.config.yaml'), 'branch: exp3 \n')
      expect(resolveBranch(loc, undefined, {})).toBe('exp3')
      expect(() => resolveBranch(loc, 'a..b', {})).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    } finally {
      r.cleanup()
    }
  })
})
