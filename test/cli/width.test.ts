// The CLI fits the terminal: golden `ls` tables at 80 and 120 columns, trees of parent/child runs, `show PARENT`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { Labbook } from '../../src/index.js'
import { displayWidth } from '../../src/report/compare.js'
import { captureIO } from '../helpers/cli.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo
const GOLDEN = join(__dirname, 'golden')
const T0 = Date.UTC(2025, 0, 15, 9, 30) // old enough that `started` prints a date, not "3d ago"

async function cli(argv: string[], o: { columns?: number; tty?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const c = captureIO(repo.dir, { NO_COLOR: '1', ...o.env }, { tty: o.tty ?? true, columns: o.columns })
  const r = await main(argv, c.io)
  return { ...r, stdout: c.stdout(), stderr: c.stderr() }
}
/** Compares with test/cli/golden/NAME (written when missing or with UPDATE_GOLDEN=1). */
function golden(name: string, text: string): void {
  const path = join(GOLDEN, name)
  if (!existsSync(path) || process.env.UPDATE_GOLDEN) writeFileSync(path, text)
  expect(text).toBe(readFileSync(path, 'utf8'))
}

beforeAll(async () => {
  repo = gitRepo()
  const book = await Labbook.open({ repo: repo.dir })
  await book.init()
  const source = { commit: '0123456789abcdef0123456789abcdef01234567', branch: 'main', dirty: false }
  let n = 0
  const run = async (exp: string, name: string, params: Record<string, number | string>, metrics: Record<string, number>, o: { parent?: string; status?: 'FINISHED' | 'FAILED' } = {}) => {
    const id = `01jx${String(n).padStart(4, '0')}aaaaaaaaaaaaaaaaaa`
    const start = T0 + n++ * 60_000
    const r = await book.startRun({ experiment: exp, id, name, params, source, startTime: start, parent: o.parent, user: 'alice' })
    r.logMetrics(metrics, { step: 0, timestamp: start + 1000 })
    await r.end(o.status ?? 'FINISHED', { endTime: start + 95_000 })
    return id
  }
  const sweep = await run('mnist', 'lr-sweep', { optimizer: 'adam' }, {})
  for (const [i, lr] of [0.1, 0.01, 0.001].entries()) {
    await run('mnist', `lr-${lr}`, { lr, optimizer: 'adam', batch_size: 64 + i * 64, hidden_units: 128 }, {
      val_accuracy: 0.9 + i * 0.03, train_loss: 0.3 - i * 0.1, val_loss: 0.35 - i * 0.1, epoch_time: 12.5 + i,
      'system/cpu_utilization_percentage': 97.5, 'system/memory_rss_megabytes': 812,
    }, { parent: sweep, status: i === 0 ? 'FAILED' : 'FINISHED' })
  }
  await run('cifar10', 'resnet-baseline-with-a-rather-long-name', { lr: 0.1, depth: 18 }, { val_accuracy: 0.71 })
  await book.close()
})
afterAll(() => repo.cleanup())

describe('ls fits the terminal', () => {
  it('at 80 columns keeps id, name, status and the primary metric, drops the rest and says how many', async () => {
    const r = await cli(['ls'], { columns: 80 })
    expect(r.exitCode, r.stderr).toBe(0)
    for (const line of r.stdout.trimEnd().split('\n')) expect(line.length, line).toBeLessThanOrEqual(80)
    expect(r.stdout).toMatch(/^id +name +experiment +status +val_accuracy/)
    expect(r.stdout).toMatch(/\(\+\d+ columns: --columns, or widen the terminal\)\n$/)
    golden('ls-80.txt', r.stdout)
  })

  it('at 120 columns shows more, system/* never by default', async () => {
    const r = await cli(['ls'], { columns: 120 })
    for (const line of r.stdout.trimEnd().split('\n')) expect(line.length, line).toBeLessThanOrEqual(120)
    expect(r.stdout).not.toContain('system/')
    golden('ls-120.txt', r.stdout)
  })

  it('COLUMNS is the width when the stream does not say', async () => {
    const r = await cli(['ls'], { env: { COLUMNS: '80' } })
    expect(r.stdout).toBe((await cli(['ls'], { columns: 80 })).stdout)
  })

  it('children sit under their parent; --no-tree lists them flat; one experiment has no experiment column', async () => {
    const tree = await cli(['ls', '-e', 'mnist'], { columns: 120 })
    expect(tree.stdout).not.toMatch(/experiment/)
    const names = tree.stdout.trimEnd().split('\n').slice(1).filter((l) => !l.startsWith('(')).map((l) => l.split(/\s{2,}/)[1])
    expect(names).toEqual(['lr-sweep', '├─ ★ lr-0.001', '├─ lr-0.01', '└─ lr-0.1']) // ★ the best finished run (src/judge)
    const flat = await cli(['ls', '-e', 'mnist', '--no-tree'], { columns: 120 })
    expect(flat.stdout).not.toContain('├─')
  })

  it('piped, nothing is cut or dropped and there is no colour', async () => {
    const r = await cli(['ls'], { tty: false, env: { NO_COLOR: undefined } })
    expect(r.stdout).toContain('resnet-baseline-with-a-rather-long-name')
    expect(r.stdout).toContain('commit')
    expect(r.stdout).not.toMatch(/\x1b\[/)
    expect(r.stdout).not.toContain('columns: --columns')
    const color = await cli(['ls'], { columns: 120, env: { NO_COLOR: undefined } })
    expect(color.stdout).toMatch(/\x1b\[/)
  })
})

describe('compare fits the terminal', () => {
  const RUNS = ['lr-0.1', 'lr-0.01', 'lr-0.001', 'resnet-baseline-with-a-rather-long-name']
  it('at 80 columns: short ids and commits, long values cut with …, runs that do not fit named', async () => {
    const r = await cli(['compare', ...RUNS, '--utc'], { columns: 80 }) // --utc: the goldens do not depend on the machine's time zone
    expect(r.exitCode, r.stderr).toBe(0)
    for (const line of r.stdout.trimEnd().split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(80)
    expect(r.stdout).toMatch(/^ +commit +0123456(?!7)/m) // 7 characters; the full SHA is in --json
    expect(r.stdout).toContain('…')
    golden('compare-80.txt', r.stdout)
    const narrow = await cli(['compare', ...RUNS], { columns: 50 })
    for (const line of narrow.stdout.trimEnd().split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(50)
    expect(narrow.stdout).toMatch(/^\(\+1 run not shown: 01jx0004; widen the terminal,$/m)
  })

  it('at 120 columns shows every run; piped, nothing is cut and there is no colour; --json keeps full values', async () => {
    const r = await cli(['compare', ...RUNS, '--utc'], { columns: 120 })
    for (const line of r.stdout.trimEnd().split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(120)
    expect(r.stdout).not.toContain('not shown')
    golden('compare-120.txt', r.stdout)
    const piped = await cli(['compare', ...RUNS], { tty: false, env: { NO_COLOR: undefined } })
    expect(piped.stdout).toMatch(/^ +lr-0.1 +lr-0.01 +lr-0.001 +resnet-baseline-with-a-rather-long-name\n +01jx0001 +01jx0002 +01jx0003 +01jx0004\n/) // nothing cut; the ids on their own line
    expect(piped.stdout).not.toMatch(/\x1b\[/)
    const color = await cli(['compare', ...RUNS], { columns: 120, env: { NO_COLOR: undefined } })
    expect(color.stdout).toMatch(/\x1b\[32m0\.96 ★/) // the best finished value in green
    expect(color.stdout.replace(/\x1b\[\d+m/g, '')).toBe((await cli(['compare', ...RUNS], { columns: 120 })).stdout) // colour never moves a column
    const noColor = await cli(['compare', ...RUNS], { columns: 120, env: { NO_COLOR: '1' } })
    expect(noColor.stdout).not.toMatch(/\x1b\[/)
    const json = JSON.parse((await cli(['compare', ...RUNS, '--json'])).stdout)
    expect(json.info.find((x: { key: string }) => x.key === 'commit').values[0]).toBe('0123456789abcdef0123456789abcdef01234567')
    expect(json.runs[3]).toMatchObject({ id: '01jx0004aaaaaaaaaaaaaaaaaa', name: 'resnet-baseline-with-a-rather-long-name' })
  })

  it('start times: local, the offset once in the row name; --utc for UTC; --json keeps the ISO time', async () => {
    const utc = await cli(['compare', 'lr-0.1', 'lr-0.01', '--utc'], { columns: 120 })
    expect(utc.stdout).toMatch(/^≠ start \(UTC\) +2025-01-15 09:31 +2025-01-15 09:32$/m)
    const at = new Date(Date.parse('2025-01-15T09:31:00Z'))
    const off = -at.getTimezoneOffset()
    const zone = `${off < 0 ? '-' : '+'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`
    const local = await cli(['compare', 'lr-0.1', 'lr-0.01'], { columns: 120 })
    const hh = String(at.getHours()).padStart(2, '0')
    expect(local.stdout).toContain(`≠ start (${zone})`)
    expect(local.stdout).toMatch(new RegExp(`start \\(\\${zone}\\) +2025-01-1\\d ${hh}:31 `))
    const json = JSON.parse((await cli(['compare', 'lr-0.1', 'lr-0.01', '--json'])).stdout)
    expect(json.info.find((x: { key: string }) => x.key === 'start').values[0]).toMatch(/^2025-01-15T09:31:\d\d(\.\d+)?Z$/)
  })
})

describe('show', () => {
  it('a parent lists its children; times are local with their offset, or UTC with --utc', async () => {
    const r = await cli(['show', 'lr-sweep', '--utc'], { columns: 80 })
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^started +2025-01-15 09:30:00 UTC$/m)
    expect(r.stdout).toMatch(/^Children \(3\)\nid +name +status +val_accuracy/m)
    golden('show-parent-utc.txt', r.stdout)
    const local = await cli(['show', 'lr-sweep'], { env: { TZ: 'UTC' } })
    expect(local.stdout).toMatch(/^started +2025-01-15 \d\d:30:00 [+-]\d\d:\d\d$/m)
    const json = JSON.parse((await cli(['show', 'lr-sweep', '--json'])).stdout)
    expect(json.children).toHaveLength(3)
  })
})
