// `labbook models ls|show|register|alias|promote` against a real temp repo, through main(argv, io).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { Labbook } from '../../src/index.js'
import { captureIO } from '../helpers/cli.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo
let before: string
let runId: string

async function cli(argv: string[]) {
  const c = captureIO(repo.dir, {})
  const r = await main(argv, c.io)
  return { ...r, stdout: c.stdout(), stderr: c.stderr() }
}

beforeAll(async () => {
  repo = gitRepo()
  before = repo.userState()
  const book = await Labbook.open({ repo: repo.dir })
  const run = await book.startRun({ name: 'rf-best' })
  run.logMetric('acc', 0.95)
  await run.logBytes('model/MLmodel', 'flavors: {}\n')
  await run.end()
  runId = run.id
  await book.close()
})
afterAll(() => repo?.cleanup())

describe('labbook models', () => {
  it('registers, aliases, promotes, lists and shows', async () => {
    const reg = await cli(['models', 'register', 'iris', 'rf-best', '--alias', 'champion'])
    expect(reg.exitCode, reg.stderr).toBe(0)
    expect(reg.stderr).toContain('Registered iris version 1')
    expect((await cli(['models', 'register', 'iris', runId, '--json'])).stdout).toContain('"version": 2')
    expect((await cli(['models', 'alias', 'iris', 'champion', '2'])).exitCode).toBe(0)
    expect((await cli(['models', 'promote', 'iris', 'v2', 'Production'])).stderr).toContain('iris version 2 is now in Production')
    const ls = await cli(['models', 'ls'])
    expect(ls.stdout).toMatch(/iris\s+2\s+v2\s+@champion→2/)
    const show = JSON.parse((await cli(['models', 'show', 'iris', '--json'])).stdout)
    expect((show.versions as Array<{ version: number; stage: string; aliases: string[]; source: string }>).map((v) => [v.version, v.stage, v.aliases, v.source])).toEqual([
      [1, 'None', [], `runs:/${runId}/model`], [2, 'Production', ['champion'], `runs:/${runId}/model`],
    ])
    expect((await cli(['models', 'show', 'iris'])).stdout).toContain('Production')
  })

  it('names the problem with a code and a hint', async () => {
    const missing = await cli(['models', 'show', 'nope'])
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr).toMatch(/MODEL_NOT_FOUND/)
    expect(missing.stderr).toMatch(/hint: .*labbook models ls/)
    const stage = await cli(['models', 'promote', 'iris', '1', 'Prod'])
    expect(stage.exitCode).toBe(1)
    expect(stage.stderr).toContain('None, Staging, Production, Archived')
    expect((await cli(['models', 'alias', 'iris', 'champion'])).exitCode).toBe(2)
    expect(repo.userState()).toBe(before)
    fsck(repo)
  })
})
