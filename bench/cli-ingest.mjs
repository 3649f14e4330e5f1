// Points per second through $LABBOOK_METRICS: a Python child writes N lines of 1 metric each (plus a step),
// `labbook run` ingests them as they arrive; we time the whole `labbook run` process, end to end.
// Usage: node bench/cli-ingest.mjs [lines=1000000]   (needs `npm run build` first)
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const N = Number(process.argv[2] ?? 1_000_000)
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'labbook-ingest-'))
const git = (...a) => spawnSync('git', a, { cwd: dir, encoding: 'utf8' })
try {
  git('init', '-q', '-b', 'main')
  git('-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-q', '--allow-empty', '-m', 'init')
  spawnSync(process.execPath, [cli, 'init'], { cwd: dir })
  const py = `
import os, time
t = time.time()
with open(os.environ["LABBOOK_METRICS"], "a") as f:
    for i in range(${N}):
        f.write(f'{{"loss": {1.0 / (i + 1)}, "step": {i}}}\\n')
print("python wrote %d lines in %.2f s" % (${N}, time.time() - t))
`
  const t0 = performance.now()
  const r = spawnSync(process.execPath, [cli, 'run', '--system-interval', '0', '-n', 'ingest-bench', '--', 'python3', '-c', py], { cwd: dir, encoding: 'utf8' })
  const wall = (performance.now() - t0) / 1000
  if (r.status !== 0) throw new Error(`labbook run failed (${r.status}): ${r.stderr}`)
  process.stdout.write(r.stdout)
  const ls = spawnSync(process.execPath, [cli, 'ls', '--json'], { cwd: dir, encoding: 'utf8' })
  const run = JSON.parse(ls.stdout)[0]
  const { Labbook } = await import('../dist/src/index.js')
  const book = await Labbook.open({ repo: dir })
  const count = (await book.getRun(run.id)).metrics.loss.count
  await book.close()
  if (count !== N) throw new Error(`expected ${N} points on the branch, found ${count}`)
  console.log(`ingested ${count} points in ${wall.toFixed(2)} s end to end (labbook run wall time incl. node start-up and the python writer): ${Math.round(count / wall).toLocaleString('en-US')} points/s (target >= 300,000)`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
