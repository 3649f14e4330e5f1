/**
 * One fixture repository fed to every face: `ls` (★ and --group-by), `compare`, `report` (verdict, exit code) and the
 * built site in Chromium must name the same best run, never crown a FAILED run, never mix experiments, and never call
 * a memory drop a regression. Also `labbook run --repeat`. The "Done means" scenario, on real git.
 */
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { Labbook } from '../../src/index.js'
import type { SiteBuildResult } from '../../src/site/build/index.js'
import { previewSite, type PreviewServer } from '../../src/site/build/preview.js'
import { captureIO } from '../helpers/cli.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { launchChromium } from '../site/browser.js'

const T0 = 1_767_225_600_000
const A = [0.800, 0.810, 0.790, 0.805, 0.795] // base: config A, 5 seeds
const B = [0.802, 0.812, 0.792, 0.798, 0.803] // PR "within": config B, within noise of A
const C = [0.700, 0.705, 0.695, 0.702, 0.698] // PR "worse": config C, clearly worse
let repo: TestRepo
let commits: Record<string, string>
let before: string

async function cli(argv: string[]) {
  const c = captureIO(repo.dir, { GITHUB_HEAD_REF: undefined })
  const r = await main(argv, c.io)
  return { ...r, stdout: c.stdout(), stderr: c.stderr() }
}

beforeAll(async () => {
  repo = gitRepo({ 'train.py': 'v0\n' })
  const g = repo.git
  const head = () => g('rev-parse', 'HEAD').trim()
  const commit = (content: string, msg: string) => { writeFileSync(join(repo.dir, 'train.py'), content); g('commit', '-qam', msg); return head() }
  commits = { c0: head() }
  g('checkout', '-q', '-b', 'within')
  commits.within = commit('b\n', 'config B')
  g('checkout', '-q', '-b', 'worse', commits.c0)
  commits.worse = commit('c\n', 'config C')
  g('checkout', '-q', 'main')

  const book = await Labbook.open({ repo: repo.dir })
  let i = 0
  const add = async (experiment: string, name: string, commit: string, branch: string, params: Record<string, number | string>, metrics: Record<string, number>, status: 'FINISHED' | 'FAILED' = 'FINISHED') => {
    const start = T0 + i++ * 60_000
    const run = await book.startRun({ experiment, name, params, source: { commit, branch, dirty: false }, startTime: start })
    for (const [k, v] of Object.entries(metrics)) run.logMetric(k, v, { step: 0, timestamp: start + 1000 })
    await run.end(status, { endTime: start + 30_000 })
  }
  for (const [s, v] of A.entries()) await add('vision', `A-seed${s}`, commits.c0, 'main', { lr: 0.1, seed: s }, { val_acc: v, 'system/memory_mb': 1000 + s })
  // A diverged run whose last val_acc happened to be high: FAILED, never crowned.
  await add('vision', 'diverged', commits.c0, 'main', { lr: 0.5, seed: 0 }, { val_acc: 0.99, 'system/memory_mb': 3000 }, 'FAILED')
  // Another task whose numbers are on another scale: never mixed into vision's verdict.
  for (const s of [0, 1]) await add('speech', `wer-${s}`, commits.c0, 'main', { beam: 4, seed: s }, { wer: 120_000 + s })
  for (const [s, v] of B.entries()) await add('vision', `B-seed${s}`, commits.within, 'within', { lr: 0.2, seed: s }, { val_acc: v, 'system/memory_mb': 500 + s })
  for (const [s, v] of C.entries()) await add('vision', `C-seed${s}`, commits.worse, 'worse', { lr: 0.3, seed: s }, { val_acc: v, 'system/memory_mb': 400 + s })
  await book.close()
  before = repo.userState()
}, 120_000)

afterAll(() => repo?.cleanup())

