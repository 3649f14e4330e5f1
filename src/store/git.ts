/**
 * The one door to C git. Every `git` process labbook starts goes through here: one environment (no pager, no
 * prompts, C locale, no optional locks, so a read never takes the user's index lock), one error (GIT_FAILED with
 * git's own words), and the few questions asked in many places (config values, "which commit is this rev").
 * Objects and refs of the runs branch are read and written in-process (objects.ts, ref.ts); git is for what needs
 * git: the network, packing, the user's code history, and config with its includes and scopes.
 */
import { spawn, spawnSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { fail } from '../errors.js'

export interface GitOptions {
  /** Run against this git dir (`--git-dir`); otherwise git finds the repository from `cwd`. */
  gitdir?: string
  /** Working directory (the user's checkout for commands that look at the working tree). */
  cwd?: string
  /** Bytes for git's stdin. */
  input?: string | Buffer
  /** Extra environment on top of `process.env` and labbook's fixed settings. */
  env?: NodeJS.ProcessEnv
  /** Kill git after this many ms (sync calls only). */
  timeout?: number
  /** Send stdout to /dev/null instead of collecting it (`git lfs smudge` prints a whole artifact; async calls only). */
  discardStdout?: boolean
}

export interface GitResult {
  /** Exit code (1 when git was killed by a signal). */
  code: number
  stdout: string
  stderr: string
}

/** The same for every git process: no pager, no terminal prompt (CI must not hang on credentials), C messages. */
function gitEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C', GIT_PAGER: 'cat', GIT_TERMINAL_PROMPT: '0', ...extra }
}

function gitArgs(args: readonly string[], o: GitOptions): string[] {
  return [...(o.gitdir ? ['--git-dir', o.gitdir] : []), '--no-optional-locks', ...args]
}

function cannotRun(e: Error, args: readonly string[]): Error {
  return fail('GIT_FAILED', `Could not run git: ${e.message}.`, { hint: 'Install git (2.30 or newer) and make sure it is on PATH.', data: { args }, cause: e })
}

/** Runs git and waits; a non-zero exit is a result, not an error (GIT_FAILED only when git cannot start). */
export function runGitSync(args: readonly string[], o: GitOptions = {}): GitResult {
  const r = spawnSync('git', gitArgs(args, o), {
    cwd: o.cwd,
    input: o.input,
    env: gitEnv(o.env),
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    timeout: o.timeout,
  })
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw cannotRun(r.error, args)
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error?.message ?? '') }
}

/** Runs git without blocking the event loop (network, long history walks); resolves with the exit code. */
export function runGit(args: readonly string[], o: GitOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', gitArgs(args, o), { cwd: o.cwd, env: gitEnv(o.env), stdio: ['pipe', o.discardStdout ? 'ignore' : 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout?.on('data', (b: Buffer) => out.push(b))
    child.stderr!.on('data', (b: Buffer) => err.push(b))
    child.on('error', (e) => reject(cannotRun(e, args)))
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }))
    child.stdin!.on('error', () => {}) // git may exit before reading all input; the exit code tells
    child.stdin!.end(o.input ?? '')
  })
}

/** git's first message lines, on one line, for an error message. */
export function gitMessage(r: GitResult): string {
  return (r.stderr || r.stdout).split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 2).join(' ')
}

function failed(args: readonly string[], r: GitResult, hint?: string): Error {
  return fail('GIT_FAILED', `git ${args.join(' ')} failed (exit ${r.code}): ${gitMessage(r)}`, { hint, data: { args, exitCode: r.code } })
}

/** stdout of a git command that must succeed; GIT_FAILED with git's message otherwise. */
export async function git(args: readonly string[], o: GitOptions & { hint?: string } = {}): Promise<string> {
  const r = await runGit(args, o)
  if (r.code !== 0) throw failed(args, r, o.hint)
  return r.stdout
}

/** The synchronous `git()`. */
export function gitSync(args: readonly string[], o: GitOptions & { hint?: string } = {}): string {
  const r = runGitSync(args, o)
  if (r.code !== 0) throw failed(args, r, o.hint)
  return r.stdout
}

/**
 * A config value as git sees it (system, global, the repository's config and its includes), or undefined when it
 * is unset or git is missing. This is how labbook reads `.git/config`: never by parsing the file itself.
 */
export function gitConfig(where: GitOptions, key: string): string | undefined {
  try {
    const r = runGitSync(['config', '--get', key], { ...where, timeout: 5000 })
    return r.code === 0 ? r.stdout.replace(/\n$/, '') : undefined
  } catch {
    return undefined
  }
}

const configCache = new Map<string, { stamp: string; values: Map<string, string[]> }>()

