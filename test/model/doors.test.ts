// Items 1 and 2 of issue 10: names git rejects and control characters are refused at every door, with a code and a
// hint, and nothing is written. Each test's repository is then checked with `git fsck --strict` and a push to a
// `receive.fsckObjects` remote (helpers/git-repo cleanup).
import fs from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { Labbook } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { captureIO } from '../helpers/cli.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { api, request } from '../server/client.js'

let repo: TestRepo
let book: Labbook
let before: string

beforeAll(async () => {
  repo = gitRepo()
  before = repo.userState()
  book = await Labbook.open({ repo: repo.dir })
  await book.init()
})
afterAll(async () => {
  await book?.close()
  expect(repo.userState()).toBe(before)
  repo?.cleanup()
})

const tip = () => repo.git('rev-parse', 'refs/heads/labbook').trim()

describe('the library refuses', () => {
  it('artifact paths with a .git component (a checkpoint folder that is a git repo), by bytes or from disk', async () => {
    const run = await book.startRun({ name: 'doors' })
    const ckpt = join(repo.dir, '..', `ckpt-${process.pid}`)
    fs.mkdirSync(join(ckpt, 'm', '.git'), { recursive: true })
    fs.writeFileSync(join(ckpt, 'm', '.git', 'config'), '[core]\n')
    try {
      await expect(run.logArtifact(ckpt)).rejects.toMatchObject({ code: 'INVALID_PATH', hint: expect.stringContaining('.git') })
      for (const p of ['.git/config', 'a/.GIT/x', 'a/git~1/x', 'a/.git./x', 'a/.gitmodules', 'a/.g\u200cit/x', 'a/b\0c', '../x', '/etc/x']) {
        await expect(run.logBytes(p, 'x'), p).rejects.toMatchObject({ code: expect.stringMatching(/^(INVALID_PATH|PATH_ESCAPE)$/) })
      }
      await run.logBytes('ok/.gitignore', 'x')
    } finally {
      fs.rmSync(ckpt, { recursive: true, force: true })
    }
    await run.end()
    expect((await book.listArtifacts(run.id)).map((a) => a.path)).toEqual(['ok/.gitignore'])
  })

  it('NUL and control characters in names, tags, params and descriptions; names never reach a commit message with a newline', async () => {
    const t0 = tip()
    await expect(book.startRun({ name: 'a\u0000b' })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(book.startRun({ name: 'two\nlines' })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(book.startRun({ tags: { t: 'a\u0000' } })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(book.startRun({ params: { p: '\u001b[2J' } })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(book.startRun({ description: 'x\u0000' })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(book.experiment('e\u0000')).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    expect(tip()).toBe(t0)
    const run = await book.startRun({ name: 'fine' })
    expect(() => run.setName('x\ny')).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    expect(() => run.setDescription('x\u0007')).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    run.setDescription('multi\nline\tok')
    await run.end()
    await book.flush()
    expect(repo.git('log', '--format=%B', '-n', '20', 'labbook')).not.toMatch(/x\ny/)
  })
})

describe('the CLI refuses', () => {
  it('`labbook log artifact` of a folder holding .git: exit 1, code and hint, no commit', async () => {
    const run = await book.startRun({ name: 'cli' })
    await run.end()
    await book.flush() // its group commit, before the tip is taken
    const ckpt = join(repo.dir, '..', `ckpt-cli-${process.pid}`)
    fs.mkdirSync(join(ckpt, 'm', '.git'), { recursive: true })
    fs.writeFileSync(join(ckpt, 'm', '.git', 'HEAD'), 'ref: refs/heads/main\n')
    const t0 = tip()
    try {
      const c = captureIO(repo.dir)
      const r = await main(['log', 'artifact', ckpt, '--run', run.id], c.io)
      expect(r.exitCode).toBe(1)
      expect(c.stderr()).toMatch(/INVALID_PATH: .*\.git/)
      expect(c.stderr()).toMatch(/hint: /)
      expect(c.stderr()).not.toMatch(/\n\s+at /)
    } finally {
      fs.rmSync(ckpt, { recursive: true, force: true })
    }
    expect(tip()).toBe(t0)
  })

  it('`labbook log metric --timestamp -5` fails without committing', async () => {
    const run = await book.startRun({ name: 'ts' })
    await run.end()
    await book.flush()
    const t0 = tip()
    const c = captureIO(repo.dir)
    const r = await main(['log', 'metric', 'x=1', '--timestamp', '-5', '--run', run.id], c.io)
    expect(r.exitCode).not.toBe(0)
    expect(c.stderr()).toMatch(/INVALID_VALUE/)
    expect(tip()).toBe(t0)
  })
})

describe('the CLI prints data, never terminal escapes', () => {
  it('a run name with ESC written by another tool shows as a visible escape in ls and show', async () => {
    const run = await book.startRun({ name: 'plain' })
    await run.end()
    await book.flush() // on the branch before another tool rewrites it
    const { runDir } = await import('../../src/model/layout.js')
    const { encodeRun } = await import('../../src/format/yaml.js')
    const summary = await book.getRun(run.id)
    await book.store.update(async () => ({ changes: [{ path: `${runDir(run.id)}/run.yaml`, blob: book.objects.writeBlob(encodeRun({ ...summary, name: 'evil\u001b[2J\u001b]0;owned\u0007' })) }], subject: 'hand-written name (test)', result: undefined }))
    for (const argv of [['ls'], ['show', run.id]]) {
      const c = captureIO(repo.dir)
      expect((await main(argv, c.io)).exitCode).toBe(0)
      expect(c.stdout()).not.toContain('\u001b')
      expect(c.stdout()).toContain('evil\\u001b[2J')
    }
  })
})

describe('the server refuses', () => {
  let srv: RunningServer
  beforeAll(async () => { srv = await serve({ book, port: 0, log: () => {} }) })
  afterAll(async () => { await srv?.close() })

  it('PUT …/artifacts/.git/config and its variants with 400 INVALID_PARAMETER_VALUE, and NUL in a run name', async () => {
    const call = api(srv.url)
    const exp = (await call('POST', 'experiments/create', { name: 'srv' })).json.experiment_id
    const bad = await call('POST', 'runs/create', { experiment_id: exp, run_name: 'a\u0000b' })
    expect(bad.status).toBe(400)
    expect(bad.json.error_code).toBe('INVALID_PARAMETER_VALUE')
    const runId = (await call('POST', 'runs/create', { experiment_id: exp, run_name: 'ok' })).json.run.info.run_id
    const badTag = await call('POST', 'runs/set-tag', { run_id: runId, key: 't', value: 'x\u0000' })
    expect(badTag.status).toBe(400)
    const base = `/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts`
    for (const p of ['.git/config', '.GIT/config', 'x/git~1/config', 'x/.gitmodules', 'x/.git%20/y', 'x/%00']) {
      const r = await request(srv.url, 'PUT', `${base}/${p}`, Buffer.from('x'), { 'content-type': 'application/octet-stream' })
      expect(r.status, p).toBe(400)
      expect(r.json.error_code).toBe('INVALID_PARAMETER_VALUE')
    }
    expect((await book.listArtifacts(runId)).map((a) => a.path)).toEqual([])
  })
})
