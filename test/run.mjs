// Runs the whole suite with vitest and ends with a plain "N passed, N failed, N skipped" line that CI can read.
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'

// `npm run build`: tsc (dist/src, dist/cli), then the bundled bin (dist/bundle) the CLI tests run, as users do
const build = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' })
if (build.status !== 0) {
  console.log('0 passed, 1 failed')
  process.exit(1)
}
// Tests, benches and examples are type-checked too (tsconfig.test.json): a test that no longer compiles is a defect.
const check = spawnSync('npx', ['tsc', '-p', 'tsconfig.test.json'], { stdio: 'inherit' })
if (check.status !== 0) {
  console.log('0 passed, 1 failed')
  process.exit(1)
}
// The site's own TypeScript (islands, site/src/lib) against the library it imports as labbook-lib. `.astro` files are not
// covered: `astro check` would need Astro's language server (~40 s more); the pages' data type is checked where it is made.
const site = spawnSync('npx', ['tsc', '-p', 'site/tsconfig.json', '--noEmit'], { stdio: 'inherit' })
if (site.status !== 0) {
  console.log('0 passed, 1 failed')
  process.exit(1)
}
// The linter (Biome, biome.jsonc: unused code, floating promises, `any` in the API layers…): seconds.
const lint = spawnSync(process.execPath, ['node_modules/@biomejs/biome/bin/biome', 'lint', '--error-on-warnings'], { stdio: 'inherit' })
if (lint.status !== 0) {
  console.log('0 passed, 1 failed')
  process.exit(1)
}
const out = '.test-results.json'
rmSync(out, { force: true })
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)]
const r = spawnSync('npx', args, { stdio: 'inherit' })
let passed = 0, failed = 0, skipped = 0
try {
  const res = JSON.parse(readFileSync(out, 'utf8'))
  passed = res.numPassedTests
  failed = res.numFailedTests + (res.numRuntimeErrorTestSuites ?? 0)
  skipped = (res.numPendingTests ?? 0) + (res.numTodoTests ?? 0)
  if (r.status !== 0 && failed === 0) failed = 1
} catch {
  failed = Math.max(1, failed)
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(r.status === 0 && failed === 0 ? 0 : 1)
