// `labbook report` on a branch of 10,000 runs (target ≤ 2 s).
// Usage: npx tsx bench/report.ts [DIR] [--runs 10000] [--keep]
// Builds DIR (default: a temp dir) once: a code history made with `git fast-import` (main: 300 commits; a PR branch of
// 30 commits off main~50; the same 30 commits before a rebase, on pr-old), generateRuns' synthetic runs (fake commits),
// and 2,000 runs on real commits: 1,400 on main, 400 on the PR, 150 on pre-rebase commits (found by patch-id) and
// 50 with a commit this clone lacks on branch "pr". Then times buildPrReport + Markdown: with no summary cache on disk
// (a fresh CI clone), with the cache (a fresh process on a dev machine), and again in the same process.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { encodeRun } from '../src/format/yaml.js'
import { newRunId } from '../src/model/ids.js'
import { RUN_FILE, runDir } from '../src/model/layout.js'
import { addToSummary } from '../src/model/metric.js'
import type { RunSummary } from '../src/model/run.js'
import { Labbook } from '../src/index.js'
import { renderPrReportMarkdown } from '../src/report/pr-markdown.js'
import { buildPrReport } from '../src/report/pr-report.js'
import { patchIds } from '../src/report/pr-git.js'
import { BranchStore } from '../src/store/branch-store.js'
import { locateRepo } from '../src/store/gitdir.js'
import type { TreeChange } from '../src/store/tree-edit.js'
import { generateRuns } from './generate.js'

const args = process.argv.slice(2)
const flag = (name: string) => { const i = args.indexOf(name); return i < 0 ? undefined : args.splice(i, 2)[1] }
const keep = args.includes('--keep') ? (args.splice(args.indexOf('--keep'), 1), true) : false
const total = Number(flag('--runs') ?? 10_000)
const REAL = Math.min(2000, Math.floor(total / 5))
const dir = args[0] ?? fs.mkdtempSync(join(os.tmpdir(), 'labbook-bench-report-'))
const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 28 })

function makeHistory(): void {
  let s = ''
  let mark = 0
  const commit = (ref: string, msg: string, file: string, content: string, from?: number) => {
    mark++
    s += `commit ${ref}\nmark :${mark}\ncommitter Bench <b@x> ${1_700_000_000 + mark} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}\n`
    if (from) s += `from :${from}\n`
    s += `M 100644 inline ${file}\ndata ${Buffer.byteLength(content)}\n${content}\n\n`
    return mark
  }
  const main: number[] = []
  for (let i = 0; i < 300; i++) main.push(commit('refs/heads/main', `main ${i}`, 'train.py', `v${i}\n`))
  // The PR before the rebase (off main~100), then the same changes rebased onto main~50.
  for (let i = 0; i < 30; i++) commit('refs/heads/pr-old', `pr ${i}`, 'model.py', `m${i}\n`, i === 0 ? main[199] : undefined)
  for (let i = 0; i < 30; i++) commit('refs/heads/pr', `pr ${i}`, 'model.py', `m${i}\n`, i === 0 ? main[249] : undefined)
  execFileSync('git', ['fast-import', '--quiet', '--force'], { cwd: dir, input: s })
}

async function addRealRuns(): Promise<void> {
  const mainCommits = git('rev-list', '--first-parent', 'main~50').trim().split('\n')
  const prCommits = git('rev-list', '--reverse', 'main~50..pr').trim().split('\n')
  const oldCommits = git('rev-list', '--reverse', 'main~100..pr-old').trim().split('\n')
  const pids = await patchIds(dir, oldCommits)
  const store = new BranchStore(locateRepo(dir).gitdir, 'labbook')
  const changes: TreeChange[] = []
  const t0 = Date.now() - REAL * 60_000
  for (let i = 0; i < REAL; i++) {
    const kind = i < REAL * 0.7 ? 'main' : i < REAL * 0.9 ? 'pr' : i < REAL * 0.975 ? 'old' : 'lost'
    const commit = kind === 'main' ? mainCommits[i % mainCommits.length]! : kind === 'pr' ? prCommits[i % prCommits.length]! : kind === 'old' ? oldCommits[i % oldCommits.length]! : 'e'.repeat(40)
    const startTime = t0 + i * 60_000
    const run: RunSummary = {
      id: newRunId(startTime), name: `${kind}-${i}`, experiment: '1', status: i % 17 === 0 ? 'FAILED' : 'FINISHED', lifecycle: 'active',
      startTime, endTime: startTime + 30_000, user: 'bench', source: { commit, branch: kind === 'main' ? 'main' : 'pr', ...(kind === 'old' ? { patchId: pids.get(commit) } : {}) },
      params: { lr: [0.1, 0.01, 0.001][i % 3]!, layers: 2 + (i % 5), optimizer: i % 2 ? 'adam' : 'sgd' }, tags: {}, metrics: {},
    }
    const q = Math.sin(i) * 0.05
    run.metrics.accuracy = addToSummary(undefined, 0.8 + q + (kind === 'main' ? 0 : 0.01), 10, startTime + 1000)
    run.metrics.loss = addToSummary(undefined, 0.3 - q, 10, startTime + 1000)
    changes.push({ path: `${runDir(run.id)}/${RUN_FILE}`, blob: store.objects.writeBlob(encodeRun(run)) })
  }
  await store.update(async () => ({ changes, subject: `bench: ${REAL} runs on real commits`, result: undefined }))
}

async function time(label: string, book: Labbook): Promise<{ label: string; ms: number; runs: number; bytes: number }> {
  const t = performance.now()
  const report = await buildPrReport(book, { base: 'main', head: 'pr', siteUrl: 'https://example.org/lab' })
  const md = renderPrReportMarkdown(report)
  return { label, ms: Math.round(performance.now() - t), runs: report.runs.length, bytes: Buffer.byteLength(md) }
}

const built = fs.existsSync(join(dir, '.git', 'refs', 'heads', 'pr')) || fs.existsSync(join(dir, '.git', 'packed-refs'))
if (!built) {
  const t = Date.now()
  fs.mkdirSync(dir, { recursive: true })
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir })
  makeHistory()
  await generateRuns(dir, total - REAL, { params: 20, metrics: 10, points: 1 })
  await addRealRuns()
  console.error(`built ${dir}: ${total} runs in ${((Date.now() - t) / 1000).toFixed(1)} s`)
  // Measure in a fresh process: this one may still have a background pack of the new objects running.
  execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, dir], { stdio: 'inherit' })
  if (!keep) fs.rmSync(dir, { recursive: true, force: true })
} else {
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const cold: number[] = [], warm: number[] = [], hot: number[] = []
  let last = { runs: 0, bytes: 0 }
  for (let i = 0; i < 3; i++) {
    fs.rmSync(join(dir, '.git', 'labbook', 'index'), { recursive: true, force: true })
    let book = await Labbook.open({ repo: dir, recover: false })
    cold.push((last = await time('cold', book)).ms)
    await book.close()
    book = await Labbook.open({ repo: dir, recover: false })
    warm.push((await time('warm', book)).ms)
    hot.push((await time('hot', book)).ms)
    await book.close()
  }
  const book = await Labbook.open({ repo: dir, recover: false })
  const runs = (await book.listRuns({ includeDeleted: true })).length
  await book.close()
  console.log(JSON.stringify({
    dir, runsOnBranch: runs, prRuns: last.runs, markdownBytes: last.bytes, target: '≤ 2000 ms',
    'no summary cache (fresh CI clone), median ms': median(cold),
    'summary cache on disk (new process), median ms': median(warm),
    'same process again, median ms': median(hot),
  }, null, 1))
}