/**
 * Every config value git sees for this git dir (`git config --list -z`: system, global, the repository's file and
 * its includes), keys lower-cased as git prints them. One git process per repository and process, read again only
 * when the repository's config file changes. Empty when git cannot read it.
 * @example repoConfig(gitdir).get('core.bare')?.at(-1) // 'true'
 */
export function repoConfig(gitdir: string): Map<string, string[]> {
  let stamp = ''
  try {
    const st = statSync(join(gitdir, 'config'))
    stamp = `${st.mtimeMs}:${st.size}:${st.ino}`
  } catch { /* no config file: git still has global values */ }
  const hit = configCache.get(gitdir)
  if (hit && hit.stamp === stamp) return hit.values
  const values = new Map<string, string[]>()
  try {
    const r = runGitSync(['config', '--list', '-z'], { gitdir, timeout: 5000 })
    if (r.code === 0) {
      for (const entry of r.stdout.split('\0')) {
        if (!entry) continue
        const nl = entry.indexOf('\n')
        const key = nl < 0 ? entry : entry.slice(0, nl)
        const list = values.get(key) ?? []
        list.push(nl < 0 ? 'true' : entry.slice(nl + 1))
        values.set(key, list)
      }
    }
  } catch { /* git missing: no values */ }
  configCache.set(gitdir, { stamp, values })
  return values
}

/** The last value of a key in `repoConfig` (what `git config --get` answers). */
export function repoConfigValue(gitdir: string, key: string): string | undefined {
  return repoConfig(gitdir).get(key.toLowerCase())?.at(-1)
}

/** Every value of a multi-valued config key (`git config --get-all`). */
export function gitConfigAll(where: GitOptions, key: string): string[] {
  const r = runGitSync(['config', '--get-all', key], { ...where, timeout: 5000 })
  return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : []
}

/** Adds a value to a multi-valued key of the repository's own config. */
export function gitConfigAdd(where: GitOptions, key: string, value: string): void {
  gitSync(['config', '--add', key, value], where)
}

/** The commit a revision names (`labbook~2`, `origin/labbook`, a short id), or null when it names none. */
export function revParseCommit(where: GitOptions, rev: string): string | null {
  if (/^[0-9a-f]{40}$/i.test(rev) || /^[0-9a-f]{64}$/i.test(rev)) return rev.toLowerCase()
  if (rev.startsWith('-')) return null
  const r = runGitSync(['rev-parse', '--verify', '-q', '--end-of-options', `${rev}^{commit}`], where)
  const oid = r.code === 0 ? r.stdout.trim() : ''
  return /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(oid) ? oid : null
}

/**
 * A long-lived `git cat-file --batch`: reads any object (loose or packed, deltas resolved by C git) over one pipe,
 * one request line per object. Started on first use; while idle it holds no event-loop reference, so it never
 * keeps a process alive, and it exits by itself when our end of the pipe closes. A missing object answers
 * undefined; C git re-scans the pack directory on a miss, so a pack written by a concurrent `git gc` is found.
 */
export class CatFileBatch {
  private child: ReturnType<typeof spawn> | undefined
  /**
   * Output not taken yet, in arrival order; the first is read from `off`. An object's body is a view into the pipe
   * read that holds it (no copy), or, when it spans reads, one copy of its bytes: each copy of 10 MB of summary
   * files cost a cold listing ~60 ms (memory freshly touched), and joining every read onto the last copied twice.
   */
  private chunks: Buffer[] = []
  private off = 0
  /** Bytes in `chunks` from `off`. */
  private avail = 0
  /** Bytes `avail` must reach before the next object can be taken (0: unknown). */
  private need = 0
  private outgoing = ''
  private flushQueued = false
  private readonly waiting: Array<{ resolve: (r: { type: string; body: Buffer; parts?: Buffer[] } | undefined) => void; reject: (e: unknown) => void; parts: boolean }> = []

  constructor(private readonly gitdir: string) {}

  read(oid: string): Promise<{ type: string; body: Buffer } | undefined> {
    return this.request(oid, false)
  }

  /**
   * read(), with the body as the views into the pipe reads that hold it, in order, never copied into one buffer
   * (`body` is then the first of them). For large bodies read to be scanned, not kept whole: a fresh clone's 100,000
   * runs are ~97 MB of summary files of ~400 KB each, nearly all spanning pipe reads, and copying them cost a cold
   * listing ~10% of its time.
   */
  readParts(oid: string): Promise<{ type: string; body: Buffer; parts?: Buffer[] } | undefined> {
    return this.request(oid, true)
  }

