/** The streams and environment a command sees; `main(argv, io)` takes them so tests can run commands in-process. */
export interface OutStream {
  write(chunk: string | Uint8Array): boolean
  once?(event: 'drain', fn: () => void): unknown
  isTTY?: boolean
  columns?: number
}

export interface CliIO {
  stdout: OutStream
  stderr: OutStream
  env: NodeJS.ProcessEnv
  cwd: string
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }
}
