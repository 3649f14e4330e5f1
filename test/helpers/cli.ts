// Running the labbook CLI in tests: in-process through main(argv, io), or the built binary as a real process.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** The bin users run (package.json `bin`): the bundled CLI, built by `npm run build`. */
export const CLI = join(ROOT, 'dist', 'bundle', 'labbook.js')
/** A module only tsc writes (tests import dist/src too). */
const COMPILED = join(ROOT, 'dist', 'src', 'index.js')

function newest(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

/** Builds dist/ (`npm run build`: tsc, then the bundle) when it is missing or older than src/ or cli/ (npm test builds first, so this is usually a no-op). */
export function ensureBuilt(): void {
  const built = Math.min(...[CLI, COMPILED].map((f) => (existsSync(f) ? statSync(f).mtimeMs : 0)))
  if (built >= Math.max(newest(join(ROOT, 'src')), newest(join(ROOT, 'cli')))) return
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' })
}

/** Streams for main(argv, io) that collect what was written. */
export function captureIO(cwd: string, env: NodeJS.ProcessEnv = {}, o: { tty?: boolean; columns?: number } = {}) {
  const out: string[] = []
  const err: string[] = []
  const stream = (sink: string[]) => ({
    write(chunk: string | Uint8Array) {
      sink.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString())
      return true
    },
    isTTY: o.tty ?? false,
    columns: o.columns,
  })
  const cleanEnv = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, LABBOOK_RUN_ID: undefined, LABBOOK_METRICS: undefined, LABBOOK_REPO: undefined, LABBOOK_BRANCH: undefined, ...env }
  return {
    io: { stdout: stream(out), stderr: stream(err), env: cleanEnv, cwd },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  }
}

export interface CliRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs the built CLI as a process (node dist/bundle/labbook.js ..., the bin users run). */
export function runCli(args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): Promise<CliRun> {
  return collect(startCli(args, o))
}

export function startCli(args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv }): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { cwd: o.cwd, env: cliEnv(o.env), stdio: ['ignore', 'pipe', 'pipe'] })
}

/** The environment a wrapped child gets `labbook` on its PATH through (a shim dir holding a `labbook` script). */
export function cliEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env }
  for (const k of ['LABBOOK_RUN_ID', 'LABBOOK_METRICS', 'LABBOOK_REPO', 'LABBOOK_BRANCH', 'NO_COLOR', 'FORCE_COLOR']) delete base[k]
  return { ...base, PATH: `${join(ROOT, 'test', 'helpers', 'bin')}:${process.env.PATH}`, ...env }
}

export function collect(child: ChildProcess): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d) => (stdout += d))
  child.stderr?.on('data', (d) => (stderr += d))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** Resolves once `text` has appeared on the child's stdout or stderr. */
export function waitForOutput(child: ChildProcess, text: string | RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${text}; saw: ${seen}`)), timeoutMs)
    const on = (d: Buffer) => {
      seen += d
      if (typeof text === 'string' ? seen.includes(text) : text.test(seen)) {
        clearTimeout(timer)
        child.stdout?.off('data', on)
        child.stderr?.off('data', on)
        resolve(seen)
      }
    }
    child.stdout?.on('data', on)
    child.stderr?.on('data', on)
  })
}
