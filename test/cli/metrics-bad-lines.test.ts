// Issue 10 item 4 (and the 50 MB line): one bad line of $LABBOOK_METRICS, for any key, is reported and skipped; the
// wrapped command keeps being watched and every later point lands.
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MetricsLineParser } from '../../src/format/metrics-lines.js'
import { CLI, ensureBuilt, runCli } from '../helpers/cli.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo
beforeAll(() => {
  ensureBuilt()
  repo = gitRepo()
  execFileSync(process.execPath, [CLI, 'init'], { cwd: repo.dir, stdio: 'ignore' })
}, 120_000)
afterAll(() => repo.cleanup())

describe('$LABBOOK_METRICS bad lines', () => {
  it('an artifact that does not exist, a .git artifact path and bad params/tags/step lines are skipped, never fatal', async () => {
    const lines = [
      '{"artifact":"nope"}', '{"artifact":5}', '{"params":{"a\\u0000":1}}', '{"tags":{"t":"a\\u0000b"}}', '{"artifact":"ck"}',
      '{"loss":1,"step":1}', '{"step":"x","loss":2}', '{"params":"x"}', 'not json',
    ]
    const script = `mkdir -p ck/.git && echo x > ck/.git/config && ${lines.map((l) => `printf '%s\\n' '${l}' >> "$LABBOOK_METRICS"`).join(' && ')} && sleep 0.3 && printf '%s\\n' '{"loss":3,"step":3}' >> "$LABBOOK_METRICS"`
    const r = await runCli(['run', '--name', 'bad-lines', '--', 'sh', '-c', script], { cwd: repo.dir })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(r.stderr).toMatch(/artifact "nope" skipped: ARTIFACT_NOT_FOUND/)
    expect(r.stderr).toMatch(/artifact "ck" skipped: INVALID_PATH/)
    expect(r.stderr).toMatch(/FINISHED/)
    const show = JSON.parse((await runCli(['show', 'bad-lines', '--json'], { cwd: repo.dir })).stdout)
    const run = show.run ?? show
    expect(run.status).toBe('FINISHED')
    const loss = run.metrics.loss
    expect(typeof loss === 'number' ? loss : loss.value).toBe(3) // the point written after the bad lines landed
    expect(Number(run.tags['labbook.metrics_malformed_lines'])).toBe(8)
  }, 120_000)

  it('a 50 MB single line parses in linear time (fed in 256 KiB pieces, as the tailer reads)', () => {
    const params: Record<string, string> = {}
    for (let i = 0; i < 5000; i++) params[`k${i}`] = 'x'.repeat(10_000)
    const line = JSON.stringify({ params }) + '\n'
    expect(line.length).toBeGreaterThan(50_000_000)
    let got = 0
    const p = new MetricsLineParser({ metric() {}, params: (v) => { got = Object.keys(v).length }, tags() {}, artifact() {} })
    const t0 = performance.now()
    for (let i = 0; i < line.length; i += 256 * 1024) p.feed(line.slice(i, i + 256 * 1024))
    const fed = performance.now() - t0
    const t1 = performance.now()
    JSON.parse(line) // the reference: one parse of the same text
    const reference = performance.now() - t1
    expect(got).toBe(5000)
    // quadratic growth took 25 s here; linear is a small multiple of one JSON.parse
    // (bounds loose enough for a loaded 2-core CI box; quadratic is minutes there)
    expect(fed).toBeLessThan(Math.max(8000, reference * 25))
  }, 60_000)
})
