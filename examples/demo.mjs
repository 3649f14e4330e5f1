// `npm run demo`: builds labbook if needed, makes a scratch git repository in demo/ (ignored by git), records an
// iris random-forest sweep into it through the TypeScript API and through `labbook run --`, then lists the runs; then a
// seed sweep (`labbook run --repeat 3`) of two configurations, one on a branch, grouped (`ls --group-by config`) and
// judged (`labbook report`: mean ± 95% CI, a verdict that knows about noise); then builds the site.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const demo = join(root, 'demo')
const cli = join(root, 'dist', 'cli', 'main.js')
const tsx = join(root, 'node_modules', '.bin', 'tsx')

function step(title) {
  console.log(`\n\x1b[1m== ${title}\x1b[0m`)
}
function sh(cmd, args, o = {}) {
  console.log(`$ ${[cmd, ...args].map((a) => (/[\s"'$]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`)
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: demo, ...o })
  if (r.status !== 0 && !o.allowFail) {
    console.error(`demo: ${cmd} failed (${r.status ?? r.signal})`)
    process.exit(1)
  }
  return r
}
const labbook = (args, o) => sh(process.execPath, [cli, ...args], o)
function newest(dir) {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

step('Build labbook (only when dist/ is older than the sources)')
if (!existsSync(cli) || statSync(cli).mtimeMs < Math.max(newest(join(root, 'src')), newest(join(root, 'cli')))) {
  sh('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root })
} else console.log('dist/ is up to date')

step('A scratch git repository in demo/ (ignored by the labbook repo)')
rmSync(demo, { recursive: true, force: true })
mkdirSync(demo)
writeFileSync(join(demo, 'README.md'), '# iris demo\n\nRandom forests on iris, tracked with labbook.\n')
writeFileSync(join(demo, 'params.yaml'), '# DVC-style params: `labbook run --params-file` logs the leaves (nested keys become dotted: a.b)\nn_estimators: 30\nmax_depth: 3\n')
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'labbook demo', GIT_AUTHOR_EMAIL: 'demo@example.com', GIT_COMMITTER_NAME: 'labbook demo', GIT_COMMITTER_EMAIL: 'demo@example.com' }
sh('git', ['init', '-q', '-b', 'main'], { env: gitEnv })
sh('git', ['add', 'README.md', 'params.yaml'], { env: gitEnv })
sh('git', ['commit', '-q', '-m', 'iris demo'], { env: gitEnv })
labbook(['init'])

step('Sweep n_estimators x max_depth through the TypeScript API (examples/iris.ts)')
sh(tsx, [join(root, 'examples', 'iris.ts'), '--repo', demo])

step('One more sweep point through `labbook run --` (params from params.yaml, metrics via $LABBOOK_METRICS)')
labbook(['run', '-e', 'iris', '-n', 'rf-n30-d3-wrapped', '--params-file', 'params.yaml', '-t', 'model=random-forest', '--',
  tsx, join(root, 'examples', 'iris.ts'), '--single', 'params.yaml'])

step('The runs, newest first; then the best ones; then two compared')
labbook(['ls', '-e', 'iris'])
labbook(['ls', '-e', 'iris', '--filter', 'metrics.accuracy >= 0.9', '--order-by', 'metrics.accuracy DESC', '--columns', 'run_name,params.n_estimators,params.max_depth,metrics.accuracy,tags.via', '--limit', '5'])

labbook(['compare', 'rf-n20-d2', 'rf-n50-d2', 'rf-n30-d3-wrapped', '--diff-only'])

step('A seed sweep: 3 seeds of the main configuration, then a "pull request" that shrinks the forest, 3 seeds again')
// accuracy is what decides (labbook.config.yaml); `labbook run --repeat 3` gives each child -p seed=i and $LABBOOK_SEED=i.
writeFileSync(join(demo, 'labbook.config.yaml'), 'primary: [accuracy]\nmetrics:\n  accuracy: maximize\n')
sh('git', ['add', 'labbook.config.yaml'], { env: gitEnv })
sh('git', ['commit', '-q', '-m', 'judge iris by accuracy'], { env: gitEnv })
const seeds = (name) => labbook(['run', '-e', 'iris-seeds', '-n', name, '--repeat', '3', '--params-file', 'params.yaml', '--system-interval', '0', '--',
  tsx, join(root, 'examples', 'iris.ts'), '--single', 'params.yaml'])
seeds('rf-n30-d3-seeds')
sh('git', ['checkout', '-q', '-b', 'smaller-forest'], { env: gitEnv })
writeFileSync(join(demo, 'params.yaml'), 'n_estimators: 5\nmax_depth: 2\n')
sh('git', ['commit', '-q', '-am', 'a smaller forest: 5 trees of depth 2'], { env: gitEnv })
seeds('rf-n5-d2-seeds')

step('The repeats grouped: one row per configuration, mean ± std over the seeds')
labbook(['ls', '-e', 'iris-seeds', '--group-by', 'config'])

step('The pull-request report: the branch\'s seeds against main\'s, mean ± 95% CI and a verdict that knows about noise')
labbook(['report', '--base', 'main'])
sh('git', ['checkout', '-q', 'main'], { env: gitEnv })

step('Build the comparison site from the branch (static files in demo/_site)')
labbook(['site', 'build', '--title', 'labbook demo'])

if (process.argv.includes('--no-serve')) {
  console.log(`\nDone. Open demo/_site with \`node dist/cli/main.js site preview --repo demo\`, or try: cd demo && node ${join('..', 'dist', 'cli', 'main.js')} show rf-n30-d3-wrapped`)
} else {
  step('Serve the site on 127.0.0.1 (Ctrl-C to stop)')
  const { previewSite } = await import(pathToFileURL(join(root, 'dist', 'src', 'site', 'preview.js')).href)
  const port = Number(process.env.PORT ?? 4321)
  const server = await previewSite({ dir: join(demo, '_site'), port }).catch(() => previewSite({ dir: join(demo, '_site'), port: 0 }))
  console.log(`\nThe demo's site: ${server.url}\nTry also: cd demo && node ${join('..', 'dist', 'cli', 'main.js')} show rf-n30-d3-wrapped`)
}