  private request(oid: string, parts: boolean): Promise<{ type: string; body: Buffer; parts?: Buffer[] } | undefined> {
    this.start()
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject, parts })
      if (this.waiting.length === 1) this.ref(true)
      // Requests made in one tick go out in one write: readers that ask for many objects at once (a listing reads
      // 256 shards) pay one pipe round trip, not one per object, which on a loaded machine is a scheduler slice each.
      this.outgoing += oid + '\n'
      if (!this.flushQueued) {
        this.flushQueued = true
        queueMicrotask(() => this.send())
      }
    })
  }

  private send(): void {
    this.flushQueued = false
    const text = this.outgoing
    this.outgoing = ''
    if (text && this.child) this.child.stdin!.write(text)
  }

  /** Ends the process (pending reads fail). Optional: an idle reader never holds the process open. */
  close(): void {
    this.send()
    this.child?.stdin?.end()
    this.child = undefined
  }

  private start(): ReturnType<typeof spawn> {
    if (this.child) return this.child
    const child = spawn('git', gitArgs(['cat-file', '--batch'], { gitdir: this.gitdir }), { env: gitEnv(), stdio: ['pipe', 'pipe', 'ignore'] })
    this.child = child
    this.chunks = []
    this.off = 0
    this.avail = 0
    this.need = 0
    child.stdout!.on('data', (b: Buffer) => this.take(b))
    const failAll = (e: unknown) => {
      if (this.child === child) this.child = undefined
      for (const w of this.waiting.splice(0)) w.reject(e)
    }
    child.on('error', (e) => failAll(cannotRun(e, ['cat-file', '--batch'])))
    child.on('exit', (code) => failAll(fail('GIT_FAILED', `git cat-file --batch exited (code ${code}) with reads pending.`)))
    child.stdin!.on('error', () => {}) // the exit handler reports
    this.ref(false)
    return child
  }

  private ref(on: boolean): void {
    const c = this.child
    if (!c) return
    for (const h of [c, c.stdin, c.stdout] as Array<{ ref?: () => void; unref?: () => void } | null>) {
      if (on) h?.ref?.()
      else h?.unref?.()
    }
  }

  private take(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.avail += chunk.length
    if (this.avail < this.need) return
    this.need = 0
    for (;;) {
      const w = this.waiting[0]
      if (!w) return
      const nl = this.find(10)
      if (nl < 0) return
      const header = this.peek(nl).toString('latin1')
      if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
        this.skip(nl + 1)
        this.waiting.shift()
        w.resolve(undefined)
      } else {
        const [, type, size] = header.split(' ')
        const n = Number(size)
        if (this.avail < nl + 1 + n + 1) {
          this.need = nl + 1 + n + 1
          return
        }
        this.skip(nl + 1)
        const parts = w.parts ? this.views(n) : undefined
        const body = parts ? parts[0] ?? Buffer.alloc(0) : this.peek(n)
        this.skip(n + 1)
        this.waiting.shift()
        w.resolve(parts && parts.length > 1 ? { type: type!, body, parts } : { type: type!, body })
      }
      if (this.waiting.length === 0) this.ref(false)
    }
  }

  /** Where the first `byte` is, counted from `off` over the chunks; -1 when none has it. */
  private find(byte: number): number {
    let base = 0
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks[i]!
      const from = i === 0 ? this.off : 0
      const at = c.indexOf(byte, from)
      if (at >= 0) return base + at - from
      base += c.length - from
    }
    return -1
  }

  /** The next `n` bytes (available): a view into one chunk, or a copy when they span chunks. */
  private peek(n: number): Buffer {
    const first = this.chunks[0]
    if (!first || this.off + n <= first.length) return (first ?? Buffer.alloc(0)).subarray(this.off, this.off + n)
    const out = Buffer.allocUnsafe(n)
    let got = 0
    for (let i = 0; got < n; i++) {
      const c = this.chunks[i]!
      const from = i === 0 ? this.off : 0
      got += c.copy(out, got, from, Math.min(c.length, from + n - got))
    }
    return out
  }

  /** The next `n` bytes (available) as views into the chunks that hold them, in order. */
  private views(n: number): Buffer[] {
    const out: Buffer[] = []
    for (let i = 0, got = 0; got < n; i++) {
      const c = this.chunks[i]!
      const from = i === 0 ? this.off : 0
      const to = Math.min(c.length, from + n - got)
      out.push(c.subarray(from, to))
      got += to - from
    }
    return out
  }

  /** Drops the next `n` bytes (available). */
  private skip(n: number): void {
    this.avail -= n
    while (n > 0) {
      const left = this.chunks[0]!.length - this.off
      if (n < left) {
        this.off += n
        return
      }
      n -= left
      this.chunks.shift()
      this.off = 0
    }
    if (this.chunks.length > 0 && this.off === this.chunks[0]!.length) { this.chunks.shift(); this.off = 0 }
  }
}

