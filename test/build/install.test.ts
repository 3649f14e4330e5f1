/**
 * The installed package, as a user gets it: pack this repository and install the tarball into a fresh project.
 * 1. The light install (`npm install labbook`: the site stack is an optional peer dependency, so npm leaves it out):
 *    at most 30 packages and 25 MB; init, run, log, ls and report work; `site build` answers SITE_DEPS_MISSING with
 *    the install command.
 * 2. That command, run as printed, makes `npx labbook site build` work (twice, with node_modules/labbook read-only).
 * Needs `dist/` (npm test runs `npm run build` first) and npm's cache (filled by `npm ci`). Cold start is measured by
 * bench/install.ts, not here.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { installedPackages } from '../../bench/install-size.js'

const root = join(__dirname, '..', '..')
const dir = mkdtempSync(join(tmpdir(), 'labbook-installed-'))
afterAll(() => {
  try { execFileSync('chmod', ['-R', 'u+w', dir]) } catch { /* already gone */ }
  rmSync(dir, { recursive: true, force: true })
})
const env = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' }
const sh = (cmd: string, args: string[], cwd = dir) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env })

describe.skipIf(!existsSync(join(root, 'dist', 'bundle', 'labbook.js')))('installed package', () => {
  it('installs light (no site stack), logs, lists and reports; site build names the install command, which then works', async () => {
    const tgz = sh('npm', ['pack', '--silent', '--pack-destination', dir], root).trim().split('\n').pop()!
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }))
    sh('npm', ['install', '--prefer-offline', '--no-save', join(dir, tgz)])

    // 1. the light install
    const pkgs = installedPackages(join(dir, 'node_modules'))
    expect(pkgs.names).toContain('labbook')
    for (const heavy of ['astro', 'react', 'react-dom', '@observablehq/plot', 'vite']) expect(pkgs.names).not.toContain(heavy)
    expect(pkgs.count).toBeLessThanOrEqual(30)
    expect(pkgs.bytes).toBeLessThanOrEqual(25 * 1024 * 1024)

    const bin = join(dir, 'node_modules', '.bin', 'labbook')
    sh('git', ['init', '-q', '-b', 'main'])
    sh('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'init'])
    sh(bin, ['init'])
    sh(bin, ['run', '-e', 'light', '--name', 'r0', '-p', 'lr=0.1', '--', 'sh', '-c', `printf '{"loss": 0.5}\\n{"loss": 0.25}\\n' >> "$LABBOOK_METRICS"`])
    const [run] = JSON.parse(sh(bin, ['ls', '--json'])) as Array<{ id: string; name: string; params: Record<string, unknown>; metrics: Record<string, number> }>
    expect(run).toMatchObject({ name: 'r0', params: { lr: 0.1 }, metrics: { loss: 0.25 } })
    sh(bin, ['log', 'metric', 'acc=0.9', '--run', run!.id])
    expect(JSON.parse(sh(bin, ['ls', '--json']))[0].metrics).toEqual({ loss: 0.25, acc: 0.9 })
    const report = sh(bin, ['report', '--base', 'main', '--head', 'main', '--md'])
    expect(report).toContain('light')

    const site = spawnSync(bin, ['site', 'build'], { cwd: dir, encoding: 'utf8', env })
    expect(site.status).toBe(1)
    expect(site.stderr).toContain('SITE_DEPS_MISSING')
    const command = /`(npm install [^`]+)`/.exec(site.stderr)?.[1]
    const peers = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> }).peerDependencies
    expect(command).toBe(`npm install ${Object.entries(peers).map(([n, v]) => `${n}@${v}`).join(' ')}`)
    expect(readdirSync(dir).filter((f) => f === '_site')).toEqual([])

    // 2. the command as printed, then the site builds
    sh('sh', ['-c', `${command} --prefer-offline --no-save ${join(dir, tgz)}`])
    execFileSync('chmod', ['-R', 'a-w', join(dir, 'node_modules', 'labbook')])
    for (let i = 0; i < 2; i++) {
      const out = sh('npx', ['labbook', 'site', 'build', '--base', '/user-project/', '--json'])
      const res = JSON.parse(out) as { runs: number; experiments: number }
      expect(res.runs).toBe(1)
    }
    const html = readFileSync(join(dir, '_site', 'index.html'), 'utf8')
    expect(html).toContain('/user-project/experiments/')
    expect(existsSync(join(dir, '.astro'))).toBe(false)
    chmodSync(join(dir, 'node_modules', 'labbook'), 0o755)
  }, 900_000)
})

describe('the Pages workflow template', () => {
  it('installs the site stack at the versions package.json names', () => {
    const peers = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> }).peerDependencies
    const wf = readFileSync(join(root, 'templates', 'github', 'labbook-pages.yml'), 'utf8')
    expect(wf).toContain(`npm install --no-save labbook ${Object.entries(peers).map(([n, v]) => `${n}@${v}`).join(' ')}`)
  })
})
