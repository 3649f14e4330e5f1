// `npm run bench`: every benchmark in turn, each printing its figures (see docs/benchmarks.md for the last ones).
// Pass names to run some: `npm run bench -- core query`.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const tsx = ['--import', 'tsx']
const BENCHES = {
  core: [...tsx, 'bench/core.ts'],
  query: ['--expose-gc', ...tsx, 'bench/query.ts'],
  'cli-ls': ['bench/cli-ls.mjs'],
  'cli-ingest': ['bench/cli-ingest.mjs'],
  sync: [...tsx, 'bench/sync.ts'],
  report: [...tsx, 'bench/report.ts'],
  server: [...tsx, 'bench/server-logbatch.mjs'],
  'server-2000': [...tsx, 'bench/server-logbatch.mjs', '--rate', '2000'],
  site: ['bench/site.mjs', '--runs', '100,1000'],
  'site-incremental': ['bench/site-incremental.mjs', '--runs', '1000'],
  'packed-read': [...tsx, 'bench/packed-read.ts'],
  lfs: [...tsx, 'bench/lfs.ts'],
  'journal-rotate': [...tsx, 'bench/journal-rotate.ts'],
}

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(BENCHES)
const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' })
if (build.status !== 0) process.exit(1)
let failed = 0
for (const name of wanted) {
  const args = BENCHES[name]
  if (!args) {
    console.error(`unknown bench ${name}; known: ${Object.keys(BENCHES).join(', ')}`)
    process.exit(2)
  }
  console.log(`\n== ${name}: node ${args.join(' ')}`)
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) failed++
}
process.exit(failed ? 1 : 0)
