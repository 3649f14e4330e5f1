// The GitHub Actions templates, run for real where they can be: the report workflow's shell steps in a CI-like clone
// of a bare remote (with the built CLI standing in for `npx --yes labbook`), and the post workflow's script (comment +
// check run) against a recording GitHub client (GitHub itself is not reachable from a test).
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PR_REPORT_MARKER } from '../../src/report/pr-markdown.js'
import { cliEnv, ensureBuilt } from '../helpers/cli.js'
import { prRepo, type PrRepo } from '../helpers/pr-repo.js'

const TEMPLATE = fileURLToPath(new URL('../../templates/github/labbook-report.yml', import.meta.url))
const POST_TEMPLATE = fileURLToPath(new URL('../../templates/github/labbook-report-post.yml', import.meta.url))
interface Step { name?: string; id?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, string> }
interface Workflow { name: string; on: Record<string, Record<string, unknown>>; permissions: Record<string, string>; jobs: Record<string, { if?: string; steps: Step[] }> }
const wf = parseYaml(fs.readFileSync(TEMPLATE, 'utf8')) as Workflow
const post = parseYaml(fs.readFileSync(POST_TEMPLATE, 'utf8')) as Workflow
const steps = wf.jobs.report!.steps
const step = (name: string) => steps.find((s) => s.name === name)!

