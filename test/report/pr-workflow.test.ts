// The GitHub Actions template, run for real where it can be: its shell steps in a CI-like clone of a bare remote
// (with the built CLI standing in for `npx --yes labbook`), and its comment script against a fake GitHub client.
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
interface Step { name?: string; id?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, string> }
const wf = parseYaml(fs.readFileSync(TEMPLATE, 'utf8')) as { on: Record<string, unknown>; permissions: Record<string, string>; jobs: { report: { steps: Step[] } } }
const steps = wf.jobs.report.steps
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
  const out = join(cwd, '.gh-output'), summary = join(cwd, '.gh-summary')
  fs.writeFileSync(out, '')
  fs.writeFileSync(summary, '')
  const r = spawnSync('bash', ['-e', '-c', shim + s.run!], { cwd, encoding: 'utf8', env: cliEnv({ ...env, GITHUB_OUTPUT: out, GITHUB_STEP_SUMMARY: summary }) })
  return { status: r.status, stderr: r.stderr, output: fs.readFileSync(out, 'utf8'), summary: fs.readFileSync(summary, 'utf8') }
}

describe('workflow template', () => {
  it('runs on pull_request with a full checkout of the PR head and write access to PR comments', () => {
    expect(Object.keys(wf.on)).toEqual(['pull_request'])
    expect(wf.permissions['pull-requests']).toBe('write')
    const checkout = steps.find((s) => s.uses?.startsWith('actions/checkout'))!
    expect(checkout.with).toMatchObject({ 'fetch-depth': 0, ref: '${{ github.event.pull_request.head.sha }}' })
    expect(steps.some((s) => s.uses?.startsWith('actions/github-script'))).toBe(true)
    // Values from the PR author never get inlined into a shell script.
    for (const s of steps) expect(s.run ?? '').not.toMatch(/\$\{\{\s*github\.(head_ref|event\.pull_request\.(title|body|head\.ref))/)
  })

  it('fetches the labbook branch, builds the report and flags a regression, in a clone of a real remote', () => {
    const remote = join(tmp, 'remote.git')
    execFileSync('git', ['clone', '-q', '--bare', f.repo.dir, remote])
    const ci = ciClone(remote, 'ci', f.commits.p3)
    expect(runStep(step('Fetch the labbook branch'), ci, {}).status).toBe(0)
    // Single runs on each side: only a configured noise floor can call loss worse (0.4 → 0.41 ≥ min_effect 0.005).
    fs.writeFileSync(join(ci, 'labbook.config.yaml'), 'primary: [loss]\nmetrics:\n  loss: { min_effect: 0.005 }\n')
    const env = { BASE_REF: 'main', HEAD_REF: 'feature', SITE_URL: 'https://example.org/lab', FAIL_ON_REGRESSION: 'true' }
    const r = runStep(step('Build the report'), ci, env)
    expect(r.status, r.stderr).toBe(0)
    expect(r.output).toBe('exit=1\n')
    const md = fs.readFileSync(join(ci, 'report.md'), 'utf8')
    expect(md.startsWith(PR_REPORT_MARKER + '\n')).toBe(true)
    expect(md).toContain('🔴 **Worse than main**: loss 0.4 → 0.41 (+2.50%) 🔴')
    expect(md).toContain('feat-remote') // found by the branch name the workflow passes (HEAD is detached in CI)
    expect(md).toContain('https://example.org/lab/runs/')
    expect(r.summary).toBe(md)
    expect(r.stderr).toContain('regression: cifar loss 0.4 (n=1) -> 0.41 (n=1)')
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
    expect(fs.readFileSync(join(ci, 'report.md'), 'utf8')).toContain('No runs for this pull request')
    const bad = runStep(step('Build the report'), ci, { BASE_REF: 'no-such-base', HEAD_REF: 'feature' })
    expect(bad.status).toBe(2) // bad usage: the step fails with the CLI's own code
    expect(bad.stderr).toContain('INVALID_ARGUMENT')
  })

  it('creates one comment, then edits that comment in place, leaving comments of people alone', async () => {
    const script = String(step('Post or update the PR comment').with!.script)
    type Comment = { id: number; body: string; user: { type: string } }
    const comments: Comment[] = [{ id: 1, body: `${PR_REPORT_MARKER}\nquoted by a person`, user: { type: 'User' } }]
    const calls: string[] = []
    const github = {
      paginate: async (fn: (o: unknown) => Promise<{ data: Comment[] }>, o: unknown) => (await fn(o)).data,
      rest: {
        issues: {
          listComments: async () => ({ data: comments.map((c) => ({ ...c })) }),
          createComment: async (o: { body: string }) => { calls.push('create'); comments.push({ id: comments.length + 1, body: o.body, user: { type: 'Bot' } }) },
          updateComment: async (o: { comment_id: number; body: string }) => { calls.push(`update ${o.comment_id}`); comments.find((c) => c.id === o.comment_id)!.body = o.body },
        },
      },
    }
    const context = { repo: { owner: 'o', repo: 'r' }, payload: { pull_request: { number: 7 } } }
    const core = { info: () => {} }
    const dir = fs.mkdtempSync(join(tmp, 'gs-'))
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...a: string[]) => (...x: unknown[]) => Promise<unknown>
    const run = async (body: string) => {
      fs.writeFileSync(join(dir, 'report.md'), body)
      const cwd = process.cwd()
      process.chdir(dir)
      try {
        await new AsyncFunction('require', 'github', 'context', 'core', script)(await import('node:module').then((m) => m.createRequire(import.meta.url)), github, context, core)
      } finally {
        process.chdir(cwd)
      }
    }
    await run(`${PR_REPORT_MARKER}\nfirst`)
    await run(`${PR_REPORT_MARKER}\nsecond`)
    await run('')
    expect(calls).toEqual(['create', 'update 2'])
    expect(comments.map((c) => c.body)).toEqual([`${PR_REPORT_MARKER}\nquoted by a person`, `${PR_REPORT_MARKER}\nsecond`])
  })
})
