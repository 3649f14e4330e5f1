/**
 * The one route from parsed `$LABBOOK_METRICS` records (src/format/metrics-lines.ts) into a run, for `labbook run`
 * while the command runs and for `recover` after its wrapper died. What differs between the two is an option.
 */
import { isAbsolute, resolve } from 'node:path'
import type { MetricsSink } from '../format/metrics-lines.js'
import type { ParamValue } from '../model/run.js'
import type { Run } from './run.js'

/** A param logged with a value other than the one the run already had (the first value is kept). */
export interface ParamConflict {
  key: string
  kept: ParamValue
  logged: ParamValue
}

export interface RunSinkOptions {
  /** Drop the first `skip` points: they are in the journal already (`recover`: the wrapper died mid-file). @default 0 */
  skip?: number
  /** The timestamp of a point whose line has none (`recover`: the file's last change). @default logMetric's clock */
  fallbackTime?: number
  /**
   * The directory a relative artifact path is resolved against (the command's). Without it a relative path is a bad
   * line: `recover` does not know where the command ran.
   */
  cwd?: string
  /** Once per key and new value: the param kept its first value, the line's other keys landed. */
  onParamConflict?: (c: ParamConflict) => void
  /** An artifact that could not be logged (copying runs in the background; awaited through `pending`). */
  onArtifactError?: (path: string, e: Error & { code?: string }) => void
}

export interface RunSink extends MetricsSink {
  /** Points logged so far (skipped ones not counted). */
  readonly points: number
  /** Artifact copies under way; await them before the run ends. They never reject (`onArtifactError` hears). */
  readonly pending: Array<Promise<void>>
}

/**
 * Routes records to the run. Params go key by key: a conflict with the run's value (`-p lr=0.01`, then
 * `{"params": {"lr": 0.02}}`) keeps the first value and is reported; another refusal (a bad key) is thrown after the
 * good keys are in, so the parser reports the line as skipped.
 * @example const sink = runMetricsSink(run, { cwd }); new MetricsLineParser(sink, onProblem).feed(text)
 */
export function runMetricsSink(run: Pick<Run, 'logMetric' | 'logParam' | 'setTags' | 'logArtifact'>, o: RunSinkOptions = {}): RunSink {
  let skip = o.skip ?? 0
  let points = 0
  const conflicts = new Map<string, ParamValue[]>()
  // One options object, reused: logMetric reads it synchronously. The hot path of ingestion.
  const opts: { step?: number; timestamp?: number } = {}
  const pending: Array<Promise<void>> = []
  return {
    get points() { return points },
    pending,
    metric(key, value, step, timestamp) {
      if (skip > 0) { skip--; return }
      opts.step = step
      opts.timestamp = timestamp ?? o.fallbackTime
      run.logMetric(key, value, opts)
      points++
    },
    params(values) {
      let refused: unknown
      for (const [key, value] of Object.entries(values)) {
        try {
          run.logParam(key, value)
        } catch (e) {
          const err = e as { code?: string; data?: { old?: ParamValue } }
          if (err.code !== 'PARAM_CHANGED') { refused ??= e; continue }
          const seen = conflicts.get(key) ?? []
          if (err.data?.old === undefined || seen.some((v) => Object.is(v, value))) continue
          conflicts.set(key, [...seen, value])
          o.onParamConflict?.({ key, kept: err.data.old, logged: value })
        }
      }
      if (refused) throw refused
    },
    tags(values) {
      run.setTags(values)
    },
    artifact(path, to) {
      if (o.cwd === undefined && !isAbsolute(path)) throw new Error(`relative artifact path ${JSON.stringify(path)}: the directory the command ran in is not known here`)
      // Reported as soon as it fails: a rejection left for later would end the process.
      pending.push(run.logArtifact(o.cwd === undefined ? path : resolve(o.cwd, path), to ? { to } : undefined).catch((e: Error & { code?: string }) => {
        o.onArtifactError?.(path, e)
      }))
    },
  }
}
