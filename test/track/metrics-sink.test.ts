// D8 of issue 12: `labbook run` (while the command runs) and `recover` (after its wrapper died) route $LABBOOK_METRICS
// records into a run through one sink; what differs is an option. Both behaviours on a real repository.
import fs from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { MetricsLineParser, type LineProblem } from '../../src/format/metrics-lines.js'
import { runMetricsSink, type ParamConflict } from '../../src/track/metrics-sink.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo
let book: Labbook
let before: string
let work: string

beforeAll(async () => {
  repo = gitRepo()
  before = repo.userState()
  book = await Labbook.open({ repo: repo.dir })
  await book.init()
  work = fs.mkdtempSync(join(repo.dir, '..', 'sink-cwd-'))
  fs.writeFileSync(join(work, 'model.txt'), 'weights')
})
afterAll(async () => {
  await book?.close()
  fs.rmSync(work, { recursive: true, force: true })
  expect(repo.userState()).toBe(before)
  repo?.cleanup()
})

// The same file for both: 4 points (2 without a timestamp), a param that changes twice (once repeated), a relative
// and a missing absolute artifact.
const FILE = [
  '{"loss": 1.0, "step": 0, "timestamp": 1700000001000}',
  '{"loss": 0.5, "step": 1, "timestamp": 1700000002000}',
  '{"params": {"lr": 0.02, "bs": 8}}',
  '{"params": {"lr": 0.03}}',
  '{"params": {"lr": 0.03}}',
  '{"loss": 0.25, "step": 2}',
  '{"loss": 0.125, "step": 3}',
  '{"artifact": "model.txt", "to": "ckpt"}',
  '{"artifact": "/nonexistent/labbook-sink-test.bin"}',
  '',
].join('\n')

async function ingest(o: Parameters<typeof runMetricsSink>[1]) {
  const run = await book.startRun({ params: { lr: 0.01 } })
  const problems: LineProblem[] = []
  const sink = runMetricsSink(run, o)
  const parser = new MetricsLineParser(sink, (p) => problems.push(p))
  parser.feed(FILE)
  parser.end()
  await Promise.all(sink.pending)
  await run.end()
  return { id: run.id, points: sink.points, problems, history: await book.metricHistory(run.id, 'loss'), got: await book.getRun(run.id) }
}

describe('runMetricsSink: one route for $LABBOOK_METRICS records', () => {
  it('as `labbook run`: every point, the clock for missing timestamps, relative artifacts from the cwd, conflicts reported once', async () => {
    const conflicts: ParamConflict[] = []
    const failed: string[] = []
    const t0 = Date.now()
    const r = await ingest({ cwd: work, onParamConflict: (c) => conflicts.push(c), onArtifactError: (p, e) => failed.push(`${p}: ${e.code}`) })
    expect(r.points).toBe(4)
    expect(r.history.map((p) => p.value)).toEqual([1, 0.5, 0.25, 0.125])
    expect(r.history.slice(0, 2).map((p) => p.timestamp)).toEqual([1700000001000, 1700000002000])
    for (const p of r.history.slice(2)) expect(p.timestamp).toBeGreaterThanOrEqual(t0)
    expect(r.got.params).toEqual({ lr: 0.01, bs: 8 }) // the first value kept, the line's other key landed
    expect(conflicts).toEqual([{ key: 'lr', kept: 0.01, logged: 0.02 }, { key: 'lr', kept: 0.01, logged: 0.03 }])
    expect((await book.listArtifacts(r.id)).map((a) => a.path)).toEqual(['ckpt/model.txt'])
    expect(failed).toEqual([expect.stringMatching(/^\/nonexistent\/labbook-sink-test\.bin: /)])
    expect(r.problems).toEqual([])
  })

  it('as `recover`: skips what the journal has, stamps the fallback time, refuses relative artifacts as bad lines', async () => {
    const failed: string[] = []
    const r = await ingest({ skip: 1, fallbackTime: 1700000005000, onArtifactError: (p) => failed.push(p) })
    expect(r.points).toBe(3)
    expect(r.history.map((p) => [p.value, p.timestamp])).toEqual([[0.5, 1700000002000], [0.25, 1700000005000], [0.125, 1700000005000]])
    expect(r.got.params).toEqual({ lr: 0.01, bs: 8 }) // a changed param keeps its first value silently
    expect(await book.listArtifacts(r.id)).toEqual([])
    expect(r.problems).toEqual([{ line: 8, message: expect.stringContaining('the directory the command ran in is not known here') }])
    expect(failed).toEqual(['/nonexistent/labbook-sink-test.bin'])
  })
})
