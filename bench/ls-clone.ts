// Fresh-clone listing (issue 17, the CI case): `labbook ls --filter … --order-by … --limit 50 --json` in a fresh
// `git clone` of a branch, as separate processes of the built CLI (the bundled bin users run, dist/bundle/labbook.js),
// each measured with its peak RSS:
//   cold      no .git/labbook (a fresh clone): reads the branch, builds and saves the listing table
//   warm      the listing table saved by the cold run (.git/labbook/listing/<runs tree>.bin)
//   previous  the same command the way before the listing table ($LABBOOK_LISTING=full: every run materialised)
//   unbundled cold, run by tsc's module graph (dist/cli/main.js: the bin before the bundle)
//   startup   `labbook --version`: node start + CLI module load, the floor under every command (bundled / unbundled)
//   floors    `node -e 0` (node start alone) and `git rev-parse labbook` (one git process), same clone
// Each is the median of --repeat runs (cold: .git/labbook removed before each). MLflow's recorded figure is printed
// beside: search_runs over 1,000 runs in its file store took 1.29 s on this kind of machine (docs/benchmarks.md).
// bench/scale.ts calls coldList on the repository it grew; alone this script generates one with bench/generate.ts:
//   npm run build && nice -n 10 npx tsx bench/ls-clone.ts --runs 10000 [--repeat 5] [--keep DIR]
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const MLFLOW_SEARCH_1K_S = 1.29 // search_runs over 1,000 runs, MLflow 2.12.2 file store, recorded on this kind of machine
const CLI = fileURLToPath(new URL('../dist/bundle/labbook.js', import.meta.url))
const UNBUNDLED = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))

export interface LsFigure { s: number; cpu: number; rssMb: number; listed: number }
export interface ColdList { cold: LsFigure; warm: LsFigure; previous: LsFigure; unbundled: LsFigure; startup: LsFigure; startupUnbundled: LsFigure; node: LsFigure; git: LsFigure; listingMb: number; clone: string }

/** One CLI process in `cwd`: wall seconds, CPU seconds (user+sys, children included), peak RSS, rows printed. */
function cli(cwd: string, args: string[], env: Record<string, string> = {}, bin = CLI): LsFigure {
  return timed(cwd, [process.execPath, bin, ...args], env)
}

