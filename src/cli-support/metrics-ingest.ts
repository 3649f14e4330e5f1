import { existsSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import type { ParamValue } from '../model/run.js'
import { scriptPath } from '../package-files.js'
import type { IngestStats, LineProblem, MetricsSink } from '../format/metrics-lines.js'


/** @internal What the worker is started with. */
export interface WorkerInit {
  path: string
  intervalMs: number
}

/** @internal Something other than a metric point, at its place among the points (`at` = points before it). */
export type IngestEvent =
  | { at: number; kind: 'params'; line: number; values: Record<string, ParamValue> }
  | { at: number; kind: 'tags'; line: number; values: Record<string, string> }
  | { at: number; kind: 'artifact'; line: number; path: string; to?: string }
  | { at: number; kind: 'problem'; line: number; message: string }

/** @internal Points as columns; NaN in steps/times means "not given". */
export interface IngestBatch {
  type: 'batch'
  newKeys: string[]
  n: number
  keyIdx: Uint32Array
  values: Float64Array
  steps: Float64Array
  times: Float64Array
  lines: Uint32Array
  events: IngestEvent[]
  final: boolean
  lines_seen: number
  malformed: number
  /** The worker tailer's `mark().offset` once this batch's lines were parsed (all of them are in the batch). */
  consumed: number
}

/**
 * Ingests a `$LABBOOK_METRICS` file like MetricsFileTailer, but reads and parses it in a worker thread: the main
 * thread only hands points to the sink. On two cores that takes the parsing (and its garbage) off the thread that
 * logs, which is what bounds ingestion speed.
 * @example const ing = new MetricsIngestor(path, sink, { onProblem }); await ing.start(); …; const stats = await ing.stop()
 */
export class MetricsIngestor {
  private worker: Worker | undefined
  private readonly keys: string[] = []
  private stopped: Promise<void> | undefined
  private finish: (() => void) | undefined
  private failure: Error | undefined
  private linesSeen = 0
  private workerMalformed = 0
  private points = 0
  private refused = 0
  private lastRefusedLine = -1
  private consumed = 0
  private pointsAtConsumed = 0

  constructor(readonly path: string, private readonly sink: MetricsSink, private readonly options: { intervalMs?: number; onProblem?: (p: LineProblem) => void } = {}) {}

  /** Whether the compiled worker is there (it is in dist/; not when running the TypeScript sources directly). */
  static available(): boolean {
    return existsSync(scriptPath('metrics-worker'))
  }

  get stats(): IngestStats {
    return { lines: this.linesSeen, points: this.points, malformed: this.workerMalformed + this.refused }
  }

  /** As MetricsFileTailer.mark(): every line before `offset` is handed to the sink, plus `points` points after it. */
  mark(): { offset: number; points: number } {
    return { offset: this.consumed, points: this.points - this.pointsAtConsumed }
  }

  async start(): Promise<void> {
    const init: WorkerInit = { path: this.path, intervalMs: this.options.intervalMs ?? 100 }
    const worker = new Worker(scriptPath('metrics-worker'), { workerData: init })
    this.worker = worker
    this.stopped = new Promise((resolve) => (this.finish = resolve))
    worker.on('message', (m: IngestBatch | { type: 'started' }) => {
      if (m.type === 'batch') this.apply(m)
    })
    worker.on('error', (e) => {
      this.failure = e
      this.finish?.()
    })
    worker.on('exit', () => this.finish?.())
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve())
      worker.once('error', reject)
    })
  }

  /** Reads the rest of the file, hands it over, and ends the worker. */
  async stop(): Promise<IngestStats> {
    this.worker?.postMessage({ type: 'stop' })
    await this.stopped
    await this.worker?.terminate()
    if (this.failure) throw this.failure
    return this.stats
  }

  private apply(b: IngestBatch): void {
    for (const k of b.newKeys) this.keys.push(k)
    const { keys, sink } = this
    let e = 0
    const events = b.events
    for (let i = 0; i < b.n; i++) {
      while (e < events.length && events[e]!.at <= i) this.event(events[e++]!)
      const step = b.steps[i]!
      const time = b.times[i]!
      try {
        sink.metric(keys[b.keyIdx[i]!]!, b.values[i]!, step === step ? step : undefined, time === time ? time : undefined)
        this.points++
      } catch (err) {
        this.refuse(b.lines[i]!, err)
      }
    }
    while (e < events.length) this.event(events[e++]!)
    this.linesSeen = b.lines_seen
    this.consumed = b.consumed
    this.pointsAtConsumed = this.points
    this.workerMalformed = b.malformed
    if (b.final) this.finish?.()
  }

  private event(ev: IngestEvent): void {
    try {
      if (ev.kind === 'problem') this.options.onProblem?.({ line: ev.line, message: ev.message })
      else if (ev.kind === 'params') this.sink.params(ev.values)
      else if (ev.kind === 'tags') this.sink.tags(ev.values)
      else this.sink.artifact(ev.path, ev.to)
    } catch (err) {
      this.refuse(ev.line, err)
    }
  }

  private refuse(line: number, err: unknown): void {
    if (line === this.lastRefusedLine) return // one report per line
    this.lastRefusedLine = line
    this.refused++
    const code = (err as { code?: string }).code
    this.options.onProblem?.({ line, message: `${code ? code + ': ' : ''}${(err as Error).message}` })
  }
}
