import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { csvField, historyToCsv, runsToCsv, runsToJsonl } from '../../src/report/export.js'
import { fixtureRuns } from '../query/fixture.js'

const runs = fixtureRuns()

/** A strict RFC 4180 reader (quoted fields, doubled quotes, CRLF records) to read our output back. */
function readCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = [], field = '', i = 0, quoted = false
  while (i < text.length) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue }
      if (c === '"') { quoted = false; i++; continue }
      field += c; i++; continue
    }
    if (c === '"' && field === '') { quoted = true; i++; continue }
    if (c === ',') { row.push(field); field = ''; i++; continue }
    if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 2; continue }
    if (c === '"' || c === '\n' || c === '\r') throw new Error(`bare ${JSON.stringify(c)} at ${i}`)
    field += c; i++
  }
  if (field !== '' || row.length) throw new Error('missing final CRLF')
  return rows
}

const hasPython = spawnSync('python3', ['-c', 'import csv'], { encoding: 'utf8' }).status === 0

describe('runsToCsv', () => {
  const csv = runsToCsv(runs)
  const [header, ...rows] = readCsv(csv)
  const col = (row: string[], name: string) => row[header.indexOf(name)]
  const rowOf = (id: string) => rows.find((r) => r[0] === id)!

  it('writes one row per run with params.*, metrics.* and tags.* columns', () => {
    expect(rows.length).toBe(runs.length)
    expect(header.slice(0, 3)).toEqual(['run_id', 'run_name', 'experiment_id'])
    expect(header).toContain('params.learning rate')
    expect(header).toContain('metrics.f1 score')
    expect(header).toContain('tags.mlflow.user')
    expect(header).toContain('params.モデル')
    for (const r of rows) expect(r.length).toBe(header.length)
    expect(col(rowOf('r3'), 'metrics.loss')).toBe('0.7')
    expect(col(rowOf('r3'), 'params.batch_size')).toBe('2')
    expect(col(rowOf('r3'), 'duration_ms')).toBe('240000')
    expect(col(rowOf('r9'), 'source.dirty')).toBe('true')
  })

  it('writes NaN as NaN, missing as empty, and quotes commas, quotes and newlines', () => {
    expect(col(rowOf('nan'), 'metrics.loss')).toBe('NaN')
    expect(col(rowOf('live'), 'metrics.loss')).toBe('')
    expect(col(rowOf('live'), 'run_name')).toBe('live | run\nline2')
    expect(col(rowOf('live'), 'end_time')).toBe('')
    expect(csv).toContain('"live | run\nline2"')
    expect([csvField('a,b'), csvField('say "hi"'), csvField(' pad'), csvField(Infinity), csvField(-Infinity), csvField(false)]).toEqual(['"a,b"', '"say ""hi"""', '" pad"', 'inf', '-inf', 'false'])
  })

  it.skipIf(!hasPython)("reads back identically with Python's csv module", () => {
    const py = spawnSync('python3', ['-c', 'import csv,sys,json; print(json.dumps(list(csv.reader(sys.stdin, strict=True))))'], { input: csv, encoding: 'utf8' })
    expect(py.status).toBe(0)
    expect(JSON.parse(py.stdout)).toEqual([header, ...rows])
  })
})

describe('runsToJsonl', () => {
  it('writes one valid JSON object per line, NaN as "NaN" like MLflow REST', () => {
    const lines = runsToJsonl(runs).split('\n')
    expect(lines.pop()).toBe('')
    const objs = lines.map((l) => JSON.parse(l))
    expect(objs.map((o) => o.id)).toEqual(runs.map((r) => r.id))
    const nan = objs.find((o) => o.id === 'nan')
    expect(nan.metrics.loss.value).toBe('NaN')
    expect(nan.params['モデル']).toBe('トランスフォーマー')
    expect(objs.find((o) => o.id === 'r3')).toEqual(JSON.parse(JSON.stringify(runs[3])))
  })
})

describe('historyToCsv', () => {
  const rows = [
    { run_id: 'r1', key: 'loss', step: 0, value: 1.5, timestamp: 1700000000000 },
    { run_id: 'r1', key: 'val, loss', step: 1, value: NaN, timestamp: 1700000000500 },
  ]
  it('writes long-format points, times in ISO 8601 (UTC)', () => {
    expect(historyToCsv(rows)).toBe('run_id,key,step,value,timestamp\r\nr1,loss,0,1.5,2023-11-14T22:13:20.000Z\r\nr1,"val, loss",1,NaN,2023-11-14T22:13:20.500Z\r\n')
  })
  it('writes ms since the epoch with times: epoch', () => {
    expect(historyToCsv(rows, { times: 'epoch' })).toBe('run_id,key,step,value,timestamp\r\nr1,loss,0,1.5,1700000000000\r\nr1,"val, loss",1,NaN,1700000000500\r\n')
  })
})
