// What src/judge (groups of repeats, statistics, verdicts) adds to `labbook ls` and `labbook report` on 10,000 runs
// (target: ≤ 10%), measured in the same run against the ungrouped command.
// Usage: npx tsx bench/judge.ts [--runs 10000] [--rounds 7] [--repeats 5] [--repo DIR]
// Builds a temp repository with generateRuns (5 experiments, 5 params, 4 metrics; each configuration repeated --repeats
// times with a `seed` param on one code commit, as `labbook run --repeat` records them: 10,000 runs → 2,000 groups;
// --repeats 1 gives nearly one group per run, the worst case for per-group work), then, in this process with the
// summary cache warm, --rounds (default 7) rounds, the two commands of each pair alternating (A B B A …, so load
// swings on a shared machine hit both alike), wall time and this process's CPU time; the figure is the median over
// rounds of the ratio B/A within a round:
//  - `ls --json` vs `ls --group-by config --json` (every run listed; the grouped one also groups and summarises);
//  - buildPrReport (every third run is the PR's, found by branch) plus the judgement of ALL runs (half as base, half as
//    PR, per experiment) the ungrouped way (best run per side, difference of values) vs src/judge's way
//    (judgePrExperiment: groups, mean ± CI, Welch verdicts): what grouping and verdicts add to a report of 10,000 runs.
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { main } from '../cli/main.js'
import { Labbook } from '../src/index.js'
import { bestRun, groupRuns, metricGoal, primaryMetrics } from '../src/judge/index.js'
import { judgePrExperiment } from '../src/report/pr-experiment.js'
import { buildPrReport } from '../src/report/pr-report.js'
import { generateRuns } from './generate.js'

const args = process.argv.slice(2)
const i = args.indexOf('--runs')
const N = i >= 0 ? Number(args[i + 1]) : 10_000
const j = args.indexOf('--rounds')
const ROUNDS = j >= 0 ? Number(args[j + 1]) : 7
const q = args.indexOf('--repeats')
const REPEATS = q >= 0 ? Number(args[q + 1]) : 5
// --repo DIR: generate the repository there once and reuse it on later runs (kept); else a temporary one, removed.
const d = args.indexOf('--repo')
const KEEP = d >= 0 ? args[d + 1]! : undefined
const dir = KEEP ?? fs.mkdtempSync(join(os.tmpdir(), 'labbook-bench-judge-'))

function sink(): NodeJS.WritableStream & { isTTY: boolean } {
  return Object.assign(new Writable({ write(_c, _e, cb) { cb() } }), { isTTY: false })
}
async function cli(argv: string[]): Promise<void> {
  const io = { stdout: sink(), stderr: sink(), env: { ...process.env, NO_COLOR: '1' }, cwd: dir }
  const r = await main(argv, io as never)
  if (r.exitCode !== 0) throw new Error(`labbook ${argv.join(' ')} exited ${r.exitCode}`)
}
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }
interface Timing { wall: number; cpu: number }
/** One pair's figures: medians of each command, and the median over rounds of the ratio b/a within a round (the two
 * ran back to back, so a load swing between rounds cancels out of that ratio). */