/** One process (`argv`) in `cwd`, measured as cli() says. */
function timed(cwd: string, argv: string[], env: Record<string, string> = {}): LsFigure {
  const t0 = performance.now()
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', ...argv], { cwd, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ...env } })
  const s = (performance.now() - t0) / 1000
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`)
  const [rss, user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number)
  let listed = 0
  try { listed = (JSON.parse(r.stdout) as unknown[]).length } catch { /* --version */ }
  return { s, cpu: user! + sys!, rssMb: rss! / 1024, listed }
}

const median = (xs: LsFigure[]): LsFigure => {
  const by = (k: keyof LsFigure) => xs.map((x) => x[k]).sort((a, b) => a - b)[xs.length >> 1]!
  return { s: by('s'), cpu: by('cpu'), rssMb: Math.max(...xs.map((x) => x.rssMb)), listed: xs[0]!.listed }
}

/**
 * Clones `repo` fresh (no .git/labbook) and times `ls` with `lsArgs` cold, warm and the previous way, `repeat` times
 * each, interleaved so a noisy machine hits all three alike. The clone is removed unless `keep`.
 */
export function coldList(repo: string, lsArgs: string[], o: { repeat?: number; keep?: boolean } = {}): ColdList {
  const repeat = o.repeat ?? 3
  const clone = fs.mkdtempSync(join(os.tmpdir(), 'labbook-ls-clone-'))
  try {
    execFileSync('git', ['clone', '-q', '--no-checkout', repo, clone])
    execFileSync('git', ['fetch', '-q', 'origin', 'labbook:labbook'], { cwd: clone })
    const args = ['ls', ...lsArgs, '--json']
    const private_ = join(clone, '.git', 'labbook')
    const runs: Record<'cold' | 'warm' | 'previous' | 'unbundled' | 'startup' | 'startupUnbundled' | 'node' | 'git', LsFigure[]> = { cold: [], warm: [], previous: [], unbundled: [], startup: [], startupUnbundled: [], node: [], git: [] }
    let listingMb = 0
    for (let i = 0; i < repeat; i++) {
      fs.rmSync(private_, { recursive: true, force: true })
      runs.cold.push(cli(clone, args))
      const dir = join(private_, 'listing')
      listingMb = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(join(dir, f)).size, 0) / 1e6
      runs.warm.push(cli(clone, args))
      fs.rmSync(private_, { recursive: true, force: true })
      runs.previous.push(cli(clone, args, { LABBOOK_LISTING: 'full' }))
      fs.rmSync(private_, { recursive: true, force: true })
      runs.unbundled.push(cli(clone, args, {}, UNBUNDLED))
      runs.startup.push(cli(clone, ['--version']))
      runs.startupUnbundled.push(cli(clone, ['--version'], {}, UNBUNDLED))
      runs.node.push(timed(clone, [process.execPath, '-e', '0']))
      runs.git.push(timed(clone, ['git', 'rev-parse', 'labbook']))
    }
    const out = { cold: median(runs.cold), warm: median(runs.warm), previous: median(runs.previous), unbundled: median(runs.unbundled), startup: median(runs.startup), startupUnbundled: median(runs.startupUnbundled), node: median(runs.node), git: median(runs.git), listingMb, clone }
    if (out.cold.listed !== out.previous.listed || out.warm.listed !== out.previous.listed || out.unbundled.listed !== out.previous.listed) throw new Error(`listed ${out.cold.listed} / ${out.warm.listed} rows, the previous way ${out.previous.listed}`)
    return out
  } finally {
    if (!o.keep) fs.rmSync(clone, { recursive: true, force: true })
  }
}

/** The lines scale.ts and this script print for one coldList. */
export function reportColdList(report: (what: string, value: string, target: string) => void, runs: number, l: ColdList): void {
  const target = runs >= 100_000 ? '≤ 2 s cold, ≤ 1 s warm' : '≤ 0.5 s'
  const n = runs.toLocaleString('en')
  report(`fresh clone, ls --filter … --limit 50 at ${n} runs (cold / warm)`, `${l.cold.s.toFixed(2)} / ${l.warm.s.toFixed(2)} s`, target)
  report(`  the previous way (every run materialised), same clone`, `${l.previous.s.toFixed(2)} s`, `(cold ${(l.previous.s / l.cold.s).toFixed(2)}×, warm ${(l.previous.s / l.warm.s).toFixed(2)}× faster)`)
  report(`  CPU (user+sys, git included): cold / warm / previous`, `${l.cold.cpu.toFixed(2)} / ${l.warm.cpu.toFixed(2)} / ${l.previous.cpu.toFixed(2)} s`, '-')
  report(`  cold unbundled (tsc's dist/cli/main.js), same clone: wall / CPU`, `${l.unbundled.s.toFixed(2)} / ${l.unbundled.cpu.toFixed(2)} s`, `(bundle ${(l.unbundled.s / l.cold.s).toFixed(2)}× faster)`)
  report(`  floors, same clone: node -e 0 / git rev-parse / labbook --version`, `${l.node.s.toFixed(2)} / ${l.git.s.toFixed(2)} / ${l.startup.s.toFixed(2)} s`, '-')
  report(`  labbook --version CPU: bundled / unbundled / node -e 0`, `${l.startup.cpu.toFixed(2)} / ${l.startupUnbundled.cpu.toFixed(2)} / ${l.node.cpu.toFixed(2)} s`, '-')
  report(`  cold / warm over node -e 0 (the floor of any node CLI)`, `${(l.cold.s / l.node.s).toFixed(1)}× / ${(l.warm.s / l.node.s).toFixed(1)}×`, '-')
  report(`  peak RSS cold / warm / previous; rows listed`, `${Math.round(l.cold.rssMb)} / ${Math.round(l.warm.rssMb)} / ${Math.round(l.previous.rssMb)} MB; ${l.cold.listed}`, runs >= 100_000 ? '< 500 MB' : '-')
  report(`  listing table under .git/labbook/listing`, `${l.listingMb.toFixed(1)} MB`, '-')
  const perRunOurs = l.cold.s / runs, perRunMlflow = MLFLOW_SEARCH_1K_S / 1000
  report(`  vs MLflow file store search_runs (1.29 s / 1,000 runs, recorded)`, `${(perRunMlflow / perRunOurs).toFixed(1)}× per run`, '≥ 25× per run')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined }
  const runs = Number(arg('runs') ?? 10_000)
  const repeat = Number(arg('repeat') ?? 3)
  const keep = arg('keep')
  const { generateRuns } = await import('./generate.js')
  const dir = keep ?? fs.mkdtempSync(join(os.tmpdir(), 'labbook-ls-bench-'))
  try {
    if (!fs.existsSync(join(dir, '.git'))) {
      const t0 = performance.now()
      // the shape of a sweep: 10 params, 5 metrics, a few points each; packed, as a clone's objects are
      // big batches (20 commits for any size): each commit rewrites the summary files of the shards it touches
      await generateRuns(dir, runs, { params: 10, metrics: 5, points: 3, batch: Math.max(1000, Math.ceil(runs / 20)) })
      // no delta search: `git gc` of 100,000 generated runs took 53 min at load ~15 (the listing reads whole blobs)
      execFileSync('git', ['-c', 'pack.window=0', 'gc', '-q'], { cwd: dir })
      console.log(`generated ${runs.toLocaleString('en')} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s (${dir})`)
    }
    const report = (what: string, value: string, target: string) => console.log(`${what.padEnd(64)} ${value.padStart(20)}   target ${target}`)
    const l = coldList(dir, ['--filter', 'metrics.accuracy > 0.5 and params.param_1 = "choice-2"', '--order-by', 'metrics.accuracy DESC', '--limit', '50'], { repeat })
    reportColdList(report, runs, l)
  } finally {
    if (!keep) fs.rmSync(dir, { recursive: true, force: true })
  }
}
