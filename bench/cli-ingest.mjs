// Points per second through $LABBOOK_METRICS: a Python child writes N lines of 1 metric each (plus a step),
// `labbook run` ingests them as they arrive; we time the whole `labbook run` process, end to end.
// Usage: node bench/cli-ingest.mjs [lines=1000000]   (needs `npm run build` first)
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const N = Number(process.argv[2] ?? 1_000_000)
const cli = fileURLToPath(new URL('../dist/bundle/labbook.js', import.meta.url)) // the bin users run
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
print("python wrote %d lines in %.2f s (%.2f s CPU); done at %.3f" % (${N}, time.time() - t, time.process_time(), time.time()))
`
  // GNU time (when present) gives the CPU of labbook plus its child; minus Python's own CPU, that is labbook's cost,
  // which unlike wall time does not depend on what else the machine is doing.
  const gnuTime = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', 'cpu %U %S'] : []
  const cmd = [...gnuTime, process.execPath, cli, 'run', '--system-interval', '0', '-n', 'ingest-bench', '--', 'python3', '-c', py]
  const t0 = performance.now()
  const r = spawnSync(cmd[0], cmd.slice(1), { cwd: dir, encoding: 'utf8' })
  const wall = (performance.now() - t0) / 1000
  const exitedAt = Date.now() / 1000
  if (r.status !== 0) throw new Error(`labbook run failed (${r.status}): ${r.stderr}`)
  process.stdout.write(r.stdout)
  const pyDone = Number(/done at ([\d.]+)/.exec(r.stdout)?.[1])
  const pyCpu = Number(/\(([\d.]+) s CPU\)/.exec(r.stdout)?.[1])
  const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(r.stderr)
  const ls = spawnSync(process.execPath, [cli, 'ls', '--json'], { cwd: dir, encoding: 'utf8' })
  const run = JSON.parse(ls.stdout)[0]
  const { Labbook } = await import('../dist/src/index.js')
  const book = await Labbook.open({ repo: dir })
  const count = (await book.getRun(run.id)).metrics.loss.count
  await book.close()
  if (count !== N) throw new Error(`expected ${N} points on the branch, found ${count}`)
  console.log(`ingested ${count} points in ${wall.toFixed(2)} s end to end (labbook run wall time incl. node start-up and the python writer): ${Math.round(count / wall).toLocaleString('en-US')} points/s (target >= 300,000)`)
  if (pyDone) console.log(`labbook finished ${(exitedAt - pyDone).toFixed(2)} s after the writer did (draining the file, final commit, exit)`)
  if (cpu && pyCpu) {
    const own = Number(cpu[1]) + Number(cpu[2]) - pyCpu
    console.log(`labbook's own CPU: ${own.toFixed(2)} s = ${Math.round(count / own).toLocaleString('en-US')} points per CPU-second (load-independent)`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
