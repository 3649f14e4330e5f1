// The bin's V8 code cache (cli/launch.ts): written after a successful run, used by the next, and only a cache: a
// damaged, foreign or missing file never changes what a command prints. Real processes of the built bin.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, runCli } from '../helpers/cli.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo
let cache: string

beforeAll(async () => {
  ensureBuilt()
  repo = gitRepo({ 'train.py': '' })
  cache = mkdtempSync(join(tmpdir(), 'labbook-code-cache-'))
  expect((await runCli(['init'], { cwd: repo.dir, env: { LABBOOK_CODE_CACHE: 'off' } })).code).toBe(0)
}, 120_000)
afterAll(() => {
  repo.cleanup()
  rmSync(cache, { recursive: true, force: true })
})

const ls = (env: NodeJS.ProcessEnv = { LABBOOK_CODE_CACHE: cache }) => runCli(['ls', '--json'], { cwd: repo.dir, env })

describe('the code cache', () => {
  it('is written by the first successful run of a command and used, unchanged, by the next', async () => {
    const reference = await ls({ LABBOOK_CODE_CACHE: 'off' })
    expect(reference.code, reference.stderr).toBe(0)
    const first = await ls()
    expect(first.stdout).toBe(reference.stdout)
    const file = join(cache, 'cli-ls.cache')
    const written = statSync(file)
    expect(written.size).toBeGreaterThan(10_000)
    expect(readFileSync(file).subarray(0, 20).toString('latin1')).toBe('labbook-code-cache 1')
    const second = await ls()
    expect(second.stdout).toBe(reference.stdout)
    expect(statSync(file).mtimeMs).toBe(written.mtimeMs) // accepted: not written again
  }, 60_000)

  it('a damaged file (a flipped byte, garbage, empty) is ignored and written again whole', async () => {
    const file = join(cache, 'cli-ls.cache')
    const reference = (await ls({ LABBOOK_CODE_CACHE: 'off' })).stdout
    if (!existsSync(file)) expect((await ls()).code).toBe(0)
    const good = readFileSync(file)
    const flipped = Buffer.from(good)
    flipped[flipped.length >> 1]! ^= 0x55
    for (const bad of [flipped, Buffer.from('garbage\n'), Buffer.alloc(0)]) {
      writeFileSync(file, bad)
      const r = await ls()
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toBe(reference)
      const again = readFileSync(file)
      expect(again.subarray(0, 20).toString('latin1')).toBe('labbook-code-cache 1')
      expect(again.equals(bad)).toBe(false)
    }
  }, 90_000)

  it('a failed command writes none; LABBOOK_CODE_CACHE=off writes none', async () => {
    const r = await runCli(['nosuchcommand'], { cwd: repo.dir, env: { LABBOOK_CODE_CACHE: cache } })
    expect(r.code).toBe(2)
    const off = mkdtempSync(join(tmpdir(), 'labbook-code-cache-off-'))
    try {
      const v = await runCli(['--version'], { cwd: repo.dir, env: { LABBOOK_CODE_CACHE: 'off', XDG_CACHE_HOME: off } })
      expect(v.code).toBe(0)
      expect(readdirSync(off)).toEqual([])
    } finally {
      rmSync(off, { recursive: true, force: true })
    }
    expect(readdirSync(cache).filter((f) => f.includes('nosuchcommand'))).toEqual([])
    expect(readdirSync(cache).filter((f) => f.endsWith('.tmp'))).toEqual([])
  }, 60_000)
})