let f: PrRepo
let tmp: string
beforeAll(async () => {
  ensureBuilt()
  f = await prRepo()
  tmp = fs.mkdtempSync(join(os.tmpdir(), 'labbook-wf-'))
})
afterAll(() => {
  f?.repo.cleanup()
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

/** A checkout like actions/checkout's (fetch-depth: 0, detached at the PR head, remote branches as origin/*). */
function ciClone(remote: string, name: string, headSha: string): string {
  const dir = join(tmp, name)
  execFileSync('git', ['clone', '-q', '--no-checkout', remote, dir])
  execFileSync('git', ['checkout', '-q', '--detach', headSha], { cwd: dir })
  return dir
}

/** Runs a `run:` block with bash -e like Actions does; `npx --yes labbook` becomes the built CLI. */
function runStep(s: Step, cwd: string, env: Record<string, string>) {
  const shim = 'npx() { while [ "$1" = --yes ]; do shift; done; shift; labbook "$@"; }\n'
  const out = join(cwd, '.gh-output'), summary = join(cwd, '.gh-summary'), temp = join(cwd, '.runner-temp')
  fs.writeFileSync(out, '')
  fs.writeFileSync(summary, '')
  fs.mkdirSync(temp, { recursive: true })
  const r = spawnSync('bash', ['-e', '-c', shim + s.run!], { cwd, encoding: 'utf8', env: cliEnv({ ...env, GITHUB_OUTPUT: out, GITHUB_STEP_SUMMARY: summary, RUNNER_TEMP: temp }) })
  const artifact = (name: string) => { try { return fs.readFileSync(join(temp, 'labbook-report', name), 'utf8') } catch { return undefined } }
  return { status: r.status, stderr: r.stderr, output: fs.readFileSync(out, 'utf8'), summary: fs.readFileSync(summary, 'utf8'), artifact }
}

describe('workflow template', () => {
  it('part 1 runs PR code on pull_request with a read-only token and uploads the report as an artifact', () => {
    expect(Object.keys(wf.on)).toEqual(['pull_request'])
    expect(wf.permissions).toEqual({ contents: 'read' }) // no write token where PR (fork) code runs
    expect(Object.keys(wf.jobs)).toEqual(['report'])
    const checkout = steps.find((s) => s.uses?.startsWith('actions/checkout'))!
    expect(checkout.with).toMatchObject({ 'fetch-depth': 0, ref: '${{ github.event.pull_request.head.sha }}' })
    expect(steps.some((s) => s.uses?.startsWith('actions/github-script'))).toBe(false)
    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!
    expect(upload.with).toMatchObject({ name: 'labbook-report', path: '${{ runner.temp }}/labbook-report/' })
    expect(steps.indexOf(upload)).toBeLessThan(steps.indexOf(step('Fail on regression'))) // a regression still gets posted
    // Values from the PR author never get inlined into a shell script.
    for (const s of steps) expect(s.run ?? '').not.toMatch(/\$\{\{\s*github\.(head_ref|event\.pull_request\.(title|body|head\.ref))/)
  })

  it('part 2 runs on workflow_run of part 1 with write access, and runs no PR code', () => {
    expect(post.on).toEqual({ workflow_run: { workflows: [wf.name], types: ['completed'] } })
    expect(post.permissions).toEqual({ actions: 'read', checks: 'write', 'pull-requests': 'write' })
    const job = post.jobs.post!
    expect(job.if).toContain("github.event.workflow_run.event == 'pull_request'")
    expect(job.steps.map((s) => s.uses?.split('@')[0])).toEqual(['actions/download-artifact', 'actions/github-script'])
    expect(job.steps.some((s) => s.run)).toBe(false) // no shell, no checkout, no npx: nothing from the PR is executed
    expect(job.steps[0]!.with).toMatchObject({ name: 'labbook-report', 'run-id': '${{ github.event.workflow_run.id }}', path: '${{ runner.temp }}/labbook-report' })
    expect(POST_TEMPLATE.endsWith('labbook-report-post.yml')).toBe(true)
  })

  it('fetches the labbook branch, builds the report and flags a regression, in a clone of a real remote', () => {
    const remote = join(tmp, 'remote.git')
    execFileSync('git', ['clone', '-q', '--bare', f.repo.dir, remote])
    const ci = ciClone(remote, 'ci', f.commits.p3)
    expect(runStep(step('Fetch the labbook branch'), ci, {}).status).toBe(0)
    // Single runs on each side: only a configured noise floor can call loss worse (0.4 → 0.41 ≥ min_effect 0.005).
    fs.writeFileSync(join(ci, 'labbook.config.yaml'), 'primary: [loss]\nmetrics:\n  loss: { min_effect: 0.005 }\n')
    const env = { BASE_REF: 'main', HEAD_REF: 'feature', SITE_URL: 'https://example.org/lab', FAIL_ON_REGRESSION: 'true' }
    const r = runStep(step('Build the report'), ci, { ...env, PR_NUMBER: '7', HEAD_SHA: f.commits.p3 })
    expect(r.status, r.stderr).toBe(0)
    expect(r.output).toBe('exit=1\n')
    const md = r.artifact('report.md')!
    expect(md.startsWith(PR_REPORT_MARKER + '\n')).toBe(true)
    expect(md).toContain('🔴 **Worse than main**: loss 0.4 → 0.41 (+2.50%) 🔴')
    expect(md).toContain('feat-remote') // found by the branch name the workflow passes (HEAD is detached in CI)
    expect(md).toContain('https://example.org/lab/runs/')
    expect(r.summary).toBe(md)
    expect(r.stderr).toContain('regression: cifar loss 0.4 (n=1) -> 0.41 (n=1)')
    expect(JSON.parse(r.artifact('meta.json')!)).toEqual({ pr: 7, head_sha: f.commits.p3, exit: 1 })
    const table = r.artifact('verdict.md')!
    expect(table.split('\n')[0]).toBe(md.split('\n')[3]) // the verdict line of the comment
    expect(table).toContain('| Experiment | Metric | Baseline | PR | Δ (95% CI) | Verdict |')
    expect(table).toMatch(/^\| cifar \| .*loss.* \| 0\.4 .*\| 0\.41 .*\| 🔴/m)
    expect(fs.readdirSync(ci).filter((n) => !n.startsWith('.'))).not.toContain('report.md') // nothing written into the checkout
    expect(spawnSync('bash', ['-c', step('Fail on regression').run!]).status).toBe(1)
    // Without the variable the step passes.
    expect(runStep(step('Build the report'), ci, { ...env, FAIL_ON_REGRESSION: '' }).output).toBe('exit=0\n')
  })

  it('tolerates a remote without a labbook branch, and fails the step on a real error', () => {
    const remote = join(tmp, 'empty.git')
    execFileSync('git', ['init', '-q', '--bare', remote])
    execFileSync('git', ['push', '-q', remote, 'main', 'feature'], { cwd: f.repo.dir })
    const ci = ciClone(remote, 'ci-empty', f.commits.p3)
    const fetched = runStep(step('Fetch the labbook branch'), ci, {})
    expect(fetched.status).toBe(0)
    expect(fetched.stderr + '').toMatch(/couldn't find remote ref|not our ref|fatal/i)
    const r = runStep(step('Build the report'), ci, { BASE_REF: 'main', HEAD_REF: 'feature' })
    expect(r.status, r.stderr).toBe(0)
    expect(r.artifact('report.md')).toContain('No runs for this pull request')
    const bad = runStep(step('Build the report'), ci, { BASE_REF: 'no-such-base', HEAD_REF: 'feature' })
    expect(bad.status).toBe(2) // bad usage: the step fails with the CLI's own code
    expect(bad.stderr).toContain('INVALID_ARGUMENT')
  })

  it('part 2 creates one comment then edits it in place, posts the check run, and posts nothing for a forged or stale report', async () => {
    const script = String(post.jobs.post!.steps.find((s) => s.uses?.startsWith('actions/github-script'))!.with!.script)
    type Comment = { id: number; body: string; user: { type: string } }
    const comments: Comment[] = [{ id: 1, body: `${PR_REPORT_MARKER}\nquoted by a person`, user: { type: 'User' } }]
    const calls: string[] = []
    const checks: Array<Record<string, unknown>> = []
    const prHead = { 7: 'a'.repeat(40), 8: 'b'.repeat(40) } as Record<number, string>
    const github = {
      paginate: async (fn: (o: unknown) => Promise<{ data: Comment[] }>, o: unknown) => (await fn(o)).data,
      rest: {
        pulls: { get: async (o: { pull_number: number }) => { calls.push(`get ${o.pull_number}`); return { data: { head: { sha: prHead[o.pull_number] } } } } },
        issues: {
          listComments: async (o: { issue_number: number }) => { expect(o.issue_number).toBe(7); return { data: comments.map((c) => ({ ...c })) } },
          createComment: async (o: { issue_number: number; body: string }) => { calls.push(`create ${o.issue_number}`); comments.push({ id: comments.length + 1, body: o.body, user: { type: 'Bot' } }) },
          updateComment: async (o: { comment_id: number; body: string }) => { calls.push(`update ${o.comment_id}`); comments.find((c) => c.id === o.comment_id)!.body = o.body },
        },
        checks: { create: async (o: Record<string, unknown>) => { calls.push('check'); checks.push(o) } },
      },
    }
    const warnings: string[] = []
    const core = { info: () => {}, warning: (m: string) => warnings.push(m) }
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...a: string[]) => (...x: unknown[]) => Promise<unknown>
    const req = (await import('node:module')).createRequire(import.meta.url)
    const run = async (files: Record<string, string>, headSha = 'a'.repeat(40)) => {
      const dir = fs.mkdtempSync(join(tmp, 'artifact-'))
      for (const [name, text] of Object.entries(files)) fs.writeFileSync(join(dir, name), text)
      const context = { repo: { owner: 'o', repo: 'r' }, payload: { workflow_run: { head_sha: headSha, html_url: 'https://github.com/o/r/actions/runs/1' } } }
      const old = process.env.REPORT_DIR
      process.env.REPORT_DIR = dir // the step's env
      try {
        await new AsyncFunction('require', 'github', 'context', 'core', script)(req, github, context, core)
      } finally {
        if (old === undefined) delete process.env.REPORT_DIR
        else process.env.REPORT_DIR = old
      }
    }
    const meta = (o: Record<string, unknown>) => JSON.stringify({ pr: 7, head_sha: 'a'.repeat(40), exit: 0, ...o })
    const table = '🔴 **Worse than main**: loss 0.4 → 0.41\n\n| Experiment | Metric |\n'
    await run({ 'meta.json': meta({ exit: 1 }), 'report.md': `${PR_REPORT_MARKER}\nfirst`, 'verdict.md': table })
    await run({ 'meta.json': meta({}), 'report.md': `${PR_REPORT_MARKER}\nsecond`, 'verdict.md': 'same\n' })
    expect(calls).toEqual(['get 7', 'create 7', 'check', 'get 7', 'update 2', 'check'])
    expect(comments.map((c) => c.body)).toEqual([`${PR_REPORT_MARKER}\nquoted by a person`, `${PR_REPORT_MARKER}\nsecond`])
    expect(checks[0]).toMatchObject({ name: 'labbook verdict', head_sha: 'a'.repeat(40), status: 'completed', conclusion: 'failure', output: { title: '🔴 Worse than main: loss 0.4 → 0.41', summary: table } })
    expect(checks[1]).toMatchObject({ conclusion: 'success', output: { title: 'same' } })

    // Untrusted artifact: every one of these posts nothing.
    calls.length = 0
    await run({ 'meta.json': meta({ pr: '7; rm -rf /' }), 'report.md': `${PR_REPORT_MARKER}\nx` })
    await run({ 'meta.json': meta({ pr: 8 }), 'report.md': `${PR_REPORT_MARKER}\nclaims another PR` }) // PR 8's head is b…
    await run({ 'meta.json': meta({ head_sha: 'c'.repeat(40) }), 'report.md': `${PR_REPORT_MARKER}\nother commit` })
    await run({ 'meta.json': meta({}), 'report.md': `${PR_REPORT_MARKER}\nstale` }, 'd'.repeat(40)) // the run's sha is not the PR's head any more
    await run({ 'report.md': `${PR_REPORT_MARKER}\nno meta` })
    expect(calls.filter((c) => !c.startsWith('get'))).toEqual([])
    expect(warnings.join('\n')).toMatch(/bad PR number/)
    // A body that is not a labbook report gets no comment (the check run still tells the verdict).
    await run({ 'meta.json': meta({}), 'report.md': 'hello', 'verdict.md': 'v\n' })
    expect(calls.filter((c) => !c.startsWith('get'))).toEqual(['check'])
    expect(comments).toHaveLength(2)
  })
})
