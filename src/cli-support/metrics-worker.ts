/**
 * Worker thread of MetricsIngestor: follows the $LABBOOK_METRICS file, parses it, and posts the points as typed
 * arrays (transferred, not copied), so the main thread spends its time only on logging them.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { MetricsFileTailer } from './metrics-file.js'
import type { LineProblem } from '../format/metrics-lines.js'
import type { IngestBatch, IngestEvent, WorkerInit } from './metrics-ingest.js'

const init = workerData as WorkerInit
const port = parentPort!

let capacity = 16384
let n = 0
let keyIdx = new Uint32Array(capacity)
let values = new Float64Array(capacity)
let steps = new Float64Array(capacity)
let times = new Float64Array(capacity)
let lines = new Uint32Array(capacity)
let events: IngestEvent[] = []
let newKeys: string[] = []
const keyIds = new Map<string, number>()

function grow(): void {
  capacity *= 2
  const k = new Uint32Array(capacity); k.set(keyIdx); keyIdx = k
  const v = new Float64Array(capacity); v.set(values); values = v
  const s = new Float64Array(capacity); s.set(steps); steps = s
  const t = new Float64Array(capacity); t.set(times); times = t
  const l = new Uint32Array(capacity); l.set(lines); lines = l
}

const tailer = new MetricsFileTailer(init.path, {
  metric(key, value, step, timestamp) {
    let id = keyIds.get(key)
    if (id === undefined) {
      id = keyIds.size
      keyIds.set(key, id)
      newKeys.push(key)
    }
    if (n === capacity) grow()
    keyIdx[n] = id
    values[n] = value
    steps[n] = step === undefined ? NaN : step
    times[n] = timestamp === undefined ? NaN : timestamp
    lines[n] = tailer.line
    n++
  },
  params(p) { events.push({ at: n, kind: 'params', line: tailer.line, values: p }) },
  tags(t) { events.push({ at: n, kind: 'tags', line: tailer.line, values: t }) },
  artifact(path, to) { events.push({ at: n, kind: 'artifact', line: tailer.line, path, to }) },
}, {
  intervalMs: init.intervalMs,
  onProblem: (p: LineProblem) => { events.push({ at: n, kind: 'problem', line: p.line, message: p.message }) },
  onRead: () => post(false),
})

function post(final: boolean): void {
  if (n === 0 && events.length === 0 && !final) return
  const batch: IngestBatch = {
    type: 'batch', newKeys, n,
    keyIdx: keyIdx.slice(0, n), values: values.slice(0, n), steps: steps.slice(0, n), times: times.slice(0, n), lines: lines.slice(0, n),
    events, final, lines_seen: tailer.stats.lines, malformed: tailer.stats.malformed, consumed: tailer.mark().offset,
  }
  port.postMessage(batch, [batch.keyIdx.buffer, batch.values.buffer, batch.steps.buffer, batch.times.buffer, batch.lines.buffer] as ArrayBuffer[])
  n = 0
  events = []
  newKeys = []
}

port.on('message', async (m: { type: 'stop' }) => {
  if (m.type === 'stop') {
    await tailer.stop()
    post(true)
  }
})

await tailer.start()
port.postMessage({ type: 'started' })
