// Automatic packing from short CLI processes: the trigger counts the repository's loose objects (as `git gc --auto`),
// not one process's writes, so many short `labbook` commands end with a packed branch.
import fs from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { packWithLock } from '../../src/store/pack.js'
import { thisProcess } from '../../src/store/process.js'
import { ensureBuilt, runCli } from '../helpers/cli.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo | undefined
afterEach(() => repo?.cleanup())
beforeAll(() => ensureBuilt(), 120_000)

function counts(git: TestRepo['git']): { loose: number; inPack: number } {
  const v = Object.fromEntries(git('count-objects', '-v').trim().split('\n').map((l) => l.split(': ')))
  return { loose: Number(v.count), inPack: Number(v['in-pack']) }
}

async function settle(gitdir: string): Promise<void> {
  const end = Date.now() + 30_000
  // The detached packer holds .git/labbook/pack.lock while it runs.
  while (fs.existsSync(join(gitdir, 'labbook', 'pack.lock')) && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
  await new Promise((r) => setTimeout(r, 300))
  while (fs.existsSync(join(gitdir, 'labbook', 'pack.lock')) && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
}

describe('automatic packing', () => {
  it('short CLI writes leave a packed branch (threshold lowered); with packing off they stay loose', async () => {
    const N = 6
    const results: Record<string, { loose: number; inPack: number }> = {}
    for (const threshold of ['0', '20']) {
      repo = gitRepo()
      const { dir, git } = repo
      for (let i = 0; i < N; i++) {
        const r = await runCli(['run', '--name', `r${i}`, '--', 'true'], { cwd: dir, env: { LABBOOK_AUTO_PACK_OBJECTS: threshold } })
        expect(r.code, r.stderr).toBe(0)
        expect(r.stderr).not.toMatch(/pack/i) // quiet
      }
      await settle(join(dir, '.git'))
      results[threshold] = counts(git)
      const ls = await runCli(['ls', '--json'], { cwd: dir })
      expect(JSON.parse(ls.stdout)).toHaveLength(N)
      expect(git('fsck', '--strict', '--no-progress').split('\n').filter((l) => l && !l.startsWith('dangling'))).toEqual([])
      repo.cleanup() // also pushes to a receive.fsckObjects remote
      repo = undefined
    }
    expect(results['0']!.inPack).toBe(0)
    expect(results['0']!.loose).toBeGreaterThan(40)
    expect(results['20']!.inPack).toBeGreaterThan(0)
    // At most what one command writes after the last packing, plus the user's own 3 objects, stays loose.
    expect(results['20']!.loose).toBeLessThan(results['0']!.loose / 2)
  }, 120_000)

  it('never runs two packings at once (.git/labbook/pack.lock held by a live process)', () => {
    repo = gitRepo()
    const gitdir = join(repo.dir, '.git')
    fs.mkdirSync(join(gitdir, 'labbook'), { recursive: true })
    fs.writeFileSync(join(gitdir, 'labbook', 'pack.lock'), JSON.stringify(thisProcess()))
    expect(packWithLock(gitdir, 'labbook')).toBe(false)
    // A dead holder's lock does not block it.
    fs.writeFileSync(join(gitdir, 'labbook', 'pack.lock'), JSON.stringify({ ...thisProcess(), pid: 2 ** 22 + 1 }))
    expect(packWithLock(gitdir, 'labbook')).toEqual({ objects: 0, tip: null })
    expect(fs.existsSync(join(gitdir, 'labbook', 'pack.lock'))).toBe(false)
  })
})
