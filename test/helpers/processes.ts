// Child processes and loopback ports for tests that run real labbook processes and a real `git daemon`.
import { spawn } from 'node:child_process'
import net from 'node:net'

const CHILD = new URL('./child.ts', import.meta.url).pathname

/** Runs test/helpers/child.ts (`MODE REPO …`) as its own process and collects its output, exit code and signal. */
export function runChild(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = '', stderr = ''
    p.stdout.on('data', (d) => (stdout += d))
    p.stderr.on('data', (d) => (stderr += d))
    p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for `git daemon --port`). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
}

/** Calls `fn` every 100 ms until it stops throwing (its result), or rethrows after `ms`. */
export async function waitFor<T>(fn: () => T, ms = 10_000): Promise<T> {
  const t = Date.now()
  for (;;) {
    try { return fn() } catch (e) { if (Date.now() - t > ms) throw e }
    await new Promise((r) => setTimeout(r, 100))
  }
}
