// Issue 16, data: what a newcomer from MLflow or W&B expects of `labbook run`, export, rm and run names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { Labbook } from '../../src/index.js'
import { paramFromText, sameParam } from '../../src/model/param.js'
import { captureIO } from '../helpers/cli.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo
let before: string

async function cli(argv: string[], o: { env?: NodeJS.ProcessEnv } = {}) {
  const c = captureIO(repo.dir, o.env)
  const r = await main(argv, c.io)
  return { ...r, stdout: c.stdout(), stderr: c.stderr() }
}
function runIdFrom(stderr: string): string {
  const m = /labbook: run (\w+) /.exec(stderr)
  if (!m) throw new Error(`no run id in: ${stderr}`)
  return m[1]!
}
async function show(ref: string) {
  const r = await cli(['show', ref, '--json'])
  expect(r.exitCode, r.stderr).toBe(0)
  return JSON.parse(r.stdout)
}

beforeAll(async () => {
  repo = gitRepo({ 'train.py': 'print("hi")\n' })
  before = repo.userState()
  expect((await cli(['init'])).exitCode).toBe(0)
})
afterAll(() => {
  expect(repo.userState()).toBe(before)
  fsck(repo)
  repo.cleanup()
})

describe('params: one number rule', () => {
  it('reads what JSON reads as a number as that number, the rest as text', () => {
    expect(paramFromText('1e-3')).toBe(0.001)
    expect(paramFromText('0.001')).toBe(0.001)
    expect(paramFromText('1.0')).toBe(1)
    expect(paramFromText('-2E+2')).toBe(-200)
    expect(paramFromText('true')).toBe(true)
    for (const text of ['007', '1_000', '0x10', ' 1', '.5', '1.', 'NaN', 'Infinity', '1e999', 'mlp', '']) expect(paramFromText(text)).toBe(text)
    expect(sameParam(0.001, '1e-3')).toBe(true)
    expect(sameParam('30', 30)).toBe(true)
    expect(sameParam(30, 31)).toBe(false)
    expect(sameParam('mlp', 'MLP')).toBe(false)
  })
})

describe('labbook run and $LABBOOK_METRICS params', () => {
  it('one conflicting key keeps every other key of the line; the conflict is one line at the end and a tag', async () => {
    const script = [
      'import json, os',
      'with open(os.environ["LABBOOK_METRICS"], "a") as f:',
      '    f.write(json.dumps({"params": {"lr": 0.001, "hidden": 64, "epochs": 30, "model": "mlp"}, "acc": 0.5}) + "\\n")',
      '    f.write(json.dumps({"params": {"batch": 32}}) + "\\n")',
      'print("trained")',
    ].join('\n')
    const r = await cli(['run', '-n', 'sweep-1', '-p', 'lr=1e-3', '-p', 'epochs=10', '--system-interval', '0', '--', 'python3', '-c', script])
    expect(r.exitCode, r.stderr).toBe(0)
    const lines = r.stderr.trim().split('\n')
    // The conflict line comes just before the closing line, so it is not lost among the training output.
    expect(lines.at(-2)).toBe('labbook: PARAM_CHANGED: the command logged a param the run already had with another value; the first value is kept: epochs: 10 -> 30 (tag labbook.param_conflicts)')
    expect(r.stderr).not.toMatch(/skipped/)
    const run = await show(runIdFrom(r.stderr))
    expect(run.status).toBe('FINISHED')
    expect(run.params).toEqual({ lr: 0.001, epochs: 10, hidden: 64, model: 'mlp', batch: 32 })
    expect(run.tags['labbook.param_conflicts']).toBe('epochs: 10 -> 30')
    expect(run.metrics.acc).toBe(0.5)
    // The wrapped Python, not labbook's Node, and its installed distributions.
    expect(run.source.runtime).toMatch(/^python 3\.\d+\.\d+/)
    const paths = run.artifacts.map((a: { path: string }) => a.path)
    expect(paths).toContain('requirements.txt')
    expect(paths).toContain('labbook/output.log')
    const book = await Labbook.open({ repo: repo.dir })
    const reqs = Buffer.from(await book.readArtifact(run.id, 'requirements.txt')).toString()
    await book.close()
    expect(reqs).toMatch(/^[A-Za-z0-9_.-]+==\S+$/m)
    expect(reqs.endsWith('\n')).toBe(true)
  }, 60_000)

  it('a command that prints nothing stores no empty output.log; a program on PATH records its --version', async () => {
    const r = await cli(['run', '-n', 'quiet', '--system-interval', '0', '--', 'true'])
    expect(r.exitCode, r.stderr).toBe(0)
    const run = await show(runIdFrom(r.stderr))
    expect(run.artifacts.map((a: { path: string }) => a.path)).not.toContain('labbook/output.log')
    expect(run.source.runtime).toMatch(/coreutils/)
    // A shell command whose shell has no --version (dash) still records the shell, not labbook's Node.
    const sh = await cli(['run', '-n', 'shell', '--system-interval', '0', '--', 'sh', '-c', 'cd . && exit 0'])
    expect(sh.exitCode, sh.stderr).toBe(0)
    expect((await show(runIdFrom(sh.stderr))).source.runtime).toMatch(/^sh → \/\S+$|bash/i)
  })
})

describe('export', () => {
  it('CSV times are ISO 8601 unless --epoch', async () => {
    const iso = (await cli(['export'])).stdout.split('\r\n')
    const header = iso[0]!.split(',')
    const start = iso[1]!.split(',')[header.indexOf('start_time')]!
    expect(start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    const epoch = (await cli(['export', '--epoch'])).stdout.split('\r\n')
    expect(epoch[1]!.split(',')[header.indexOf('start_time')]).toBe(String(Date.parse(start)))
    const hist = (await cli(['export', '--history', 'acc'])).stdout.split('\r\n')
    expect(hist[1]).toMatch(/,acc,\d+,0\.5,\d{4}-\d\d-\d\dT/)
  })

  it('--history with a metric no run has warns and exits 1', async () => {
    const r = await cli(['export', '--history', 'nosuchmetric'])
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toMatch(/no selected run has the metric "nosuchmetric"/)
    expect(r.stderr).toMatch(/^hint: metrics of these runs: .*acc/m)
  })
})

describe('run names and rm', () => {
  it('a name several runs share means the newest; stderr says which and lists the others', async () => {
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const r = await cli(['run', '-n', 'baseline', '--system-interval', '0', '--', 'true'])
      ids.push(runIdFrom(r.stderr))
    }
    const r = await cli(['show', 'baseline', '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).id).toBe(ids[2])
    expect(r.stderr).toMatch(new RegExp(`^labbook: 3 runs are named "baseline"; using the newest, ${ids[2]} \\(started .* UTC\\)\\.$`, 'm'))
    expect(r.stderr).toMatch(new RegExp(`^hint: the others: ${ids[1]} \\(.*\\), ${ids[0]} \\(.*\\); pass an id to pick one\\.$`, 'm'))
  })

  it('rm of a deleted run says it is already deleted', async () => {
    const id = runIdFrom((await cli(['run', '-n', 'gone', '--system-interval', '0', '--', 'true'])).stderr)
    expect((await cli(['rm', id])).stderr).toBe(`Deleted run ${id} (gone).\n`)
    const again = await cli(['rm', id])
    expect(again.exitCode).toBe(0)
    expect(again.stderr).toBe(`Run ${id} (gone) is already deleted; \`labbook restore ${id}\` brings it back.\n`)
  })
})
