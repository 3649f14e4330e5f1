import { spawn, type ChildProcess } from 'node:child_process'
import type { TailBuffer } from './tail-buffer.js'

export interface Sink {
  write(chunk: Buffer | string): boolean
  once?(event: 'drain', fn: () => void): unknown
}

export interface ChildOptions {
  env: NodeJS.ProcessEnv
  cwd: string
  /** Where the child's stdout and stderr go on (our own stdout and stderr), besides the tail. */
  stdout: Sink
  stderr: Sink
  /** Receives both streams, interleaved in arrival order, for the log artifact. */
  tail: TailBuffer
}

export interface ChildExit {
  /** Exit code, or null when the child died of a signal or never started. */
  code: number | null
  signal: NodeJS.Signals | null
  /** Set when the command could not be started (ENOENT, EACCES). */
  error?: NodeJS.ErrnoException
}

/**
 * Starts `command args` with stdin inherited and stdout/stderr piped through to ours and into a tail buffer.
 * Pipes rather than inherited descriptors so the log can be kept; the cost is that the child sees no terminal
 * (Python buffers its output, so the caller sets PYTHONUNBUFFERED).
 * @example const { child, done } = runChild('python3', ['train.py'], opts); const { code, signal } = await done
 */
export function runChild(command: string, args: string[], o: ChildOptions): { child: ChildProcess; done: Promise<ChildExit> } {
  const child = spawn(command, args, { cwd: o.cwd, env: o.env, stdio: ['inherit', 'pipe', 'pipe'] })
  const done = new Promise<ChildExit>((resolve) => {
    let settled = false
    child.once('error', (error: NodeJS.ErrnoException) => {
      // 'error' without a pid means the command never started; once started, 'close' reports the end.
      if (child.pid === undefined && !settled) {
        settled = true
        resolve({ code: null, signal: null, error })
      }
    })
    child.once('close', (code, signal) => {
      if (settled) return
      settled = true
      resolve({ code, signal })
    })
  })
  pipe(child.stdout!, o.stdout, o.tail)
  pipe(child.stderr!, o.stderr, o.tail)
  return { child, done }
}

function pipe(from: NodeJS.ReadableStream, to: Sink, tail: TailBuffer): void {
  from.on('data', (chunk: Buffer) => {
    tail.push(chunk)
    // Respect backpressure of our own stdout (a slow pipe reader) instead of buffering without bound.
    if (!to.write(chunk) && to.once) {
      from.pause()
      to.once('drain', () => from.resume())
    }
  })
}
