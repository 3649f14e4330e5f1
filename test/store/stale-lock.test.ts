// Stale ref locks: a dead labbook holder is recognised at once, a lock labbook cannot prove is its own (C git's) is
// never removed, and removal is compare-and-delete. Real processes (the built CLI, C git) are stopped or killed
// between the lock protocol's steps (LABBOOK_TEST_LOCK_DELAY_MS; C git through its reference-transaction hook).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { join } from 'node:path'
import { LabbookError } from '../../src/errors.js'
import { lockRef, readRef } from '../../src/store/ref.js'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { collect, ensureBuilt, runCli, startCli } from '../helpers/cli.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo | undefined
afterEach(() => repo?.cleanup())
beforeAll(() => ensureBuilt(), 120_000)

const REF = 'refs/heads/labbook'

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

function traced(file: string, step: string, pid?: number): boolean {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').some((l) => l.endsWith(` ${step}`) && (pid === undefined || l.startsWith(`${pid} `)))
  } catch {
    return false
  }
}

/** Watches the ref file every few ms: it must never be empty or anything but an object id. */
function watchRef(gitdir: string) {
  const bad: string[] = []
  const timer = setInterval(() => {
    try {
      const t = fs.readFileSync(join(gitdir, REF), 'utf8')
      if (!/^[0-9a-f]{40}\n$/.test(t)) bad.push(JSON.stringify(t))
    } catch (e) {
      bad.push(String((e as NodeJS.ErrnoException).code))
    }
  }, 2)
  return { stop: () => { clearInterval(timer); return bad } }
}

async function metricKeys(dir: string): Promise<string[]> {
  const r = await runCli(['show', 'R', '--json'], { cwd: dir })
  expect(r.code, r.stderr).toBe(0)
  return Object.keys(JSON.parse(r.stdout).metrics ?? {}).sort()
}

