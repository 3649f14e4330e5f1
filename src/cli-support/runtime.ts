import { spawn } from 'node:child_process'
import { accessSync, constants, openSync, readSync, closeSync, realpathSync } from 'node:fs'
import { basename, delimiter, isAbsolute, join, resolve } from 'node:path'

/** What a wrapped command ran on: `source.runtime`, and for Python the installed distributions. */
export interface CommandRuntime {
  /** e.g. "python 3.11.7", or the first line of `--version` ("julia version 1.10.0"). */
  runtime?: string
  /** requirements.txt-style lines (`name==version`, sorted), Python only. */
  requirements?: string
}

const PYTHON = /^(?:python|pypy)[\d.]*$/
/** Printed by the interpreter the command runs: its version, then one `name==version` per installed distribution. */
const PY_PROBE = [
  'import sys',
  'print("python " + sys.version.split()[0])',
  'try:',
  '  import importlib.metadata as m',
  '  seen = {}',
  '  for d in m.distributions():',
  '    n = d.metadata["Name"]',
  '    if n and n.lower() not in seen: seen[n.lower()] = n + "==" + d.version',
  '  print("\\n".join(sorted(seen.values(), key=str.lower)))',
  'except Exception: pass',
].join('\n')

/** Shells whose `-c SCRIPT` runs another program: the runtime is that program's. */
const SHELL = /^(?:sh|bash|dash|zsh|ksh|mksh|ash)$/

/**
 * Finds out what the wrapped command runs on, without running the command itself: for Python (by name, or a script
 * whose `#!` line names Python) the interpreter's version and distributions, via `importlib.metadata`; for another
 * program found on PATH, or the interpreter on a script's `#!` line, the first line of its `--version`. A shell
 * running `-c SCRIPT` is looked through to the program the script starts (`sh -c "python3 train.py"` is Python).
 * When `--version` says nothing (dash, busybox `sh`), the program and the file it resolves to
 * (`sh → /usr/bin/dash`), so the run never claims labbook's own Node as its runtime. A program given by path is not
 * run with `--version` (it may be the training script itself). Meant to run beside the command, off its hot path;
 * gives up after `timeoutMs` (or when `signal` aborts) and then resolves with nothing.
 * @example const rt = await probeRuntime(['python3', 'train.py'], { env: process.env, cwd })
 */
export async function probeRuntime(command: string[], o: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs?: number; signal?: AbortSignal }): Promise<CommandRuntime> {
  const exe = command[0]
  if (!exe) return {}
  const timeoutMs = o.timeoutMs ?? 30_000
  const inner = shellScriptProgram(command)
  if (inner) {
    const rt = await probeRuntime(inner, o)
    if (rt.runtime) return rt
  }
  const python = pythonOf(command, o)
  if (python) {
    const out = await capture(python, ['-c', PY_PROBE], o, timeoutMs)
    if (out === undefined) return {}
    const [first, ...rest] = out.split('\n')
    if (!first?.startsWith('python ')) return {}
    const requirements = rest.filter((l) => l.trim() !== '').join('\n')
    return { runtime: first.trim(), requirements: requirements ? requirements + '\n' : undefined }
  }
  // A script given by path runs on its #! interpreter; a bare name is looked up on PATH.
  const program = exe.includes('/') ? shebangOf(exe, o)?.interp : exe
  if (!program) return {}
  const file = program.includes('/') ? program : onPath(program, o.env)
  if (!file) return {}
  const out = await capture(file, ['--version'], o, Math.min(timeoutMs, 5_000))
  const line = out?.split('\n').find((l) => l.trim() !== '')?.trim()
  if (line) return { runtime: line.length > 200 ? line.slice(0, 200) : line }
  let real = file
  try { real = realpathSync(file) } catch { /* keep the path */ }
  return { runtime: `${basename(program)} → ${real}` }
}

/**
 * The program a shell's `-c SCRIPT` starts: its first word after variable assignments and `exec`/`env`
 * (`sh -c "FOO=1 exec python3 train.py"` → `python3 train.py`); undefined when the command is not a shell with `-c`.
 */
export function shellScriptProgram(command: string[]): string[] | undefined {
  if (!SHELL.test(basename(command[0] ?? ''))) return undefined
  const i = command.findIndex((a, k) => k > 0 && /^-[a-z]*c[a-z]*$/.test(a))
  const script = i > 0 ? command[i + 1] : undefined
  if (!script) return undefined
  const words = script.trim().split(/[\s;&|()<>]+/)
  let k = 0
  while (k < words.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[k]!) || words[k] === 'exec' || words[k] === 'env')) k++
  const first = words[k]?.replace(/^["']|["']$/g, '')
  return first ? [first, ...words.slice(k + 1)] : undefined
}

/** The Python interpreter a command runs on: `python3 …`, or a script whose `#!` line is a Python. */
function pythonOf(command: string[], o: { env: NodeJS.ProcessEnv; cwd: string }): string | undefined {
  const exe = command[0]!
  if (PYTHON.test(basename(exe))) return exe
  if (!exe.includes('/')) return undefined
  const interp = shebangOf(exe, o)?.interp
  return interp && PYTHON.test(basename(interp)) ? interp : undefined
}

/** The interpreter on a script's `#!` line (`#!/usr/bin/env python3` → `python3`). */
function shebangOf(exe: string, o: { cwd: string }): { interp: string } | undefined {
  const shebang = firstLine(isAbsolute(exe) ? exe : resolve(o.cwd, exe))
  const m = shebang && /^#!\s*(\S+)(?:\s+(\S+))?/.exec(shebang)
  if (!m) return undefined
  const interp = basename(m[1]!) === 'env' ? m[2] : m[1]
  return interp ? { interp } : undefined
}

function firstLine(path: string): string | undefined {
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    const buf = Buffer.alloc(256)
    const n = readSync(fd, buf, 0, 256, 0)
    return buf.subarray(0, n).toString('utf8').split('\n')[0]
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** The executable file `exe` names on PATH, or undefined. */
function onPath(exe: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    try {
      accessSync(join(dir, exe), constants.X_OK)
      return join(dir, exe)
    } catch {
      // next
    }
  }
  return undefined
}

/** stdout (stderr when stdout is empty: old Pythons and javas print versions there) or undefined on failure. */
function capture(cmd: string, args: string[], o: { env: NodeJS.ProcessEnv; cwd: string; signal?: AbortSignal }, timeoutMs: number): Promise<string | undefined> {
  return new Promise((done) => {
    let out = ''
    let err = ''
    let child
    try {
      child = spawn(cmd, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'], signal: o.signal, killSignal: 'SIGKILL' })
    } catch {
      return done(undefined)
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.stdout.setEncoding('utf8').on('data', (d: string) => { if (out.length < 4 << 20) out += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { if (err.length < 64 << 10) err += d })
    child.once('error', () => { clearTimeout(timer); done(undefined) })
    child.once('close', (code) => {
      clearTimeout(timer)
      done(code === 0 ? (out.trim() !== '' ? out : err) : undefined)
    })
  })
}
