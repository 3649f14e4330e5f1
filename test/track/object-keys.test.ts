// Keys that name Object.prototype members ("constructor", "toString", "__proto__", ...) are ordinary MLflow keys:
// they are logged, committed, listed and read back like any other, and never mistaken for an earlier value.
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

const KEYS = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__', '__defineGetter__']
let repo: TestRepo
let before: string
let runId = ''

beforeAll(async () => {
  repo = gitRepo()
  before = repo.userState()
  const book = await Labbook.open({ repo: repo.dir })
  await book.init()
  const run = await book.startRun({ name: 'object-keys' })
  // JSON.parse makes "__proto__" an own key, as an MLflow client's JSON body does.
  const params = JSON.parse(`{${KEYS.map((k) => `"${k}": "p-${k}"`).join(',')}}`) as Record<string, string>
  run.logParams(params)
  for (const k of KEYS) {
    run.setTag(k, `t-${k}`)
    run.logMetric(k, KEYS.indexOf(k) + 0.5)
  }
  // Logging the same value again is a no-op, a different one is refused with the old value named.
  run.logParam('constructor', 'p-constructor')
  expect(() => run.logParam('constructor', 'other')).toThrow(/already "p-constructor"/)
  await run.end()
  runId = run.id
  await book.flush()
  await book.close()
}, 60_000)
afterAll(() => repo.cleanup())

describe('keys named like Object.prototype members', () => {
  it('read back exactly from the branch, with nothing else added', async () => {
    const book = await Labbook.open({ repo: repo.dir })
    const run = await book.getRun(runId)
    for (const k of KEYS) {
      expect(Object.hasOwn(run.params, k), `param ${k}`).toBe(true)
      expect(run.params[k]).toBe(`p-${k}`)
      expect(run.tags[k]).toBe(`t-${k}`)
      expect(run.metrics[k]?.value).toBe(KEYS.indexOf(k) + 0.5)
    }
    expect(Object.keys(run.params).sort()).toEqual([...KEYS].sort())
    const listed = (await book.listRuns()).find((r) => r.id === runId)!
    const [proto, ctor] = ['__proto__', 'constructor'] as string[]
    expect(listed.params[proto!]).toBe('p-__proto__')
    expect(listed.metrics[ctor!]?.value).toBe(0.5)
    expect(await book.metricHistory(runId, 'toString')).toMatchObject([{ value: 1.5 }])
    await book.close()
  })

  it('read back exactly while the run is RUNNING (the journal laid over the branch)', async () => {
    const book = await Labbook.open({ repo: repo.dir })
    const run = await book.startRun({ name: 'live-object-keys' })
    await book.flush() // the start is on the branch; the params and tags below are only in the journal
    run.logParams(JSON.parse(`{${KEYS.map((k) => `"${k}": "p-${k}"`).join(',')}}`) as Record<string, string>)
    for (const k of KEYS) run.setTag(k, `t-${k}`)
    for (const k of KEYS) { run.logMetric(k, KEYS.indexOf(k) + 0.25, 0); run.logMetric(k, KEYS.indexOf(k) + 0.75, 1) }
    run.flush()
    const reader = await Labbook.open({ repo: repo.dir })
    for (const b of [book, reader]) {
      const got = await b.getRun(run.id)
      const listed = (await b.listRuns()).find((r) => r.id === run.id)!
      for (const r of [got, listed]) {
        expect(r.status).toBe('RUNNING')
        for (const k of KEYS) {
          expect(Object.hasOwn(r.params, k), `param ${k}`).toBe(true)
          expect(r.params[k]).toBe(`p-${k}`)
          expect(r.tags[k]).toBe(`t-${k}`)
          expect(Object.hasOwn(r.metrics, k), `metric ${k}`).toBe(true)
          expect(r.metrics[k]).toMatchObject({ value: KEYS.indexOf(k) + 0.75, step: 1, count: 2, min: KEYS.indexOf(k) + 0.25 })
        }
        expect(Object.keys(r.params).sort()).toEqual([...KEYS].sort())
        expect(Object.keys(r.metrics).sort()).toEqual([...KEYS].sort())
      }
    }
    await run.end()
    await book.close()
    await reader.close()
  })

  it('leaves the repository fsck-clean and the user state untouched', () => {
    expect(fsck(repo)).not.toMatch(/error/i)
    expect(repo.userState()).toBe(before)
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: repo.dir, encoding: 'utf8' })).toBe('')
  })
})
