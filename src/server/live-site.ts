import { join } from 'node:path'
import type { Logger } from './context.js'

export interface LiveSiteOptions {
  /** Work folder; builds alternate between `<dir>/a` and `<dir>/b` so a complete site is always being served. */
  dir: string
  /** The branch's commit id, or null before the first write. */
  tip: () => Promise<string | null>
  /** Builds the site of revision `rev` into `out`, giving up when `signal` aborts (the CLI runs `labbook site build` in a child process). */
  build: (out: string, rev: string, signal: AbortSignal) => Promise<void>
  /** How often to look for a new tip, in ms. @default 60000 */
  interval?: number
  log?: Logger
}

/**
 * The site `labbook serve` shows under `/`: rebuilt whenever the branch tip has moved (checked every `interval`),
 * one build at a time, and the last complete build served meanwhile.
 * @example const site = new LiveSite({ dir, tip: () => book.tip(), build }); site.start(); serve({ book, site })
 */
export class LiveSite {
  private current: string | undefined
  private builtTip: string | null | undefined
  private building: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private readonly abort = new AbortController()

  constructor(private readonly o: LiveSiteOptions) {}

  /** The folder of the newest complete build, if any. */
  dir(): string | undefined {
    return this.current
  }

  start(): void {
    void this.check()
    this.timer = setInterval(() => void this.check(), this.o.interval ?? 60_000)
    this.timer.unref()
  }

  /** Starts a build if the tip moved since the last one and none is running; resolves when that build is over. */
  async check(): Promise<void> {
    if (this.building) return this.building
    if (this.abort.signal.aborted) return
    const tip = await this.o.tip()
    if (!tip || tip === this.builtTip) return
    const out = join(this.o.dir, this.current?.endsWith('a') ? 'b' : 'a')
    const started = Date.now()
    this.building = this.o.build(out, tip, this.abort.signal).then(
      () => {
        this.current = out
        this.builtTip = tip
        this.o.log?.('info', `site rebuilt for ${tip.slice(0, 12)} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
      },
      (e: unknown) => {
        if (this.abort.signal.aborted) return
        this.builtTip = tip // do not retry the same revision every interval
        this.o.log?.('warn', `site build failed for ${tip.slice(0, 12)}: ${(e as Error).message}`)
      },
    ).finally(() => {
      this.building = undefined
    })
    return this.building
  }

  /** Stops checking and cancels a build in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.abort.abort()
    await this.building
  }
}