describe('the report', () => {
  it('within noise: inconclusive, exit 0 with --fail-on-regression; memory dropping is not a regression; speech is listed, not judged', async () => {
    const r = await cli(['report', '--base', 'main', '--head', 'within', '--json', '--fail-on-regression'])
    expect(r.exitCode, r.stderr).toBe(0)
    const data = JSON.parse(r.stdout)
    expect(data.verdict).toBe('inconclusive')
    const vision = data.experiments.find((e: { name: string }) => e.name === 'vision')
    expect(vision).toMatchObject({ verdict: 'inconclusive', baseline: { runs: expect.any(Array) }, pr: { best: { name: 'B-seed1' } } })
    expect(vision.baseline.runs).toHaveLength(5) // the FAILED run is not in config A's group, nor crowned
    const acc = vision.metrics.find((m: { key: string }) => m.key === 'val_acc')
    expect(acc).toMatchObject({ primary: true, verdict: 'inconclusive', baseline: { n: 5 }, pr: { n: 5 } })
    expect(acc.ci[0]).toBeLessThan(0)
    expect(acc.ci[1]).toBeGreaterThan(0)
    const mem = vision.metrics.find((m: { key: string }) => m.key === 'system/memory_mb')
    expect(mem).toMatchObject({ primary: false, goalSource: 'telemetry' })
    expect(mem.verdict).toBeUndefined()
    expect(mem.diff).toBeLessThan(-400)
    expect(data.experiments.find((e: { name: string }) => e.name === 'speech')).toMatchObject({ verdict: 'no-pr-runs', prRuns: 0 })
    const md = await cli(['report', '--base', 'main', '--head', 'within'])
    expect(md.stdout).toContain('#### vision · ⚪ inconclusive')
    expect(md.stdout).toContain('Not judged, no runs in this PR: speech')
    expect(md.stdout).not.toContain('| wer')
  })

  it('clearly worse: worse, exit 1, naming the metric and by how much', async () => {
    const r = await cli(['report', '--base', 'main', '--head', 'worse', '--fail-on-regression'])
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toContain('🔴 **Worse than main**: val\\_acc 0.8 → 0.7 (−12.5%) 🔴')
    expect(r.stderr).toMatch(/regression: vision val_acc 0\.8 ± 0\.00\d+ \(n=5\) -> 0\.7 ± 0\.00\d+ \(n=5\): -0\.1, 95% CI -0\.10\d* … -0\.09\d*, 12\.50% worse/)
    expect(r.stderr).not.toContain('memory')
  })
})

