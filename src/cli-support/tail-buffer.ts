/**
 * Keeps the last `limit` bytes of a stream (the wrapped command's stdout and stderr, interleaved as they arrive),
 * so a chatty training script cannot turn its log artifact into gigabytes.
 */
export class TailBuffer {
  private chunks: Buffer[] = []
  private held = 0
  /** Every byte ever pushed, kept or not. */
  total = 0

  /** @param limit bytes to keep; 0 keeps nothing. */
  constructor(readonly limit: number) {}

  push(chunk: Buffer | string): void {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    this.total += b.length
    if (this.limit <= 0) return
    this.chunks.push(b)
    this.held += b.length
    // Compact lazily (at twice the limit) so the cost per byte stays constant.
    if (this.held > this.limit * 2) this.compact()
  }

  get truncated(): boolean {
    return this.total > this.limit
  }

  /** The kept bytes; when bytes were dropped, a first line says how many, so nobody mistakes the tail for the whole. */
  contents(): Buffer {
    this.compact()
    const body = Buffer.concat(this.chunks)
    if (!this.truncated) return body
    // Start at a line boundary when one is near, so the first kept line is whole.
    const nl = body.indexOf(10)
    const start = nl >= 0 && nl < 4096 ? nl + 1 : 0
    const kept = body.subarray(start)
    const note = `[labbook: output truncated: kept the last ${kept.length} of ${this.total} bytes (limit ${this.limit}); set --log-limit to keep more]\n`
    return Buffer.concat([Buffer.from(note), kept])
  }

  private compact(): void {
    if (this.held <= this.limit) return
    const all = Buffer.concat(this.chunks)
    const kept = all.subarray(all.length - this.limit)
    this.chunks = [Buffer.from(kept)]
    this.held = kept.length
  }
}

/** Parses sizes such as `1048576`, `512k`, `10MB`, `1GiB` into bytes; undefined when the text is not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(i?b)?\s*$/i.exec(text)
  if (!m) return undefined
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g']
  return Math.round(Number(m[1]) * unit)
}