describe('stale ref locks', () => {
  for (const step of ['created', 'recorded', 'written']) {
    it(`a writer killed after "${step}" does not stall the next one and loses nothing`, async () => {
      repo = gitRepo()
      const { dir } = repo
      const gitdir = join(dir, '.git')
      expect((await runCli(['run', '--name', 'R', '--', 'true'], { cwd: dir })).code).toBe(0)
      const trace = join(dir, '.git', 'trace')
      const watch = watchRef(gitdir)
      const victim = startCli(['log', 'metric', 'killed=1', '--run', 'R'], { cwd: dir, env: { LABBOOK_TEST_LOCK_DELAY_MS: `${step}:60000`, LABBOOK_TEST_LOCK_TRACE: trace } })
      const done = collect(victim)
      await until(() => traced(trace, step), step)
      victim.kill('SIGKILL')
      await done
      expect(fs.existsSync(join(gitdir, REF + '.lock'))).toBe(true)
      const t0 = Date.now()
      const next = await runCli(['log', 'metric', 'next=1', '--run', 'R'], { cwd: dir })
      const took = Date.now() - t0
      expect(next.code, next.stderr).toBe(0)
      expect(took).toBeLessThan(8_000) // at once (the lock names its dead taker) plus process start
      expect(watch.stop()).toEqual([])
      expect(await metricKeys(dir)).toEqual(expect.arrayContaining(['next']))
      expect(fs.existsSync(join(gitdir, REF + '.lock'))).toBe(false)
      expect(fs.readdirSync(join(gitdir, 'refs', 'heads')).filter((f) => f.includes('stale'))).toEqual([])
    }, 60_000)
  }

  it('a waiter that judged a lock stale late puts back the fresh lock it moved aside (compare-and-delete)', async () => {
    repo = gitRepo()
    const { dir } = repo
    const gitdir = join(dir, '.git')
    expect((await runCli(['run', '--name', 'R', '--', 'true'], { cwd: dir })).code).toBe(0)
    const trace = join(gitdir, 'trace')
    // A dead holder's lock.
    const victim = startCli(['log', 'metric', 'killed=1', '--run', 'R'], { cwd: dir, env: { LABBOOK_TEST_LOCK_DELAY_MS: 'recorded:60000', LABBOOK_TEST_LOCK_TRACE: trace } })
    const vdone = collect(victim)
    await until(() => traced(trace, 'recorded'), 'victim recorded')
    victim.kill('SIGKILL')
    await vdone
    const watch = watchRef(gitdir)
    // Slow judges the dead lock stale, then sleeps before moving it aside.
    const slow = startCli(['log', 'metric', 'slow=1', '--run', 'R'], { cwd: dir, env: { LABBOOK_TEST_LOCK_DELAY_MS: 'judged:1200', LABBOOK_TEST_LOCK_TRACE: trace } })
    const slowDone = collect(slow)
    await until(() => traced(trace, 'judged', slow.pid), 'slow judged')
    // Fast removes the dead lock, takes its own and holds it while Slow wakes up and moves it aside.
    const fast = startCli(['log', 'metric', 'fast=1', '--run', 'R'], { cwd: dir, env: { LABBOOK_TEST_LOCK_DELAY_MS: 'recorded:2500', LABBOOK_TEST_LOCK_TRACE: trace } })
    const fastDone = collect(fast)
    const [s, f] = await Promise.all([slowDone, fastDone])
    expect(f.code, f.stderr).toBe(0)
    expect(s.code, s.stderr).toBe(0)
    const lines = fs.readFileSync(trace, 'utf8')
    expect(lines).toContain(`${slow.pid} aside`) // Slow did move Fast's lock aside, and put it back
    expect(watch.stop()).toEqual([])
    expect(await metricKeys(dir)).toEqual(expect.arrayContaining(['fast', 'slow']))
    expect(fs.existsSync(join(gitdir, REF + '.lock'))).toBe(false)
  }, 60_000)

  /**
   * `git pack-refs --all` prunes the loose ref after writing packed-refs: it holds `<ref>.lock` EMPTY (a deletion has
   * no object id to write), then unlinks the loose ref. The reference-transaction hook runs while git holds that lock,
   * so a hook that sleeps holds git's real lock as long as a slow or loaded git would.
   */
  async function gitPruningSlowly(holdMs: number) {
    repo = gitRepo()
    const { dir } = repo
    const gitdir = join(dir, '.git')
    expect((await runCli(['run', '--name', 'R', '--', 'true'], { cwd: dir })).code).toBe(0)
    const before = readRef(gitdir, REF)!
    const hooks = join(dir, '.git', 'test-hooks')
    const marker = join(dir, '.git', 'git-holds-lock')
    fs.mkdirSync(hooks, { recursive: true })
    fs.writeFileSync(join(hooks, 'reference-transaction'), `#!/bin/sh
in=$(cat)
case "$1 $in" in
  "prepared "*" 0000000000000000000000000000000000000000 ${REF}"*) : > '${marker}'; sleep ${holdMs / 1000};;
esac
exit 0
`, { mode: 0o755 })
    const git = spawn('git', ['-c', `core.hooksPath=${hooks}`, 'pack-refs', '--all'], { cwd: dir, stdio: 'ignore' })
    const exited = new Promise<number | null>((resolve) => git.on('exit', resolve))
    await until(() => fs.existsSync(marker), 'git holding the lock')
    return { repo, dir, gitdir, before, exited }
  }

  it('C git pruning the loose ref holds its empty lock for 2.5 s: the writer waits instead of removing it, and the branch keeps its commit', async () => {
    const { repo, dir, gitdir, before, exited } = await gitPruningSlowly(2500)
    expect(fs.statSync(join(gitdir, REF + '.lock')).size).toBe(0) // git's lock, empty by design
    const writer = runCli(['log', 'metric', 'next=1', '--run', 'R'], { cwd: dir })
    const [code, w] = await Promise.all([exited, writer])
    expect(code).toBe(0)
    expect(w.code, w.stderr).toBe(0)
    // Removing git's lock after 1 s (the old rule) let the writer commit to the loose ref, which git then unlinked: the
    // branch went back to the packed value and `next` was gone.
    const tip = readRef(gitdir, REF)!
    expect(tip).not.toBe(before)
    expect(repo.git('rev-parse', `${tip}^`).trim()).toBe(before)
    expect(await metricKeys(dir)).toEqual(expect.arrayContaining(['next']))
    expect(repo.git('fsck', '--strict', '--no-progress', '--no-dangling').trim()).toBe('')
    expect(fs.existsSync(join(gitdir, REF + '.lock'))).toBe(false)
  }, 60_000)

  it('a lock labbook cannot prove is its own is waited for, then LOCK_TIMEOUT names it; it is never removed', async () => {
    const { gitdir, before, exited } = await gitPruningSlowly(3000)
    const lockPath = join(gitdir, REF + '.lock')
    const ino = fs.statSync(lockPath).ino
    const t0 = Date.now()
    const err = await lockRef(gitdir, REF, 1200).then(() => undefined, (e: unknown) => e)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1200)
    expect(err).toBeInstanceOf(LabbookError)
    expect((err as LabbookError).code).toBe('LOCK_TIMEOUT')
    expect((err as LabbookError).message).toContain(lockPath)
    expect((err as LabbookError).message).toContain('labbook removes a ref lock only when')
    expect((err as LabbookError).hint).toContain(`delete ${lockPath}`)
    expect(fs.statSync(lockPath).ino).toBe(ino) // git's lock, still there
    expect(await exited).toBe(0)
    expect(readRef(gitdir, REF)).toBe(before)
    // Once git is done the branch is free again.
    const lock = await lockRef(gitdir, REF, 5000)
    lock.release()
    expect(fs.existsSync(lockPath)).toBe(false)
  }, 60_000)
})