interface Pair { a: Timing; b: Timing; ratio: Timing }
const median = (xs: number[]) => { const s = [...xs].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2 }
/** `a` and `b` over ROUNDS rounds, run alternately (a b b a …): wall time and CPU time of this process. */
async function pair(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<Pair> {
  const ta: Timing[] = [], tb: Timing[] = []
  for (let k = 0; k < ROUNDS; k++) {
    for (const [fn, into] of (k % 2 ? [[b, tb], [a, ta]] : [[a, ta], [b, tb]]) as Array<[() => Promise<unknown>, Timing[]]>) {
      const t0 = performance.now(), c0 = cpuMs(); await fn(); into.push({ wall: performance.now() - t0, cpu: cpuMs() - c0 })
    }
  }
  const med = (t: Timing[]): Timing => ({ wall: median(t.map((x) => x.wall)), cpu: median(t.map((x) => x.cpu)) })
  return { a: med(ta), b: med(tb), ratio: { wall: median(ta.map((x, k) => tb[k]!.wall / x.wall)), cpu: median(ta.map((x, k) => tb[k]!.cpu / x.cpu)) } }
}

try {
  if (KEEP) fs.mkdirSync(dir, { recursive: true })
  if (!KEEP || !fs.existsSync(join(dir, '.git'))) await generateRuns(dir, N, { params: 5, metrics: 4, points: 1, batch: 2000, repeats: REPEATS })
  const book = await Labbook.open({ repo: dir, recover: false })
  const runs = await book.listRuns()
  await cli(['ls', '--json']) // warm the summary cache

  const ls = await pair(() => cli(['ls', '--json']), () => cli(['ls', '--group-by', 'config', '--json']))

  // The report as the CLI builds it (listing, git history, the PR/base split and its own judging), plus the judgement
  // of ALL 10,000 runs (half base, half PR, per experiment) done two ways: the ungrouped way (each side's best run by
  // the primary metric, and the difference of the two values: what the report did before groups) and src/judge's
  // (groups of repeats, mean ± CI, Welch verdicts: judgePrExperiment). The ratio is what grouping and verdicts add.
  const report = () => buildPrReport(book, { base: 'main', head: 'main', headBranch: 'feature' })
  const byExp = new Map<string, typeof runs>()
  for (const r of runs) { const l = byExp.get(r.experiment); if (l) l.push(r); else byExp.set(r.experiment, [r]) }
  // Both sides get the same inputs, made once outside the timed rounds: each experiment's base half, PR half, and the
  // PR half as the report hands it to judgePrExperiment ({ run } entries).
  const sides = [...byExp].map(([id, list]) => {
    const pr = list.slice(list.length >> 1)
    return { id, base: list.slice(0, list.length >> 1), pr, entries: pr.map((run) => ({ run })) }
  })
  const ungroupedAll = () => {
    for (const { base, pr } of sides) {
      const lead = primaryMetrics([...base, ...pr])[0]
      const goal = lead === undefined ? undefined : metricGoal(lead).goal
      if (lead === undefined || !goal) continue
      const b = bestRun(base, lead, goal), p = bestRun(pr, lead, goal)
      if (b && p) void (p.metrics[lead]!.value - b.metrics[lead]!.value)
    }
  }
  const judgeAll = () => {
    for (const { id, base, entries } of sides) judgePrExperiment({ experiment: { id, name: id, tags: {} }, base, pr: entries, commitOrder: new Map() })
  }
  // The judging part of each side on its own, CPU time of this process (the figure least moved by other processes).
  const judging = { a: [] as number[], b: [] as number[] }
  const timed = (fn: () => void, into: number[]) => { const c0 = cpuMs(); fn(); into.push(cpuMs() - c0) }
  const rep = await pair(async () => { await report(); timed(ungroupedAll, judging.a) }, async () => { await report(); timed(judgeAll, judging.b) })
  const groups = groupRuns(runs).length
  await book.close()

  const pct = (r: number) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`
  const row = (label: string, t: Timing, ratio?: Timing) =>
    console.log(`${label.padEnd(32)}${t.wall.toFixed(0).padStart(6)} ms wall${ratio ? ` (${pct(ratio.wall).padStart(6)})` : '         '}   ${t.cpu.toFixed(0).padStart(6)} ms CPU${ratio ? ` (${pct(ratio.cpu).padStart(6)})` : ''}`)
  console.log(`runs: ${N} (listed: ${runs.length}), repeats: ${REPEATS}, groups (config): ${groups}, ${ROUNDS} alternating rounds, load average ${os.loadavg()[0]!.toFixed(1)}`)
  console.log('medians; (…) = median over rounds of the ratio to the reference above it in the same round')
  row('ls --json', ls.a)
  row('ls --group-by config --json', ls.b, ls.ratio)
  row('report + best runs (ungrouped)', rep.a)
  row('report + groups and verdicts', rep.b, rep.ratio)
  const ja = median(judging.a), jb = median(judging.b)
  console.log(`judging alone (CPU, medians): best runs ${ja.toFixed(1)} ms, groups and verdicts ${jb.toFixed(1)} ms; the difference is ${pct(1 + (jb - ja) / rep.a.cpu)} of the ungrouped side's CPU`)
} finally {
  if (!KEEP) fs.rmSync(dir, { recursive: true, force: true })
}
