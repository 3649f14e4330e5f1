// What src/judge (groups of repeats, statistics, verdicts) adds to `labbook ls` and `labbook report` on 10,000 runs
// (target: ≤ 10%), measured in the same run against the ungrouped command.
// Usage: npx tsx bench/judge.ts [--runs 10000] [--rounds 7] [--repeats 5]
// Builds a temp repository with generateRuns (5 experiments, 5 params, 4 metrics; each configuration repeated --repeats
// times with a `seed` param on one code commit, as `labbook run --repeat` records them: 10,000 runs → 2,000 groups;
// --repeats 1 gives nearly one group per run, the worst case for per-group work), then, in this process with the
// summary cache warm, medians of --rounds (default 7), the two commands of each pair alternating (A B B A …, so load
// swings on a shared machine hit both alike), wall time and this process's CPU time:
//  - `ls --json` vs `ls --group-by config --json` (every run listed; the grouped one also groups and summarises);
//  - buildPrReport (every third run is the PR's, found by branch) vs the same plus judgePrExperiment over ALL runs
//    (half as base, half as PR, per experiment): the worst case of what the report's judging costs.
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { main } from '../cli/main.js'
import { Labbook } from '../src/index.js'
import { groupRuns } from '../src/judge/index.js'
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
const dir = fs.mkdtempSync(join(os.tmpdir(), 'labbook-bench-judge-'))

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
/** Medians of `a` and `b` over ROUNDS rounds, run alternately (a b b a …): wall time and CPU time of this process. */
async function pair(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[Timing, Timing]> {
  const ta: Timing[] = [], tb: Timing[] = []
  for (let k = 0; k < ROUNDS; k++) {
    for (const [fn, into] of (k % 2 ? [[b, tb], [a, ta]] : [[a, ta], [b, tb]]) as Array<[() => Promise<unknown>, Timing[]]>) {
      const t0 = performance.now(), c0 = cpuMs(); await fn(); into.push({ wall: performance.now() - t0, cpu: cpuMs() - c0 })
    }
  }
  const med = (t: Timing[], k: keyof Timing) => t.map((x) => x[k]).sort((x, y) => x - y)[Math.floor(t.length / 2)]!
  return [{ wall: med(ta, 'wall'), cpu: med(ta, 'cpu') }, { wall: med(tb, 'wall'), cpu: med(tb, 'cpu') }]
}

try {
  await generateRuns(dir, N, { params: 5, metrics: 4, points: 1, batch: 2000, repeats: REPEATS })
  const book = await Labbook.open({ repo: dir, recover: false })
  const runs = await book.listRuns()
  await cli(['ls', '--json']) // warm the summary cache

  const [ls, lsGrouped] = await pair(() => cli(['ls', '--json']), () => cli(['ls', '--group-by', 'config', '--json']))

  const report = () => buildPrReport(book, { base: 'main', head: 'main', headBranch: 'feature' })
  // What the report's judging does, for ALL 10,000 runs (half base, half PR, per experiment): its worst case.
  const judgeAll = () => {
    const byExp = new Map<string, typeof runs>()
    for (const r of runs) { const l = byExp.get(r.experiment); if (l) l.push(r); else byExp.set(r.experiment, [r]) }
    for (const [id, list] of byExp) {
      const half = Math.floor(list.length / 2)
      judgePrExperiment({ experiment: { id, name: id, tags: {} }, base: list.slice(0, half), pr: list.slice(half).map((run) => ({ run })), commitOrder: new Map() })
    }
  }
  const [rep, repJudged] = await pair(report, async () => { await report(); judgeAll() })
  const groups = groupRuns(runs).length
  await book.close()

  const pct = (a: number, b: number) => `${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(1)}%`
  const row = (label: string, t: Timing, ref?: Timing) =>
    console.log(`${label.padEnd(32)}${t.wall.toFixed(0).padStart(6)} ms wall${ref ? ` (${pct(ref.wall, t.wall)})` : '         '}   ${t.cpu.toFixed(0).padStart(6)} ms CPU${ref ? ` (${pct(ref.cpu, t.cpu)})` : ''}`)
  console.log(`runs: ${N} (listed: ${runs.length}), repeats: ${REPEATS}, groups (config): ${groups}, medians of ${ROUNDS} alternating rounds, load average ${os.loadavg()[0]!.toFixed(1)}`)
  row('ls --json', ls)
  row('ls --group-by config --json', lsGrouped, ls)
  row('report (buildPrReport)', rep)
  row('report + judging every run', repJudged, rep)
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
