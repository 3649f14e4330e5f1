import type { CliIO } from './io.js'

export interface Progress {
  /** Sets how far along the work is; `total` unknown shows a counter. */
  update(done: number, total?: number): void
  /** Clears the bar (the caller prints its own result). */
  done(): void
}

/**
 * A progress bar on stderr when it is a terminal, nothing when piped: long operations (recover, import, site build)
 * use it. Redraws at most every 100 ms.
 * @example const p = progress(io, 'recovering'); p.update(3, 10); p.done()
 */
export function progress(io: CliIO, label: string): Progress {
  if (!io.stderr.isTTY || io.env.CI) return { update() {}, done() {} }
  let last = 0
  let drawn = false
  const width = Math.max(10, Math.min(40, (io.stderr.columns ?? 80) - label.length - 20))
  return {
    update(done, total) {
      const now = Date.now()
      if (now - last < 100 && done !== total) return
      last = now
      let text: string
      if (total && total > 0) {
        const filled = Math.round((Math.min(done, total) / total) * width)
        text = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`
      } else {
        text = `${label} ${done}…`
      }
      io.stderr.write(`\r\x1b[2K${text}`)
      drawn = true
    },
    done() {
      if (drawn) io.stderr.write('\r\x1b[2K')
    },
  }
}
