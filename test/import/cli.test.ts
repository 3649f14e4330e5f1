import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { Labbook } from '../../src/index.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

const FIXTURE = new URL('../fixtures/mlflow/mlruns', import.meta.url).pathname

function capture() {
  let out = '', err = ''
  return {
    io: { stdout: { write: (s: string | Uint8Array) => ((out += String(s)), true) }, stderr: { write: (s: string | Uint8Array) => ((err += String(s)), true) }, env: {}, cwd: '/' },
    out: () => out,
    err: () => err,
  }
}

let repo: TestRepo
afterAll(() => repo?.cleanup())

describe('labbook import mlruns (CLI)', () => {
  it('imports one experiment with --experiment and prints JSON; a missing folder is a usage error', async () => {
    repo = gitRepo()
    const c = capture()
    const r = await main(['--repo', repo.dir, 'import', 'mlruns', FIXTURE, '--experiment', 'iris_classification', '--json'], c.io)
    expect(r.exitCode, c.err()).toBe(0)
    const res = JSON.parse(c.out())
    expect(res).toMatchObject({ experiments: 1, imported: 6, skipped: 0, failed: 0, artifacts: 8 })
    const book = await Labbook.open({ repo: repo.dir })
    const names = (await book.listExperiments()).map((e) => e.name)
    expect(names).toContain('iris_classification')
    expect(names).not.toContain('sweep lr/β')
    await book.close()

    const again = capture()
    expect((await main(['--repo', repo.dir, 'import', 'mlruns', FIXTURE], again.io)).exitCode).toBe(0)
    expect(again.err()).toMatch(/Imported 6 runs .* 6 already there/)

    const missing = capture()
    expect((await main(['--repo', repo.dir, 'import', 'mlruns', '/nonexistent/mlruns'], missing.io)).exitCode).toBe(2)
  }, 60_000)
})
