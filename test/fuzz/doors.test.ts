// Issue 10: hostile names, keys, values and artifact paths through every door (library API, CLI, the
// $LABBOOK_METRICS line format, the MLflow server). Each input is accepted or refused with a LabbookError code (or
// an MLflow 4xx), never a crash; afterwards the repository is `git fsck --strict` clean and pushable to a
// receive.fsckObjects remote (helpers/git-repo cleanup).
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { MetricsLineParser } from '../../src/format/metrics-lines.js'
import { isLabbookError } from '../../src/errors.js'
import { Labbook } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { captureIO } from '../helpers/cli.js'
import { assertPushable, gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { api, request } from '../server/client.js'

let repo: TestRepo
let book: Labbook
let srv: RunningServer
const SEED = 10

/** Strings that hit the rules: git's reserved names, control characters, separators, unicode, lone surrogates. */
const nasty = fc.oneof(
  fc.constantFrom('.git', '.GIT', 'git~1', '.gitmodules', '.git.', '..', '.', '', 'a\u0000b', 'x\ny', '\u001b[31m', '\ud800', 'a/b', 'a\\b', '\u200c.git', 'ok', 'résumé', ' '),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
)
const nastyPath = fc.array(nasty, { minLength: 1, maxLength: 4 }).map((a) => a.join('/'))

const refused = (e: unknown) => {
  if (!isLabbookError(e)) throw e
}

beforeAll(async () => {
  repo = gitRepo()
  book = await Labbook.open({ repo: repo.dir })
  await book.init()
  srv = await serve({ book, port: 0, log: () => {} })
})
afterAll(async () => {
  await srv?.close()
  await book?.close()
  repo?.cleanup() // git fsck --strict + push to a receive.fsckObjects remote
})

describe('fuzz: every door refuses cleanly or stores something git accepts', () => {
  it('library API: names, keys, values, descriptions, artifact paths', async () => {
    const run = await book.startRun({ name: 'fuzz-api' })
    await fc.assert(fc.asyncProperty(nasty, nasty, nastyPath, async (key, value, path) => {
      try { run.setName(value) } catch (e) { refused(e) }
      try { run.setTag(key, value) } catch (e) { refused(e) }
      try { run.logParam(`p.${key}`, value) } catch (e) { refused(e) }
      try { run.logMetric(key, 1) } catch (e) { refused(e) }
      try { run.setDescription(value) } catch (e) { refused(e) }
      await run.logBytes(path, value).catch(refused)
    }), { numRuns: 25, seed: SEED })
    await run.end()
    assertPushable(repo.dir)
  }, 60_000)

  it('$LABBOOK_METRICS lines: a bad line is reported and skipped, never thrown', async () => {
    const run = await book.startRun({ name: 'fuzz-lines' })
    let problems = 0
    const parser = new MetricsLineParser({
      metric: (k, v, s, t) => run.logMetric(k, v, { step: s, timestamp: t }),
      params: (p) => run.logParams(p),
      tags: (t) => run.setTags(t),
      artifact: (p) => { throw Object.assign(new Error(`no file ${p}`), { code: 'ARTIFACT_NOT_FOUND' }) },
    }, () => problems++)
    const line = fc.oneof(
      fc.record({ k: nasty, v: fc.oneof(fc.double(), nasty) }).map(({ k, v }) => JSON.stringify({ [k]: v, step: 1 })),
      fc.record({ k: nasty, v: nasty }).map(({ k, v }) => JSON.stringify({ params: { [k]: v } })),
      fc.record({ k: nasty, v: nasty }).map(({ k, v }) => JSON.stringify({ tags: { [k]: v } })),
      nastyPath.map((p) => JSON.stringify({ artifact: p })),
      nasty,
    )
    await fc.assert(fc.asyncProperty(fc.array(line, { maxLength: 6 }), async (lines) => {
      parser.feed(lines.join('\n') + '\n')
    }), { numRuns: 40, seed: SEED })
    parser.end()
    expect(problems).toBeGreaterThan(0)
    await run.end()
    assertPushable(repo.dir)
  }, 60_000)

  it('CLI: log tag/param/metric and rename with hostile input exit 0, 1 or 2 with a code, never a stack trace', async () => {
    const run = await book.startRun({ name: 'fuzz-cli' })
    await run.end()
    await fc.assert(fc.asyncProperty(nasty.filter((s) => !s.includes('\u0000')), nasty.filter((s) => !s.includes('\u0000')), async (k, v) => {
      for (const argv of [['log', 'tag', `${k}=${v}`, '--run', run.id], ['log', 'param', `${k}=${v}`, '--run', run.id], ['rename', run.id, v]]) {
        const c = captureIO(repo.dir)
        const r = await main(argv, c.io)
        expect([0, 1, 2], c.stderr()).toContain(r.exitCode)
        expect(c.stderr()).not.toMatch(/\n\s+at .*\.(ts|js):\d+/)
      }
    }), { numRuns: 8, seed: SEED })
    assertPushable(repo.dir)
  }, 120_000)

  it('server: run names, tags and artifact uploads answer 200 or a 4xx MLflow error', async () => {
    const call = api(srv.url)
    const exp = (await call('POST', 'experiments/create', { name: 'fuzz' })).json.experiment_id
    const runId = (await call('POST', 'runs/create', { experiment_id: exp, run_name: 'fuzz-srv' })).json.run.info.run_id
    await fc.assert(fc.asyncProperty(nasty, nasty, nastyPath, async (k, v, path) => {
      const created = await call('POST', 'runs/create', { experiment_id: exp, run_name: v })
      expect([200, 400], created.text).toContain(created.status)
      const tag = await call('POST', 'runs/set-tag', { run_id: runId, key: k, value: v })
      expect([200, 400], tag.text).toContain(tag.status)
      const url = `/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts/${path.split('/').map(encodeURIComponent).join('/')}`
      const put = await request(srv.url, 'PUT', url, Buffer.from(v || 'x'), { 'content-type': 'application/octet-stream' })
      expect(put.status, `${path}: ${put.text}`).toBeLessThan(500)
    }), { numRuns: 15, seed: SEED })
    assertPushable(repo.dir)
  }, 120_000)
})
