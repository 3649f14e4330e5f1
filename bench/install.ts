/**
 * The light install: `npm install labbook` without the site stack, against the same tarball installed with it
 * (what every install pulled before the site stack became an optional peer dependency), and the CLI's cold start
 * against `node -e 0` measured in the same run.
 *   npx tsx bench/install.ts [REPEATS]   (default 20 timed starts of each command; needs dist/: npm run build)
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { installedPackages } from './install-size.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const repeats = Number(process.argv[2] ?? 20)
const env = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' }
const sh = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env })
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`

const work = mkdtempSync(join(tmpdir(), 'labbook-install-bench-'))
try {
  const tgz = join(work, sh('npm', ['pack', '--silent', '--pack-destination', work], root).trim().split('\n').pop()!)
  const peers = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> }).peerDependencies
  const project = (name: string, extra: string[]) => {
    const dir = join(work, name)
    execFileSync('mkdir', ['-p', dir])
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `bench-${name}`, private: true, type: 'module' }))
    const t0 = performance.now()
    sh('npm', ['install', '--prefer-offline', '--no-save', tgz, ...extra], dir)
    return { dir, ms: performance.now() - t0, ...installedPackages(join(dir, 'node_modules')) }
  }
  const light = project('light', [])
  const full = project('full', Object.entries(peers).map(([n, v]) => `${n}@${v}`))
  console.log(`packages   light ${light.count}   with the site stack ${full.count}   (target ≤ 30)`)
  console.log(`disk       light ${mb(light.bytes)}   with the site stack ${mb(full.bytes)}   ratio ${(full.bytes / light.bytes).toFixed(1)}x   (target ≤ 25 MB)`)
  console.log(`npm install (cache warm) light ${(light.ms / 1000).toFixed(1)} s   with the site stack ${(full.ms / 1000).toFixed(1)} s`)

  // Cold start, interleaved so load changes hit every command alike; the median of each.
  const repo = join(work, 'light')
  sh('git', ['init', '-q', '-b', 'main'], repo)
  sh('git', ['-c', 'user.name=b', '-c', 'user.email=b@example.com', 'commit', '-q', '--allow-empty', '-m', 'init'], repo)
  const bin = join(repo, 'node_modules', 'labbook', 'dist', 'bundle', 'labbook.js') // package.json bin
  sh(process.execPath, [bin, 'init'], repo)
  const commands: Record<string, string[]> = {
    'node -e 0': ['-e', '0'],
    'labbook --version': [bin, '--version'],
    'labbook run -- true': [bin, 'run', '--', 'true'],
  }
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]))
  for (let i = 0; i < repeats; i++) {
    for (const [name, args] of Object.entries(commands)) {
      const t0 = performance.now()
      const r = spawnSync(process.execPath, args, { cwd: repo, stdio: 'ignore', env })
      if (r.status !== 0) throw new Error(`${name} exited ${r.status}`)
      times[name]!.push(performance.now() - t0)
    }
  }
  const median = (a: number[]) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)]!
  const base = median(times['node -e 0']!)
  for (const [name, t] of Object.entries(times)) {
    const m = median(t)
    console.log(`cold start ${name.padEnd(20)} ${m.toFixed(0).padStart(5)} ms   ${(m / base).toFixed(1)}x node -e 0   (median of ${repeats}; target: labbook run ≤ 6x, 0.3 s where node -e 0 is 0.05 s)`)
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
