// In-process tests of the command layer: main(argv, io) against real temp repos.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { main } from '../../cli/main.js'
import { Labbook } from '../../src/index.js'
import { captureIO } from '../helpers/cli.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo
let ids: string[] = []
let before: string

async function cli(argv: string[], o: { env?: NodeJS.ProcessEnv; tty?: boolean; columns?: number; cwd?: string } = {}) {
  const c = captureIO(o.cwd ?? repo.dir, o.env, { tty: o.tty, columns: o.columns })
  const r = await main(argv, c.io)
  return { ...r, stdout: c.stdout(), stderr: c.stderr() }
}

beforeAll(async () => {
  repo = gitRepo({ 'train.py': 'print("hi")\n' })
  before = repo.userState()
  const book = await Labbook.open({ repo: repo.dir })
  await book.init()
  const exp = await book.experiment('iris')
  for (const [i, n] of [10, 50, 100].entries()) {
    await exp.run({ name: `rf-${n}`, params: { n_estimators: n, max_depth: 3 }, tags: { family: 'rf' }, startTime: 1_700_000_000_000 + i * 1000 }, async (run) => {
      for (let s = 0; s < 3; s++) run.logMetric('accuracy', 0.8 + i * 0.05 + s * 0.01, s)
      run.logMetric('weird', i === 0 ? NaN : Infinity)
    })
  }
  ids = (await book.listRuns()).map((r) => r.id)
  await book.close()
})
afterAll(() => repo.cleanup())

