// `labbook run -- CMD` gives CMD an MLflow endpoint logging into the run; the child speaks the MLflow client's requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { Labbook } from '../../src/index.js'
import { captureIO } from '../helpers/cli.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

const CLIENT = new URL('../fixtures/clients/mlflow-like.mjs', import.meta.url).pathname
let repo: TestRepo
let before: string

async function cli(argv: string[]) {
  const c = captureIO(repo.dir, { PATH: process.env.PATH })
  const r = await main(argv, c.io)
  return { ...r, stdout: c.stdout(), stderr: c.stderr() }
}

beforeAll(() => {
  repo = gitRepo()
  before = repo.userState()
})
afterAll(() => repo?.cleanup())

describe('labbook run: an MLflow endpoint for the child', () => {
  it('the MLflow client attaches to the run (MLFLOW_RUN_ID), follows set_experiment, nests child runs; the run ends with the command', async () => {
    const r = await cli(['run', '-n', 'rf', '--system-interval', '0', '--', process.execPath, CLIENT])
    expect(r.exitCode, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!)
    expect(out).toMatchObject({ unauthenticated: 401, sameExperiment: true, endStatus: 200 })
    const book = await Labbook.open({ repo: repo.dir })
    const run = await book.getRun(out.runId)
    const exp = await book.getExperiment('iris_classification')
    expect(run).toMatchObject({ name: 'rf', status: 'FINISHED', experiment: exp.id, params: { n_estimators: '100' }, tags: { 'mlflow.source.name': 'train.py', 'labbook.exit_code': '0' } })
    expect(run.source.commit).toBe(repo.git('rev-parse', 'HEAD').trim())
    expect((await book.metricHistory(out.runId, 'accuracy')).map((p) => p.step)).toEqual([0, 1, 2])
    const child = await book.getRun(out.childId)
    expect(child).toMatchObject({ parent: out.runId, status: 'FINISHED', params: { fold: '1' }, user: 'root' })
    expect(child.source.commit).toBe(run.source.commit) // the nested run gets the wrapped command's code link
    await book.close()
    expect(repo.userState()).toBe(before)
    fsck(repo)
  }, 60_000)

  it("a script that ends its run FAILED and exits 0 leaves the run FAILED; --no-mlflow sets nothing", async () => {
    const r = await cli(['run', '--system-interval', '0', '--', process.execPath, CLIENT, 'FAILED'])
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!)
    const book = await Labbook.open({ repo: repo.dir })
    expect((await book.getRun(out.runId)).status).toBe('FAILED')
    await book.close()
    const none = await cli(['run', '--no-mlflow', '--system-interval', '0', '--', process.execPath, '-e', 'console.log(process.env.MLFLOW_TRACKING_URI ?? "unset")'])
    expect(none.stdout.trim()).toBe('unset')
  }, 60_000)
})
