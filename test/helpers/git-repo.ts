import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'

export interface TestRepo {
  dir: string
  /** Runs C git in the repo and returns stdout. */
  git(...args: string[]): string
  /** Hashes of what labbook must never touch: worktree files, index, HEAD, and every ref but the labbook ones. */
  userState(): string
  /** Asserts the repository is `git fsck --strict` clean and pushable to a `receive.fsckObjects` remote, then removes it. */
  cleanup(options?: { check?: boolean }): void
}

const ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test User', GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test User', GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
}

/** A real temporary git repository with a first commit on main holding `files`. */
export function gitRepo(files: Record<string, string> = { 'train.py': 'print("hi")\n' }): TestRepo {
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'labbook-test-'))
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: ENV, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  git('init', '-q', '-b', 'main')
  git('config', 'user.name', 'Test User')
  git('config', 'user.email', 'test@example.com')
  git('config', 'gc.auto', '0')
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(join(dir, name, '..'), { recursive: true })
    fs.writeFileSync(join(dir, name), content)
  }
  git('add', '-A')
  git('commit', '-q', '-m', 'initial')
  return {
    dir,
    git,
    userState() {
      const h = createHash('sha256')
      const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
          if (d === dir && e.name === '.git') continue
          const p = join(d, e.name)
          h.update(p)
          if (e.isDirectory()) walk(p)
          else h.update(fs.readFileSync(p))
        }
      }
      walk(dir)
      h.update(fs.readFileSync(join(dir, '.git', 'index')))
      h.update(fs.readFileSync(join(dir, '.git', 'HEAD')))
      h.update(git('for-each-ref', '--format=%(refname) %(objectname)').split('\n').filter((l) => !l.startsWith('refs/heads/labbook') && !l.startsWith('refs/notes/labbook')).join('\n'))
      return h.digest('hex')
    },
    cleanup(options: { check?: boolean } = {}) {
      try {
        if (options.check !== false && fs.existsSync(join(dir, '.git'))) assertPushable(dir)
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

/** `git fsck --strict` output; throws if git reports errors. */
/**
 * A fresh repository, a bare remote cloned from it and clones of that remote (`names`), under one temporary root.
 * The caller removes `dirs` (origin and root) when done.
 */
export function clonesOfRemote(names: string[]): { root: string; clones: string[]; dirs: string[] } {
  const origin = gitRepo()
  const root = fs.mkdtempSync(join(os.tmpdir(), 'labbook-clones-'))
  execFileSync('git', ['clone', '-q', '--bare', origin.dir, join(root, 'remote.git')], { env: ENV })
  const clones = names.map((c) => {
    execFileSync('git', ['clone', '-q', join(root, 'remote.git'), join(root, c)], { env: ENV })
    return join(root, c)
  })
  return { root, clones, dirs: [origin.dir, root] }
}

export function fsck(repo: TestRepo): string {
  return execFileSync('git', ['fsck', '--strict', '--no-dangling'], { cwd: repo.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/**
 * What GitHub checks on push: `git fsck --strict` on the repository, then a push of every branch, note and labbook ref
 * to a fresh bare repository (same object format) with `receive.fsckObjects=true`. Throws with git's output when
 * either refuses. Every test repository runs it on cleanup; call it directly for repositories a test makes itself.
 */
export function assertPushable(dir: string): void {
  const run = (args: string[], cwd = dir) => execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  try {
    run(['fsck', '--strict', '--no-dangling', '--no-progress'])
  } catch (caught) {
    const e = caught as { stdout?: string; stderr?: string }
    throw new Error(`git fsck --strict failed in ${dir}:\n${e.stdout ?? ''}${e.stderr ?? ''}`)
  }
  const format = run(['rev-parse', '--show-object-format']).trim()
  const bare = fs.mkdtempSync(join(os.tmpdir(), 'labbook-fsck-remote-'))
  try {
    run(['init', '-q', '--bare', `--object-format=${format}`, bare], os.tmpdir())
    run(['config', 'receive.fsckObjects', 'true'], bare)
    try {
      run(['push', '-q', bare, 'refs/heads/*:refs/heads/*', 'refs/notes/*:refs/notes/*', 'refs/labbook/*:refs/labbook/*'])
    } catch (caught) {
      const e = caught as { stdout?: string; stderr?: string }
      throw new Error(`push to a receive.fsckObjects remote failed from ${dir}:\n${e.stdout ?? ''}${e.stderr ?? ''}`)
    }
  } finally {
    fs.rmSync(bare, { recursive: true, force: true })
  }
}
