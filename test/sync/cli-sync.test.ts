import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, runCli } from '../helpers/cli.js'
import { clonesOfRemote, gitRepo } from '../helpers/git-repo.js'

const dirs: string[] = []
afterEach(() => { while (dirs.length) fs.rmSync(dirs.pop()!, { recursive: true, force: true }) })
beforeAll(() => ensureBuilt())

describe('labbook push / pull', () => {
  it('pushes, pulls and reports merges; errors carry a code and a hint', async () => {
    const { root, dirs: made } = clonesOfRemote(['a', 'b'])
    dirs.push(...made)
    for (const c of ['a', 'b']) {
      const r = await runCli(['run', '-n', `run-${c}`, '--', 'sh', '-c', 'exit 0'], { cwd: join(root, c) })
      expect(r.code).toBe(0)
    }
    const pa = await runCli(['push'], { cwd: join(root, 'a') })
    expect(pa.code).toBe(0)
    expect(pa.stdout + pa.stderr).toMatch(/Pushed labbook .* to origin/)
    const pb = await runCli(['push', '--json'], { cwd: join(root, 'b') })
    expect(pb.code).toBe(0)
    expect(JSON.parse(pb.stdout)).toMatchObject({ remote: 'origin', retries: 1, pulls: [{ branch: 'merged', runsAdded: 1 }] })
    const pull = await runCli(['pull'], { cwd: join(root, 'a') })
    expect(pull.stdout + pull.stderr).toContain('origin: branch fast-forwarded')
    const ls = await runCli(['ls', '--json'], { cwd: join(root, 'a') })
    expect(JSON.parse(ls.stdout).map((r: { name: string }) => r.name).sort()).toEqual(['run-a', 'run-b'])
    const bad = await runCli(['push', 'nowhere'], { cwd: join(root, 'a') })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^GIT_FAILED: .*\nhint: /m)
  }, 60_000)
})

describe('a fresh git clone of a repository whose remote has the labbook branch', () => {
  it('ls says that `labbook pull` brings the runs (git clone makes no local labbook branch), and pull does', async () => {
    const { root, dirs: made } = clonesOfRemote(['a'])
    dirs.push(...made)
    expect((await runCli(['run', '-n', 'shared-run', '--', 'sh', '-c', 'exit 0'], { cwd: join(root, 'a') })).code).toBe(0)
    expect((await runCli(['push'], { cwd: join(root, 'a') })).code).toBe(0)
    execFileSync('git', ['clone', '-q', join(root, 'remote.git'), join(root, 'fresh')])
    const fresh = join(root, 'fresh')
    const before = execFileSync('git', ['for-each-ref'], { cwd: fresh, encoding: 'utf8' })
    const ls = await runCli(['ls'], { cwd: fresh })
    expect(ls.code).toBe(0)
    expect(ls.stdout + ls.stderr).toContain('No local `labbook` branch yet, but origin has one: `labbook pull` brings its runs here.')
    expect(execFileSync('git', ['for-each-ref'], { cwd: fresh, encoding: 'utf8' })).toBe(before) // ls made no branch
    expect((await runCli(['pull'], { cwd: fresh })).code).toBe(0)
    const after = await runCli(['ls', '--json'], { cwd: fresh })
    expect(JSON.parse(after.stdout).map((r: { name: string }) => r.name)).toEqual(['shared-run'])
    // a repository with no remote copy keeps the first-run hint
    const lone = gitRepo()
    dirs.push(lone.dir)
    const empty = await runCli(['ls'], { cwd: lone.dir })
    expect(empty.stdout + empty.stderr).toContain('No runs yet. Record one with `labbook run -- <command>`.')
  }, 60_000)
})

describe('labbook init --github --notes', () => {
  it('writes both workflow templates (keeping existing ones) and makes git log show the notes', async () => {
    const repo = gitRepo()
    dirs.push(repo.dir)
    const r = await runCli(['init', '--github', '--notes'], { cwd: repo.dir })
    expect(r.code).toBe(0)
    const pages = fs.readFileSync(join(repo.dir, '.github/workflows/labbook-pages.yml'), 'utf8')
    const report = fs.readFileSync(join(repo.dir, '.github/workflows/labbook-report.yml'), 'utf8')
    expect(pages).toContain('actions/deploy-pages')
    expect(report).toContain('<!-- labbook-report -->')
    expect(fs.readFileSync(join(repo.dir, '.github/workflows/labbook-report-post.yml'), 'utf8')).toContain('workflow_run:') // part 2: comment + check run
    expect(repo.git('config', '--get-all', 'notes.displayRef').trim()).toBe('refs/notes/labbook')
    fs.writeFileSync(join(repo.dir, '.github/workflows/labbook-pages.yml'), '# mine\n')
    const again = await runCli(['init', '--github', '--notes'], { cwd: repo.dir })
    expect(again.code).toBe(0)
    expect(fs.readFileSync(join(repo.dir, '.github/workflows/labbook-pages.yml'), 'utf8')).toBe('# mine\n')
    expect(repo.git('config', '--get-all', 'notes.displayRef').trim()).toBe('refs/notes/labbook') // not added twice
    const run = await runCli(['run', '-n', 'noted', '--', 'sh', '-c', 'exit 0'], { cwd: repo.dir })
    expect(run.code).toBe(0)
    // the note is the commit's bounded summary (docs/format.md): counts and where to list the runs
    expect(repo.git('log', '-1', '--format=%N', 'main')).toMatch(/^labbook: 1 run on this commit · FINISHED 1 · list them: labbook ls --commit [0-9a-f]{12}\nlabbook: experiment 0 "Default" · FINISHED 1\n/)
  }, 60_000)
})

describe('labbook run --push', () => {
  it('pushes after the run ends; with push: true in labbook.config.yaml too; a failed push keeps the exit code', async () => {
    const origin = gitRepo()
    dirs.push(origin.dir)
    const root = fs.mkdtempSync(join(os.tmpdir(), 'labbook-run-push-'))
    dirs.push(root)
    execFileSync('git', ['clone', '-q', '--bare', origin.dir, join(root, 'remote.git')])
    execFileSync('git', ['clone', '-q', join(root, 'remote.git'), join(root, 'c')])
    const c = join(root, 'c')
    const r = await runCli(['run', '--push', '-n', 'pushed', '--', 'sh', '-c', 'exit 3'], { cwd: c })
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('labbook: pushed labbook to origin')
    const remoteLog = () => execFileSync('git', ['--git-dir', join(root, 'remote.git'), 'log', '--format=%s', 'labbook'], { encoding: 'utf8' })
    expect(remoteLog()).toContain('failed run pushed')
    fs.writeFileSync(join(c, 'labbook.config.yaml'), 'push: true\n')
    await runCli(['run', '-n', 'by-config', '--', 'sh', '-c', 'exit 0'], { cwd: c })
    expect(remoteLog()).toContain('finished run by-config')
    fs.writeFileSync(join(c, 'labbook.config.yaml'), 'push: nowhere\n')
    const bad = await runCli(['run', '-n', 'unpushed', '--', 'sh', '-c', 'exit 0'], { cwd: c })
    expect(bad.code).toBe(0)
    expect(bad.stderr).toMatch(/GIT_FAILED: the run is recorded locally, but pushing it failed/)
  }, 60_000)
})
