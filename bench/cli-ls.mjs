// Wall time of `labbook ls` on N generated runs (20 params, 10 metrics each), Node start-up included.
// Usage: node bench/cli-ls.mjs [runs=10000]   (needs `npm run build`; generates the runs with bench/generate.ts)
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const N = Number(process.argv[2] ?? 10_000)
const root = fileURLToPath(new URL('..', import.meta.url))
const cli = join(root, 'dist', 'bundle', 'labbook.js') // the bin users run
const dir = mkdtempSync(join(tmpdir(), 'labbook-ls-'))
try {
  const gen = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'bench', 'generate.ts'), dir, String(N)], { encoding: 'utf8' })
  if (gen.status !== 0) throw new Error(gen.stderr)
  process.stdout.write(gen.stdout)
  const time = (args) => {
    const t = performance.now()
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30 })
    const ms = performance.now() - t
    if (r.status !== 0) throw new Error(`labbook ${args.join(' ')} failed: ${r.stderr}`)
    return { ms, out: r.stdout }
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const cases = [
    ['ls', []],
    ['ls --json', ['--json']],
    ['ls --filter … --order-by … --limit 50', ['--filter', "metrics.accuracy > 0.5 and params.param_1 = 'choice-2'", '--order-by', 'metrics.loss ASC', '--limit', '50']],
    ['ls --limit 20', ['--limit', '20']],
  ]
  // The first call builds the summary index under .git/labbook/ (cold); the rest read it (warm).
  const cold = time(['ls'])
  const lines = cold.out.trim().split('\n').length - 1
  console.log(`labbook ls, ${N} runs, cold (no summary index yet): ${(cold.ms / 1000).toFixed(2)} s, ${lines} rows`)
  for (const [label, extra] of cases) {
    const ms = median([0, 1, 2].map(() => time(['ls', ...extra]).ms))
    console.log(`labbook ${label}, ${N} runs, warm: ${(ms / 1000).toFixed(2)} s (median of 3; target <= 1 s incl. node start-up)`)
  }
  const t = performance.now()
  spawnSync(process.execPath, [cli, '--version'])
  console.log(`node start-up + labbook --version: ${((performance.now() - t) / 1000).toFixed(2)} s`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
