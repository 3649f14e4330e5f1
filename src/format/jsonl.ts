import { LabbookError } from '../errors.js'
import type { MetricPoint } from '../model/run.js'
import { numberFromJson, numberToJson } from './numbers.js'

/**
 * Metric history chunks: one point per line, `{"k":key,"v":value,"s":step,"t":timestamp}`.
 * Short keys keep a million points near 50 MB raw; the spelling is documented in docs/format.md.
 */
export function encodePoint(key: string, value: number, step: number, timestamp: number): string {
  return `{"k":${JSON.stringify(key)},"v":${numberToJson(value)},"s":${step},"t":${timestamp}}\n`
}

/** Parses a chunk; the whole text goes through one JSON.parse, which is ~1.5× faster than line by line. */
export function decodeChunk(text: string, where = 'chunk'): MetricPoint[] {
  const body = text.trimEnd()
  if (body === '') return []
  let rows: Array<{ k: unknown; v: unknown; s: unknown; t: unknown }>
  try {
    rows = JSON.parse('[' + body.replace(/\n/g, ',') + ']')
  } catch (e) {
    return decodeLines(body, where)
  }
  const out: MetricPoint[] = new Array(rows.length)
  for (let i = 0; i < rows.length; i++) out[i] = toPoint(rows[i], where, i + 1)
  return out
}

function decodeLines(body: string, where: string): MetricPoint[] {
  const lines = body.split('\n')
  return lines.map((line, i) => {
    let row: unknown
    try {
      row = JSON.parse(line)
    } catch (e) {
      throw new LabbookError('CORRUPT_DATA', `${where}:${i + 1} is not valid JSON.`, 'The branch holds a damaged metric chunk; check `git log` of the branch.', { where, line: i + 1 }, { cause: e })
    }
    return toPoint(row, where, i + 1)
  })
}

function toPoint(row: any, where: string, line: number): MetricPoint {
  const value = numberFromJson(row?.v)
  if (row === null || typeof row !== 'object' || typeof row.k !== 'string' || value === undefined || typeof row.s !== 'number' || typeof row.t !== 'number') {
    throw new LabbookError('CORRUPT_DATA', `${where}:${line} is not a metric point {"k","v","s","t"}.`, undefined, { where, line })
  }
  return { key: row.k, value, step: row.s, timestamp: row.t }
}

/** Orders a history the way readers expect: by step, then timestamp (stable for equal pairs). */
export function sortHistory(points: MetricPoint[]): MetricPoint[] {
  return points.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp)
}
