import { spawn } from 'node:child_process'
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { MetricsFileTailer } from '../../src/cli-support/metrics-file.js'
import { MetricsLineParser, type LineProblem, type MetricsSink } from '../../src/format/metrics-lines.js'
import { flattenParams, readParamsFile } from '../../src/cli-support/params-file.js'
import { ProcessTreeSampler, treeOf } from '../../src/cli-support/process-tree.js'
import { ensureBuilt } from '../helpers/cli.js'
import { parseSize, TailBuffer } from '../../src/cli-support/tail-buffer.js'

const tmp = mkdtempSync(join(tmpdir(), 'labbook-cli-support-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

function recorder() {
  const points: Array<[string, number, number | undefined, number | undefined]> = []
  const params: object[] = []
  const tags: object[] = []
  const artifacts: Array<[string, string | undefined]> = []
  const problems: LineProblem[] = []
  const sink: MetricsSink = {
    metric: (k, v, s, t) => {
      if (k === 'bad key!') throw Object.assign(new Error('Invalid metric key'), { code: 'INVALID_KEY' })
      points.push([k, v, s, t])
    },
    params: (p) => params.push(p),
    tags: (t) => tags.push(t),
    artifact: (p, to) => artifacts.push([p, to]),
  }
  return { sink, points, params, tags, artifacts, problems, onProblem: (p: LineProblem) => problems.push(p) }
}

describe('MetricsLineParser', () => {
  it('reads metrics, step, timestamp (seconds scaled to ms), params, tags, artifacts and NaN spellings', () => {
    const r = recorder()
    const p = new MetricsLineParser(r.sink, r.onProblem)
    p.feed('{"loss": 0.5, "acc": 0.9, "step": 3, "timestamp": 1700000000000}\n{"loss": "NaN", "timestamp": 1700000000.5}\n')
    p.feed('{"params": {"lr": 0.01}, "tags": {"phase": 2}}\n{"artifact": "/tmp/m.json", "to": "models"}\n')
    p.end()
    expect(r.points).toEqual([['loss', 0.5, 3, 1700000000000], ['acc', 0.9, 3, 1700000000000], ['loss', NaN, undefined, 1700000000500]])
    expect(r.params).toEqual([{ lr: 0.01 }])
    expect(r.tags).toEqual([{ phase: '2' }])
    expect(r.artifacts).toEqual([['/tmp/m.json', 'models']])
    expect(r.problems).toEqual([])
    expect(p.stats).toEqual({ lines: 4, points: 3, malformed: 0 })
  })

  it('reports each malformed line once with its number, skips it and keeps going', () => {
    const r = recorder()
    const p = new MetricsLineParser(r.sink, r.onProblem)
    p.feed('{"a": 1}\nnot json\n{"a": "x"}\n\n[1,2]\n{"a": 2, "step": 1.5}\n{"bad key!": 1}\n1,2\n{"a": 3}\n')
    p.end()
    expect(r.points.map((x) => x[1])).toEqual([1, 3])
    expect(r.problems.map((x) => x.line)).toEqual([2, 3, 5, 6, 7, 8])
    expect(r.problems[0]!.message).toContain('not valid JSON')
    expect(r.problems[4]!.message).toContain('INVALID_KEY')
    expect(p.stats).toEqual({ lines: 9, points: 2, malformed: 6 })
  })

  it('joins lines split across chunks (also inside a multi-byte character) and parses a last line without newline', () => {
    const r = recorder()
    const p = new MetricsLineParser(r.sink, r.onProblem)
    const text = '{"é": 1}\n{"b": 2}\n{"c": 3}'
    for (const ch of text) p.feed(ch)
    p.end()
    expect(r.points.map((x) => x[0])).toEqual(['é', 'b', 'c'])
    expect(p.stats.lines).toBe(3)
  })
})

describe('MetricsFileTailer', () => {
  it('follows a file another process appends to and drains it on stop', async () => {
    const path = join(tmp, 'metrics.jsonl')
    writeFileSync(path, '')
    const r = recorder()
    const tailer = new MetricsFileTailer(path, r.sink, { intervalMs: 20, onProblem: r.onProblem, chunkSize: 64 })
    await tailer.start()
    // The writer is node itself: a test must not depend on what else is installed (python3 may be a pyenv shim).
    const child = spawn(process.execPath, ['-e', `
const fs = require('node:fs')
const fd = fs.openSync(process.argv[1], 'a')
let i = 0
const burst = () => {
  for (; i < 500; i++) {
    fs.writeSync(fd, '{"loss": ' + i + ', "step": ' + i + '}\\n')
    if (i % 100 === 0) { i++; return setTimeout(burst, 30) }
  }
  fs.writeSync(fd, 'garbage\\n{"loss": 500}')
  fs.closeSync(fd)
}
burst()
`, path])
    await new Promise((res) => child.on('close', res))
    const stats = await tailer.stop()
    expect(stats).toEqual({ lines: 502, points: 501, malformed: 1 })
    expect(r.points.slice(0, 3).map((x) => x[2])).toEqual([0, 1, 2])
    expect(r.problems).toEqual([{ line: 501, message: 'not valid JSON: garbage' }])
    appendFileSync(path, '{"late": 1}\n') // after stop: not read
    expect(r.points.length).toBe(501)
  })

  it('mark(): the offset after the last complete line handed over, and the points of the line it is inside', async () => {
    const path = join(tmp, 'mark.jsonl')
    const head = '{"é": 1, "step": 0}\n{"a": 2, "b": 3}\n'
    writeFileSync(path, head + '{"a": 4, "b"')
    const r = recorder()
    let during: { offset: number; points: number } | undefined
    const tailer: MetricsFileTailer = new MetricsFileTailer(path, { ...r.sink, metric: (k, v, s, t) => { if (v === 3) during = tailer.mark(); r.sink.metric(k, v, s, t) } }, { intervalMs: 10_000 })
    await tailer.start()
    await tailer.poll()
    expect(during).toEqual({ offset: 0, points: 2 }) // mid-chunk: 2 points of lines after offset 0 are in
    expect(tailer.mark()).toEqual({ offset: Buffer.byteLength(head), points: 0 })
    appendFileSync(path, ': 5}\n')
    await tailer.poll()
    expect(tailer.mark()).toEqual({ offset: Buffer.byteLength(head) + 17, points: 0 })
    await tailer.stop()
    expect(r.points.map((x) => x[1])).toEqual([1, 2, 3, 4, 5])
  })
})

describe('MetricsIngestor (the worker-thread tailer, from dist/)', () => {
  it('hands over points, params, tags, artifacts in order, and counts refused and malformed lines once each', async () => {
    ensureBuilt()
    const { MetricsIngestor } = await import('../../dist/src/cli-support/metrics-ingest.js')
    const path = join(tmp, 'ingest.jsonl')
    writeFileSync(path, '')
    const r = recorder()
    const order: string[] = []
    const sink: MetricsSink = {
      metric: (k, v, s, t) => { r.sink.metric(k, v, s, t); order.push(`m:${k}`) },
      params: (p) => { r.params.push(p); order.push('params') },
      tags: (t) => { r.tags.push(t); order.push('tags') },
      artifact: (p, to) => { r.artifacts.push([p, to]); order.push('artifact') },
    }
    const ing = new MetricsIngestor(path, sink, { intervalMs: 20, onProblem: r.onProblem })
    await ing.start()
    const child = spawn(process.execPath, ['-e', `
const fs = require('node:fs')
const fd = fs.openSync(process.argv[1], 'a')
let text = ''
for (let i = 0; i < 3000; i++) text += '{"loss": ' + i + ', "step": ' + i + '}\\n'
fs.writeSync(fd, text)
fs.writeSync(fd, '{"params": {"lr": 0.1}}\\n{"acc": "NaN", "timestamp": 1700000000}\\n{"tags": {"a": "b"}}\\n')
fs.writeSync(fd, '{"ok": 1, "bad key!": 2}\\nnope\\n{"artifact": "/x", "to": "d"}\\n{"last": 1}')
fs.closeSync(fd)
`, path])
    await new Promise((res) => child.on('close', res))
    const stats = await ing.stop()
    expect(stats).toEqual({ lines: 3007, points: 3003, malformed: 2 })
    expect(r.points.length).toBe(3003)
    expect(r.points[2999]).toEqual(['loss', 2999, 2999, undefined])
    expect(r.points[3000]).toEqual(['acc', NaN, undefined, 1700000000000])
    expect(order.slice(2999)).toEqual(['m:loss', 'params', 'm:acc', 'tags', 'm:ok', 'artifact', 'm:last'])
    expect(r.problems.map((p) => p.line)).toEqual([3004, 3005])
    expect(r.problems[0]!.message).toContain('INVALID_KEY')
  })
})

describe('TailBuffer', () => {
  it('keeps everything under the limit', () => {
    const t = new TailBuffer(100)
    t.push('hello\n')
    t.push(Buffer.from('world\n'))
    expect(t.contents().toString()).toBe('hello\nworld\n')
    expect(t.truncated).toBe(false)
  })

  it('keeps the tail past the limit, from a line start, and says so', () => {
    const t = new TailBuffer(1000)
    for (let i = 0; i < 1000; i++) t.push(`line ${i}\n`)
    const text = t.contents().toString()
    expect(t.total).toBe(8890)
    expect(text).toMatch(/^\[labbook: output truncated: kept the last \d+ of 8890 bytes \(limit 1000\)/)
    expect(text.endsWith('line 999\n')).toBe(true)
    expect(text.split('\n')[1]).toMatch(/^line \d+$/)
    expect(text.length).toBeLessThan(1150)
  })

  it('parses sizes', () => {
    expect(parseSize('1048576')).toBe(1048576)
    expect(parseSize('512k')).toBe(512 * 1024)
    expect(parseSize('10MB')).toBe(10 * 1024 * 1024)
    expect(parseSize('1GiB')).toBe(1024 ** 3)
    expect(parseSize('lots')).toBeUndefined()
  })
})

describe('params files', () => {
  it('flattens YAML and JSON leaves to dotted keys', async () => {
    writeFileSync(join(tmp, 'params.yaml'), 'train:\n  lr: 0.01\n  epochs: 10\n  layers: [64, 32]\n  opt:\n    name: adam\nseed: 42\ndebug: false\nnote: null\n')
    expect(await readParamsFile(join(tmp, 'params.yaml'))).toEqual({
      'train.lr': 0.01, 'train.epochs': 10, 'train.layers': '[64,32]', 'train.opt.name': 'adam', seed: 42, debug: false, note: 'null',
    })
    writeFileSync(join(tmp, 'params.json'), '{"a": {"b": "c"}}')
    expect(await readParamsFile(join(tmp, 'params.json'))).toEqual({ 'a.b': 'c' })
    expect(flattenParams({})).toEqual({})
  })

  it('rejects unreadable, invalid and non-mapping files with codes', async () => {
    await expect(readParamsFile(join(tmp, 'missing.yaml'))).rejects.toMatchObject({ code: 'IO_FAILED' })
    writeFileSync(join(tmp, 'list.yaml'), '- 1\n- 2\n')
    await expect(readParamsFile(join(tmp, 'list.yaml'))).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    writeFileSync(join(tmp, 'bad.json'), '{"a":')
    await expect(readParamsFile(join(tmp, 'bad.json'))).rejects.toMatchObject({ code: 'INVALID_VALUE' })
  })
})

describe.runIf(ProcessTreeSampler.supported())('ProcessTreeSampler', () => {
  it('samples CPU and memory of a process and its children', async () => {
    // A shell whose child (a subshell: the shell itself, not python3, which may be a pyenv shim of several
    // processes) burns CPU: the tree has exactly two processes and uses about one core.
    const child = spawn('sh', ['-c', '(while :; do :; done) & wait'], { detached: true })
    try {
      await new Promise((r) => setTimeout(r, 300))
      expect(treeOf(child.pid!).length).toBe(2)
      const s = new ProcessTreeSampler(child.pid!, { gpu: false })
      const first = await s.sample(Date.now())
      expect(first['system/cpu_utilization_percentage']).toBeUndefined() // needs a baseline
      await new Promise((r) => setTimeout(r, 500))
      const second = await s.sample(Date.now())
      expect(second['system/process_count']).toBe(2)
      expect(second['system/memory_rss_megabytes']).toBeGreaterThan(1)
      // A busy loop: some CPU, however loaded the machine is (other jobs share these cores).
      expect(second['system/cpu_utilization_percentage']).toBeGreaterThan(0)
    } finally {
      process.kill(-child.pid!, 'SIGKILL')
    }
  })
})