describe('usage and errors', () => {
  it('prints help with examples and exits 0', async () => {
    const r = await cli(['ls', '--help'])
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('USAGE labbook ls')
    expect(r.stdout).toContain('EXAMPLES')
    expect(r.stdout).not.toMatch(/\x1b\[/)
    const top = await cli(['--help'])
    expect(top.stdout).toContain('recover')
    expect(top.stdout).toContain('Exit codes: 0 success, 1 failed operation, 2 bad usage.')
  })

  it('bad usage prints the usage, then code and hint, and exits 2', async () => {
    for (const argv of [[], ['frobnicate'], ['ls', '--bogus'], ['run'], ['log'], ['log', 'metric'], ['ls', '--limit', 'x'], ['show'], ['ls', '--json', '--csv'], ['ls', '--repo']]) {
      const r = await cli(argv)
      expect(r.exitCode, argv.join(' ')).toBe(2)
      expect(r.stderr, argv.join(' ')).toMatch(/USAGE/)
      expect(r.stderr, argv.join(' ')).toMatch(/^hint: /m)
      expect(r.stdout).toBe('')
    }
  })

  it('a bad filter exits 2 with a caret, not the whole usage', async () => {
    const r = await cli(['ls', '--filter', 'metrics.accuracy >'])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toMatch(/^INVALID_FILTER: /)
    expect(r.stderr).toContain('^')
    expect(r.stderr).not.toContain('OPTIONS')
  })

  it('a failed operation prints code: message and hint, exits 1, and shows the stack only with --verbose', async () => {
    const r = await cli(['show', 'no-such-run'])
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toMatch(/^RUN_NOT_FOUND: /)
    expect(r.stderr).toMatch(/^hint: /m)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    const v = await cli(['show', 'no-such-run', '--verbose'])
    expect(v.stderr).toMatch(/\n\s+at /)
    const e = await cli(['ls', '-e', 'nope'])
    expect(e.exitCode).toBe(1)
    expect(e.stderr).toMatch(/^EXPERIMENT_NOT_FOUND: /)
    const outside = await cli(['ls'], { cwd: '/' })
    expect(outside.exitCode).toBe(1)
    expect(outside.stderr).toMatch(/^NOT_A_GIT_REPO: .*\nhint: /)
  })

  it('an ambiguous prefix lists the candidates', async () => {
    const prefix = ids[0]!.slice(0, 4)
    const r = await cli(['show', prefix])
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toMatch(/^RUN_AMBIGUOUS: /)
    for (const id of ids) expect(r.stderr).toContain(id)
  })
})

describe('ls', () => {
  it('--json has the documented shape, newest first, non-finite numbers as strings', async () => {
    const r = await cli(['ls', '--json'])
    expect(r.exitCode).toBe(0)
    const runs = JSON.parse(r.stdout)
    expect(runs.map((x: { name: string }) => x.name)).toEqual(['rf-100', 'rf-50', 'rf-10'])
    const x = runs[2]
    for (const k of ['id', 'name', 'experiment', 'status', 'lifecycle', 'startTime', 'endTime', 'params', 'metrics', 'tags', 'source', 'parent']) expect(x).toHaveProperty(k)
    expect(x).toMatchObject({ name: 'rf-10', experiment: 'iris', status: 'FINISHED', lifecycle: 'active', startTime: 1_700_000_000_000, params: { n_estimators: 10, max_depth: 3 }, tags: { family: 'rf' }, parent: null })
    expect(x.metrics).toEqual({ accuracy: 0.8 + 0.02, weird: 'NaN' })
    expect(runs[0].metrics.weird).toBe('Infinity')
    expect(x.source).toHaveProperty('commit')
    expect(x.source.commit).toBe(repo.git('rev-parse', 'HEAD').trim())
    expect(x.source).toMatchObject({ branch: 'main', dirty: false })
  })

  it('--csv has one row per run with params.*, metrics.*, tags.* columns (the export shape)', async () => {
    const r = await cli(['ls', '--csv', '--limit', '2'])
    const lines = r.stdout.trim().split(/\r?\n/)
    expect(lines).toHaveLength(3)
    const header = lines[0]!.split(',')
    expect(header.slice(0, 4)).toEqual(['run_id', 'run_name', 'experiment_id', 'status'])
    expect(header).toContain('params.n_estimators')
    expect(header).toContain('metrics.accuracy')
    expect(header).toContain('tags.family')
    const row = lines[1]!.split(',')
    expect(row[header.indexOf('params.n_estimators')]).toBe('100')
    expect(row[header.indexOf('metrics.weird')]).toBe('inf')
    const exported = await cli(['export', '--limit', '2'])
    expect(exported.stdout).toBe(r.stdout)
  })

  it('prints a plain table when piped and fits a narrow terminal with colour unless NO_COLOR', async () => {
    const piped = await cli(['ls'])
    expect(piped.stdout).not.toMatch(/\x1b\[/)
    // max_depth is the same in every run, so the table leaves it out.
    expect(piped.stdout.split('\n')[0]).toMatch(/^id\s+name\s+status\s+accuracy\s+weird\s+n_estimators\s+started\s+duration\s+commit$/)
    expect(piped.stdout).toContain('rf-100')
    const tty = await cli(['ls'], { tty: true, columns: 50 })
    expect(tty.stdout).toMatch(/\x1b\[/)
    for (const line of tty.stdout.replace(/\x1b\[[0-9;]*m/g, '').trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(50)
    const noColor = await cli(['ls'], { tty: true, columns: 200, env: { NO_COLOR: '1' } })
    expect(noColor.stdout).not.toMatch(/\x1b\[/)
    expect(noColor.stdout).toContain('accuracy')
  })

  it('filters, orders, limits and picks columns', async () => {
    const r = await cli(['ls', '--filter', 'params.n_estimators >= 50', '--order-by', 'metrics.accuracy ASC', '--columns', 'run_name,metrics.accuracy', '--limit', '5'])
    expect(r.exitCode).toBe(0)
    // ★: the best finished run of the experiment on its primary metric (src/judge)
    expect(r.stdout.trim().split('\n')).toEqual(['name      accuracy', 'rf-50         0.87', '★ rf-100      0.92'])
    const e = await cli(['ls', '-e', 'iris', '--json'])
    expect(JSON.parse(e.stdout)).toHaveLength(3)
    const d = await cli(['ls', '-e', 'Default', '--json'])
    expect(d.exitCode).toBe(1) // no run ever went to Default here
    expect(d.stderr).toMatch(/^EXPERIMENT_NOT_FOUND/)
  })

  it('--commit lists the runs of one code commit (what a git note counts)', async () => {
    const head = repo.git('rev-parse', 'HEAD').trim()
    expect(JSON.parse((await cli(['ls', '--commit', head.slice(0, 7), '--json'])).stdout)).toHaveLength(3)
    expect(JSON.parse((await cli(['ls', '--commit', 'ffff', '--json'])).stdout)).toHaveLength(0)
    const bad = await cli(['ls', '--commit', 'HEAD'])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain('is not a commit id')
  })
})

describe('compare and export', () => {
  it('compare marks the best metric and differing rows; --md is a Markdown table; --json is data', async () => {
    const text = await cli(['compare', 'rf-10', 'rf-100'])
    expect(text.exitCode, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/≠ n_estimators\s+10\s+100/)
    expect(text.stdout).toMatch(/accuracy ↑\s+0\.82\s+0\.92 ★/)
    const md = await cli(['compare', 'rf-10', 'rf-100', '--md', '--diff-only'])
    expect(md.stdout).toContain('| ≠ n\\_estimators | 10 | 100 |')
    expect(md.stdout).not.toContain('max\\_depth')
    const json = JSON.parse((await cli(['compare', 'rf-10', 'rf-50', '--json'])).stdout)
    expect(json.runs.map((r: { name: string }) => r.name)).toEqual(['rf-10', 'rf-50'])
    expect(json.metrics.find((m: { key: string }) => m.key === 'accuracy')).toMatchObject({ goal: 'maximize', best: [1] })
    expect((await cli(['compare'])).exitCode).toBe(2)
  })

  it('export writes jsonl and long-format histories, filtered', async () => {
    const jsonl = (await cli(['export', '--format', 'jsonl', '--filter', 'params.n_estimators < 60'])).stdout.trim().split('\n').map((l) => JSON.parse(l))
    expect(jsonl.map((r: { name: string }) => r.name)).toEqual(['rf-50', 'rf-10'])
    const hist = (await cli(['export', '--history', 'accuracy', '--filter', "run_name = 'rf-50'"])).stdout.trim().split(/\r?\n/)
    expect(hist[0]).toBe('run_id,key,step,value,timestamp')
    expect(hist).toHaveLength(4)
    expect(hist[1]).toMatch(/^\w+,accuracy,0,0\.85\d*,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    const bad = await cli(['export', '--format', 'parquet'])
    expect(bad.exitCode).toBe(2)
  })
})

describe('show, rename, rm, restore, experiments', () => {
  it('show --json adds history and artifacts; show prints sections', async () => {
    const r = await cli(['show', 'rf-50', '--json'])
    expect(r.exitCode).toBe(0)
    const run = JSON.parse(r.stdout)
    expect(run.history.accuracy.map((p: { step: number }) => p.step)).toEqual([0, 1, 2])
    expect(run.history.accuracy[0]).toEqual({ step: 0, value: expect.closeTo(0.85, 9), timestamp: expect.any(Number) })
    expect(Array.isArray(run.artifacts)).toBe(true)
    const text = await cli(['show', ids[0]!.slice(0, 24)])
    expect(text.stdout).toContain('rf-100')
    expect(text.stdout).toContain('Params')
    expect(text.stdout).toContain('Metrics')
  })

  it('rename, rm and restore change the run and leave the user checkout alone', async () => {
    expect((await cli(['rename', 'rf-10', 'baseline'])).exitCode).toBe(0)
    expect((await cli(['rm', 'baseline'])).exitCode).toBe(0)
    let runs = JSON.parse((await cli(['ls', '--json'])).stdout)
    expect(runs.map((x: { name: string }) => x.name)).toEqual(['rf-100', 'rf-50'])
    runs = JSON.parse((await cli(['ls', '--all', '--json'])).stdout)
    expect(runs.find((x: { name: string }) => x.name === 'baseline').lifecycle).toBe('deleted')
    expect((await cli(['restore', 'baseline'])).exitCode).toBe(0)
    expect(JSON.parse((await cli(['ls', '--json'])).stdout)).toHaveLength(3)
    const ex = JSON.parse((await cli(['experiments', '--json'])).stdout)
    expect(ex.find((e: { name: string }) => e.name === 'iris').runs).toBe(3)
    expect(repo.userState()).toBe(before)
    expect(repo.git('status', '--porcelain')).toBe('')
  })

  it('init is idempotent and says what it did; --branch selects another branch', async () => {
    const again = await cli(['init', '--json'])
    expect(JSON.parse(again.stdout)).toMatchObject({ created: false, branch: 'labbook' })
    const other = await cli(['--branch', 'exp2', 'init'])
    expect(other.exitCode).toBe(0)
    expect(other.stderr).toMatch(/^Created branch exp2/)
    expect(JSON.parse((await cli(['ls', '--json', '--branch=exp2'])).stdout)).toEqual([])
    writeFileSync(join(repo.dir, '.git', 'info', 'exclude'), 'labbook.config.yaml\n')
    writeFileSync(join(repo.dir, 'labbook.config.yaml'), 'branch: exp2\n')
    expect(JSON.parse((await cli(['ls', '--json'])).stdout)).toEqual([])
    const r = await cli(['ls', '--json'], { env: { LABBOOK_BRANCH: 'labbook' } })
    expect(JSON.parse(r.stdout)).toHaveLength(3)
  })

  it('gc packs the branch objects and leaves the repository consistent', async () => {
    const r = await cli(['gc', '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).objects).toBeGreaterThan(0)
    expect(JSON.parse((await cli(['gc', '--json'])).stdout).objects).toBe(0)
    expect(JSON.parse((await cli(['ls', '--json', '--branch', 'labbook'])).stdout)).toHaveLength(3)
    fsck(repo)
  })

  it('init --notes makes git log show the notes, once', async () => {
    const first = await cli(['init', '--notes', '--branch', 'labbook'])
    expect(first.exitCode, first.stderr).toBe(0)
    expect(first.stderr).toContain('now shows labbook notes')
    expect(repo.git('config', '--get-all', 'notes.displayRef').trim()).toBe('refs/notes/labbook')
    const again = await cli(['init', '--notes', '--json', '--branch', 'labbook'])
    expect(JSON.parse(again.stdout)).toMatchObject({ created: false, notes: { changed: false } })
  })
})
