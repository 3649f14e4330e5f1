/**
 * The run journal's lines (`.git/labbook/journal/<run>/<base>.jsonl`): encoder beside decoder. A line is either a
 * metric point, spelled exactly as in a metric chunk (jsonl.ts), or an op: `{"op":"param","key":"lr","value":…}`.
 * Numbers in param values are wrapped (`{"n":0.1}`, `{"n":"NaN"}`) so a param keeps its type and non-finite values.
 */
import type { DatasetInput, MetricPoint, ParamValue, RunStatus } from '../model/run.js'
import { decodePointRow, encodePoint } from './jsonl.js'
import { numberFromJson, numberToJson } from '../model/json-numbers.js'

export type JournalOp =
  /** The run as first written (run.yaml text), so recovery can rebuild a run that never reached the branch. */
  | { op: 'start'; run: string }
  | { op: 'param'; key: string; value: ParamValue }
  | { op: 'tag'; key: string; value: string }
  | { op: 'untag'; key: string }
  | { op: 'name'; value: string }
  | { op: 'description'; value: string }
  | { op: 'resume' }
  /** A dataset input (MLflow's log_input), as it goes into run.yaml's `datasets`. */
  | { op: 'dataset'; value: DatasetInput }
  | { op: 'end'; status: RunStatus; endTime: number }
  /**
   * `labbook run`'s `$LABBOOK_METRICS` file as of this journal write: the bytes before `offset` are in the run (every
   * line up to there), and `points` more metric points of the lines after it are too (a write can fall mid-line).
   * `child` is the wrapped command, so recovery can tell whether it is still writing.
   */
  | { op: 'metrics-file'; path: string; offset: number; points: number; child?: { pid: number; host: string; started: string } }

export type JournalEntry = { kind: 'op'; op: JournalOp } | { kind: 'point'; point: MetricPoint }

/** A line that is valid JSON but no entry this version knows (skipped, not fatal). */
export interface UnknownEntry { kind: 'unknown' }

function paramJson(v: ParamValue): string {
  return typeof v === 'number' ? `{"n":${numberToJson(v)}}` : JSON.stringify(v)
}

/** One op as a journal line (with its newline). */
export function encodeOp(o: JournalOp): string {
  switch (o.op) {
    case 'start': return `{"op":"start","run":${JSON.stringify(o.run)}}\n`
    case 'param': return `{"op":"param","key":${JSON.stringify(o.key)},"value":${paramJson(o.value)}}\n`
    case 'tag': return `{"op":"tag","key":${JSON.stringify(o.key)},"value":${JSON.stringify(o.value)}}\n`
    case 'untag': return `{"op":"untag","key":${JSON.stringify(o.key)}}\n`
    case 'name': return `{"op":"name","value":${JSON.stringify(o.value)}}\n`
    case 'description': return `{"op":"description","value":${JSON.stringify(o.value)}}\n`
    case 'resume': return '{"op":"resume"}\n'
    case 'dataset': return `{"op":"dataset","value":${JSON.stringify(o.value)}}\n`
    case 'end': return `{"op":"end","status":${JSON.stringify(o.status)},"endTime":${o.endTime}}\n`
    case 'metrics-file': {
      const child = o.child ? `,"child":{"pid":${o.child.pid},"host":${JSON.stringify(o.child.host)},"started":${JSON.stringify(o.child.started)}}` : ''
      return `{"op":"metrics-file","path":${JSON.stringify(o.path)},"offset":${o.offset},"points":${o.points}${child}}\n`
    }
  }
}

/** One entry of any kind as a journal line (points as in a metric chunk). */
export function encodeJournalEntry(e: JournalEntry): string {
  return e.kind === 'op' ? encodeOp(e.op) : encodePoint(e.point.key, e.point.value, e.point.step, e.point.timestamp)
}

const str = (v: unknown): v is string => typeof v === 'string'

/**
 * Decodes one line (without its newline). Undefined for a line that is not valid JSON (the torn last line a crash
 * leaves: recovery stops there); `unknown` for JSON that is no entry it knows (skipped).
 */
export function decodeJournalLine(line: string): JournalEntry | UnknownEntry | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return undefined
  }
  if (parsed === null || typeof parsed !== 'object') return { kind: 'unknown' }
  const row = parsed as Record<string, unknown>
  if (typeof row.op !== 'string') {
    const point = decodePointRow(row)
    return point ? { kind: 'point', point } : { kind: 'unknown' }
  }
  const op = decodeOp(row)
  return op ? { kind: 'op', op } : { kind: 'unknown' }
}

function decodeOp(row: Record<string, unknown>): JournalOp | undefined {
  const { key, value } = row
  switch (row.op) {
    case 'start': return str(row.run) ? { op: 'start', run: row.run } : undefined
    case 'param': {
      if (!str(key)) return undefined
      if (value !== null && typeof value === 'object') {
        const n = numberFromJson((value as { n?: unknown }).n)
        return n === undefined ? undefined : { op: 'param', key, value: n }
      }
      return str(value) || typeof value === 'boolean' ? { op: 'param', key, value } : undefined
    }
    case 'tag': return str(key) && str(value) ? { op: 'tag', key, value } : undefined
    case 'untag': return str(key) ? { op: 'untag', key } : undefined
    case 'name': return str(value) ? { op: 'name', value } : undefined
    case 'description': return str(value) ? { op: 'description', value } : undefined
    case 'resume': return { op: 'resume' }
    case 'dataset': {
      const d = value as Record<string, unknown> | null
      if (!d || typeof d !== 'object' || !str(d.name) || !str(d.digest)) return undefined
      const out: DatasetInput = { name: d.name, digest: d.digest, sourceType: str(d.sourceType) ? d.sourceType : '', source: str(d.source) ? d.source : '' }
      for (const f of ['context', 'schema', 'profile'] as const) if (str(d[f])) out[f] = d[f] as string
      return { op: 'dataset', value: out }
    }
    case 'end': return str(row.status) && typeof row.endTime === 'number' ? { op: 'end', status: row.status as RunStatus, endTime: row.endTime } : undefined
    case 'metrics-file': {
      const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
      if (!str(row.path) || !count(row.offset) || !count(row.points)) return undefined
      const out: JournalOp = { op: 'metrics-file', path: row.path, offset: row.offset, points: row.points }
      const c = row.child as Record<string, unknown> | null | undefined
      if (c && typeof c === 'object' && count(c.pid) && str(c.host) && str(c.started)) out.child = { pid: c.pid, host: c.host, started: c.started }
      return out
    }
    default: return undefined
  }
}
