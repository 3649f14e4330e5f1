import { keyed, type MetricPoint, type MetricSummary } from './run.js'

/** MLflow's "latest" rule: the point with the highest step, then timestamp, then value. */
export function isLater(step: number, timestamp: number, value: number, than: MetricSummary): boolean {
  if (step !== than.step) return step > than.step
  if (timestamp !== than.timestamp) return timestamp > than.timestamp
  return compareValues(value, than.value) > 0
}

/** Total order on numbers that puts NaN above everything (as MLflow's SQL store does). */
export function compareValues(a: number, b: number): number {
  const an = Number.isNaN(a), bn = Number.isNaN(b)
  if (an || bn) return an === bn ? 0 : an ? 1 : -1
  return a < b ? -1 : a > b ? 1 : 0
}

/** Folds one point into a summary (mutating it); NaN never becomes min or max while a number exists. */
export function addToSummary(s: MetricSummary | undefined, value: number, step: number, timestamp: number): MetricSummary {
  if (!s) return { value, step, timestamp, min: value, max: value, count: 1 }
  s.count++
  if (!Number.isNaN(value)) {
    if (Number.isNaN(s.min) || value < s.min) s.min = value
    if (Number.isNaN(s.max) || value > s.max) s.max = value
  }
  if (isLater(step, timestamp, value, s)) {
    s.value = value
    s.step = step
    s.timestamp = timestamp
  }
  return s
}

export function summarize(points: Iterable<MetricPoint>): Record<string, MetricSummary> {
  const out = keyed<MetricSummary>()
  for (const p of points) out[p.key] = addToSummary(out[p.key], p.value, p.step, p.timestamp)
  return out
}

export function mergeSummaries(a: MetricSummary | undefined, b: MetricSummary | undefined): MetricSummary | undefined {
  if (!a) return b && { ...b }
  if (!b) return { ...a }
  const out = { ...a }
  out.count = a.count + b.count
  if (Number.isNaN(out.min) || b.min < out.min) out.min = b.min
  if (Number.isNaN(out.max) || b.max > out.max) out.max = b.max
  if (isLater(b.step, b.timestamp, b.value, a)) {
    out.value = b.value
    out.step = b.step
    out.timestamp = b.timestamp
  }
  return out
}