describe('every face names the same best run', () => {
  const BEST = 'B-seed1' // 0.812: the best FINISHED val_acc; "diverged" (0.99, FAILED) never wins

  it('ls stars it (once), and never the FAILED run', async () => {
    const r = await cli(['ls', '-e', 'vision', '--columns', 'run_name,status,metrics.val_acc'])
    const starred = r.stdout.split('\n').filter((l) => l.includes('★'))
    expect(starred).toHaveLength(1)
    expect(starred[0]).toContain(BEST)
    expect(r.stdout.split('\n').find((l) => l.includes('diverged'))).not.toContain('★')
  })

  it('ls --group-by config aggregates the seeds: mean ± std, n, best', async () => {
    const r = await cli(['ls', '-e', 'vision', '--group-by', 'config', '--json'])
    const groups = JSON.parse(r.stdout) as Array<{ key: Record<string, string>; runs: string[]; finished: number; metrics: Record<string, { n: number; mean: number }>; best: { name: string } | null }>
    const b = groups.find((x) => x.key.lr === '0.2')!
    expect(b).toMatchObject({ finished: 5, best: { name: BEST }, commit: commits.within }) // one configuration on one code commit
    expect(b.metrics.val_acc!.mean).toBeCloseTo(B.reduce((x, y) => x + y) / 5, 12)
    expect(groups.find((x) => x.key.lr === '0.5')).toMatchObject({ finished: 0, best: null })
    const table = await cli(['ls', '-e', 'vision', '--group-by', 'params.lr'])
    expect(table.stdout).toMatch(/params\.lr=0\.2\s+5\s+0\.8014 ± 0\.00\d+.*★ B-seed1/)
    expect(table.stdout).toMatch(/params\.lr=0\.5\s+0\/1/)
  })

  it('compare marks it, not the FAILED run', async () => {
    const r = await cli(['compare', 'diverged', BEST, 'A-seed1', '--json'])
    const c = JSON.parse(r.stdout)
    const acc = c.metrics.find((m: { key: string }) => m.key === 'val_acc')
    expect(acc.best.map((i: number) => c.runs[i].name)).toEqual([BEST])
  })

  it('the site (Chromium) shows it as the best run and never the FAILED run', async () => {
    const c = captureIO(repo.dir)
    const out = `${repo.dir}-site`
    const res = await main(['site', 'build', '--out', out, '--json'], c.io)
    expect(res.exitCode, c.stderr()).toBe(0)
    const built = JSON.parse(c.stdout()) as SiteBuildResult
    let srv: PreviewServer | undefined
    let browser: Browser | undefined
    try {
      srv = await previewSite({ dir: built.out, base: '/', port: 0 })
      browser = await launchChromium()
      const page = await browser.newPage()
      await page.goto(srv.url, { waitUntil: 'networkidle' })
      const text = await page.locator('section.card').filter({ hasText: 'vision' }).first().innerText({ timeout: 60_000 }).catch(async (e) => {
        throw new Error(`${(e as Error).message}\n${(await page.content()).slice(0, 3000)}`)
      })
      expect(text).toContain(BEST)
      expect(text).not.toContain('diverged')
      expect(text).toContain('0.812')
    } finally {
      await browser?.close()
      await srv?.close()
      rmSync(out, { recursive: true, force: true })
    }
  }, 300_000)

  it("leaves the user's worktree, index, HEAD and branches untouched", () => {
    expect(repo.userState()).toBe(before)
  })
})

describe('labbook run --repeat', () => {
  it('runs N children of one parent with seeds 0..N-1 ($LABBOOK_SEED and -p seed=i): one group', async () => {
    const script = "require('fs').appendFileSync(process.env.LABBOOK_METRICS, JSON.stringify({ acc: 0.5 + Number(process.env.LABBOOK_SEED) / 100 }) + '\\n')"
    const r = await cli(['run', '--repeat', '3', '-e', 'rep', '-n', 'sweep', '-p', 'lr=0.1', '--system-interval', '0', '--no-mlflow', '--', process.execPath, '-e', script])
    expect(r.exitCode, r.stderr).toBe(0)
    const ls = JSON.parse((await cli(['ls', '-e', 'rep', '--json'])).stdout) as Array<{ id: string; name: string; parent: string | null; params: Record<string, unknown>; metrics: Record<string, number>; status: string }>
    const parent = ls.find((x) => x.name === 'sweep')!
    expect(parent).toMatchObject({ parent: null, status: 'FINISHED', params: { lr: 0.1 } })
    const kids = ls.filter((x) => x.parent === parent.id).sort((a, b) => a.name.localeCompare(b.name))
    expect(kids.map((k) => [k.name, k.params.seed, k.metrics.acc])).toEqual([['sweep-seed0', 0, 0.5], ['sweep-seed1', 1, 0.51], ['sweep-seed2', 2, 0.52]])
    const groups = JSON.parse((await cli(['ls', '-e', 'rep', '--group-by', 'config', '--json'])).stdout)
    expect(groups).toHaveLength(1) // the parent summarises, the children are the group
    expect(groups[0]).toMatchObject({ key: { lr: '0.1' }, finished: 3, best: { name: 'sweep-seed2' } })
    // `show` on the parent stars the same best child, once
    const shown = (await cli(['show', 'sweep'])).stdout.split('\n').filter((l) => l.includes('★'))
    expect(shown).toHaveLength(1)
    expect(shown[0]).toContain('★ sweep-seed2')
  }, 120_000)
})
