/**
 * `npx labbook site build` from an installed package: pack this repository, install the tarball into a fresh project
 * (read-only, like a shared node_modules), log runs with the installed library, build with the installed CLI.
 * Needs `dist/` (npm test runs tsc first) and npm's cache (filled by `npm ci`).
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const root = join(__dirname, '..', '..')
const dir = mkdtempSync(join(tmpdir(), 'labbook-installed-'))
afterAll(() => {
  try { execFileSync('chmod', ['-R', 'u+w', dir]) } catch { /* already gone */ }
  rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(!existsSync(join(root, 'dist', 'cli', 'main.js')))('installed package', () => {
  it('builds the site in a user repository with the installed CLI, twice', async () => {
    const sh = (cmd: string, args: string[], cwd = dir) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } })
    const tgz = sh('npm', ['pack', '--silent', '--pack-destination', dir], root).trim().split('\n').pop()!
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }))
    sh('npm', ['install', '--prefer-offline', '--no-save', join(dir, tgz)])
    sh('git', ['init', '-q', '-b', 'main'])
    sh('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'init'])
    writeFileSync(join(dir, 'log.mjs'), `import { Labbook } from 'labbook'
const book = await Labbook.open()
const exp = await book.experiment('demo')
for (let i = 0; i < 3; i++) await exp.run({ name: 'r' + i, params: { lr: 0.1 / (i + 1) } }, async (run) => { for (let s = 0; s < 20; s++) run.logMetric('loss', 1 / (s + 1 + i), s) })
await book.close()
`)
    sh('node', ['log.mjs'])
    execFileSync('chmod', ['-R', 'a-w', join(dir, 'node_modules', 'labbook')])
    for (let i = 0; i < 2; i++) {
      const out = sh('npx', ['labbook', 'site', 'build', '--base', '/user-project/', '--json'])
      const res = JSON.parse(out) as { runs: number; experiments: number }
      expect(res).toMatchObject({ runs: 3, experiments: 1 })
    }
    const html = readFileSync(join(dir, '_site', 'index.html'), 'utf8')
    expect(html).toContain('/user-project/experiments/')
    expect(existsSync(join(dir, '.astro'))).toBe(false)
    chmodSync(join(dir, 'node_modules', 'labbook'), 0o755)
  }, 240_000)
})
