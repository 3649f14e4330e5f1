// Issue 10 item 8: only the `labbook run` wrapper is killed; its command goes on writing $LABBOOK_METRICS. Real
// processes and signals: `labbook recover` waits while the command lives, then commits every line exactly once.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, collect, ensureBuilt, runCli, startCli, waitForOutput } from '../helpers/cli.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo
let before: string

beforeAll(() => {
  ensureBuilt()
  repo = gitRepo()
  before = repo.userState()
  execFileSync(process.execPath, [CLI, 'init'], { cwd: repo.dir, stdio: 'ignore' })
}, 120_000)
afterAll(() => repo.cleanup())

const cli = (args: string[]) => runCli(args, { cwd: repo.dir })
const alive = (pid: number) => { try { process.kill(pid, 0); return true } catch { return false } }

describe('a command whose labbook run wrapper was SIGKILLed', () => {
  it('recover leaves the run while the command runs, then commits every line of the metrics file exactly once', async () => {
    const N = 70
    // Only the file is written after the kill: stdout's reader (the wrapper) is gone.
    const script = `echo "pid $$"; i=0; while [ $i -lt ${N} ]; do echo "{\\"m\\": $i, \\"n\\": $((i*2)), \\"step\\": $i}" >> "$LABBOOK_METRICS"; `
      + `if [ $i -eq 40 ]; then echo 'not json' >> "$LABBOOK_METRICS"; fi; i=$((i+1)); sleep 0.04; done`
    const child = startCli(['run', '-n', 'orphaned', '--system-interval', '0', '--', 'sh', '-c', script], { cwd: repo.dir })
    const done = collect(child)
    const pid = Number(/pid (\d+)/.exec(await waitForOutput(child, /pid \d+/))![1])
    await new Promise((r) => setTimeout(r, 1500)) // past the wrapper's 1 s journal flush: the journal holds a mark
    child.kill('SIGKILL')
    const r = await done
    const id = /labbook: run (\w+) /.exec(r.stderr)![1]!

    expect(alive(pid)).toBe(true)
    const early = await cli(['recover', '--json'])
    expect(early.code, early.stderr).toBe(0)
    expect(JSON.parse(early.stdout)).toEqual([])
    expect(early.stderr).toContain(`Run ${id} left RUNNING`)
    expect(early.stderr).toContain(`(pid ${pid})`)

    for (let i = 0; i < 200 && alive(pid); i++) await new Promise((res) => setTimeout(res, 50))
    expect(alive(pid)).toBe(false)
    const metricsFile = join(repo.dir, '.git', 'labbook', 'cli', `${id}.metrics.jsonl`)
    expect(existsSync(metricsFile)).toBe(true)

    const rec = await cli(['recover'])
    expect(rec.code, rec.stderr).toBe(0)
    expect(rec.stderr).toContain(`Recovered run ${id}`)
    expect(rec.stderr).toMatch(/\d+ points? from .*metrics\.jsonl written after the wrapper died, 1 bad line skipped/)
    expect(rec.stderr).toContain('not valid JSON')

    const show = await cli(['show', id, '--json'])
    expect(show.code, show.stderr).toBe(0)
    const run = JSON.parse(show.stdout)
    expect(run.status).toBe('KILLED')
    expect(run.tags['labbook.metrics_malformed_lines']).toBe('1')
    // every line's points, exactly once
    const { Labbook } = await import('../../dist/src/index.js')
    const book = await Labbook.open({ repo: repo.dir })
    try {
      const m = (await book.metricHistory(id, 'm')).map((p: { step: number; value: number }) => [p.step, p.value])
      const n = (await book.metricHistory(id, 'n')).map((p: { step: number; value: number }) => [p.step, p.value])
      expect(m).toEqual(Array.from({ length: N }, (_, i) => [i, i]))
      expect(n).toEqual(Array.from({ length: N }, (_, i) => [i, 2 * i]))
    } finally {
      await book.close()
    }

    // idempotent: nothing left, the file consumed
    const again = await cli(['recover', '--json'])
    expect(JSON.parse(again.stdout)).toEqual([])
    expect(existsSync(metricsFile)).toBe(false)
    const doctor = await cli(['doctor', '--json'])
    expect(doctor.stdout).not.toContain('orphan-metrics-file')
    expect(fsck(repo)).toBe('')
    expect(repo.userState()).toBe(before)
  }, 30_000)
})
