// The built CLI as users run it: real processes, real signals, real temp repos.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, collect, ensureBuilt, runCli, startCli, waitForOutput } from '../helpers/cli.js'
import { fsck, gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo
let before: string
let scratch: string

beforeAll(() => {
  ensureBuilt()
  repo = gitRepo({ 'train.py': 'print("hi")\n' })
  scratch = mkdtempSync(join(tmpdir(), 'labbook-e2e-scratch-'))
  before = repo.userState()
  execFileSync(process.execPath, [CLI, 'init'], { cwd: repo.dir, stdio: 'ignore' })
}, 120_000)
afterAll(() => {
  repo.cleanup()
  rmSync(scratch, { recursive: true, force: true })
})

const cli = (args: string[], env?: NodeJS.ProcessEnv) => runCli(args, { cwd: repo.dir, env })
async function showJson(ref: string) {
  const r = await cli(['show', ref, '--json'])
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout)
}
function runIdFrom(stderr: string): string {
  const m = /labbook: run (\w+) /.exec(stderr)
  if (!m) throw new Error(`no run id in: ${stderr}`)
  return m[1]!
}

describe('labbook run', () => {
  it('wraps a Python script logging through `labbook log` and $LABBOOK_METRICS', async () => {
    const model = join(scratch, 'model.json')
    writeFileSync(model, '{"trees": 3}')
    const script = `
import json, os, subprocess, sys
print("hello from python")
print("warning on stderr", file=sys.stderr)
subprocess.run(["labbook", "log", "param", "optimizer=adam", "layers=3"], check=True)
subprocess.run(["labbook", "log", "metric", "val_loss=0.5", "--step", "7"], check=True)
subprocess.run(["labbook", "log", "tag", "stage=train"], check=True)
subprocess.run(["labbook", "log", "artifact", ${JSON.stringify(model)}, "--to", "models"], check=True)
with open(os.environ["LABBOOK_METRICS"], "a") as f:
    for step in range(100):
        f.write(json.dumps({"loss": 1.0 / (step + 1), "acc": step / 100, "step": step}) + "\\n")
    f.write("this is not json\\n")
    f.write(json.dumps({"params": {"batch": 32}, "tags": {"via": "file"}}) + "\\n")
print(os.environ["LABBOOK_RUN_ID"], os.environ["LABBOOK_BRANCH"], os.path.realpath(os.environ["LABBOOK_REPO"]))
`
    const r = await cli(['run', '-e', 'py', '-n', 'python-run', '-p', 'lr=0.01', '-t', 'team=ml', '--system-interval', '0.2', '--', 'python3', '-c', script])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('hello from python')
    expect(r.stderr).toContain('warning on stderr')
    // 4 lines from `labbook log` calls come first, then 100 metric lines: the bad one is line 105.
    expect(r.stderr).toMatch(/\$LABBOOK_METRICS line 105 skipped: not valid JSON/)
    expect(r.stderr).toMatch(/FINISHED .*201 metric points from \$LABBOOK_METRICS, 1 malformed line skipped/)
    const id = runIdFrom(r.stderr)
    expect(r.stdout).toContain(`${id} labbook ${repo.dir}`)
    const run = await showJson(id)
    expect(run).toMatchObject({
      name: 'python-run', experiment: 'py', status: 'FINISHED',
      params: { lr: 0.01, optimizer: 'adam', layers: 3, batch: 32 },
      tags: { team: 'ml', stage: 'train', via: 'file', 'labbook.exit_code': '0', 'labbook.metrics_malformed_lines': '1' },
    })
    expect(run.source.commit).toBe(repo.git('rev-parse', 'HEAD').trim())
    expect(run.source.command).toMatch(/^python3 -c /)
    expect(run.history.loss).toHaveLength(100)
    expect(run.history.loss[99]).toMatchObject({ step: 99, value: 0.01 })
    expect(run.history.val_loss).toEqual([expect.objectContaining({ step: 7, value: 0.5 })])
    expect(run.metrics.acc).toBe(0.99)
    const paths = run.artifacts.map((a: { path: string }) => a.path)
    expect(paths).toContain('models/model.json')
    expect(paths).toContain('labbook/output.log')
    expect(Object.keys(run.metrics).some((k) => k.startsWith('system/'))).toBe(true)
  })

  it('wraps a shell script; output.log keeps the tail past --log-limit and says so', async () => {
    const script = `
labbook log param kind=shell
for i in 1 2 3; do echo "{\\"score\\": $i, \\"step\\": $i}" >> "$LABBOOK_METRICS"; done
labbook log metric extra=1 extra2=NaN
i=0; while [ $i -lt 300 ]; do echo "line $i"; i=$((i+1)); done
`
    const r = await cli(['run', '-n', 'shell-run', '--log-limit', '1k', '--system-interval', '0', '--', 'sh', '-c', script])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('line 299')
    const id = runIdFrom(r.stderr)
    const run = await showJson(id)
    expect(run.params).toEqual({ kind: 'shell' })
    expect(run.metrics).toEqual({ score: 3, extra: 1, extra2: 'NaN' })
    const { Labbook } = await import('../../dist/src/index.js')
    const book = await Labbook.open({ repo: repo.dir })
    const log = Buffer.from(await book.readArtifact(id, 'labbook/output.log')).toString()
    await book.close()
    expect(log).toMatch(/^\[labbook: output truncated: kept the last \d+ of \d+ bytes \(limit 1024\)/)
    expect(log.endsWith('line 299\n')).toBe(true)
    expect(log.length).toBeLessThan(1200)
  })

  it('maps exit codes: failure is FAILED with the same code, a missing command is 127 with code and hint', async () => {
    const failed = await cli(['run', '-n', 'exit-3', '--', 'sh', '-c', 'exit 3'])
    expect(failed.code).toBe(3)
    expect((await showJson(runIdFrom(failed.stderr))).status).toBe('FAILED')
    const missing = await cli(['run', '-n', 'missing', '--', 'no-such-command-xyz'])
    expect(missing.code).toBe(127)
    expect(missing.stderr).toMatch(/^COMMAND_NOT_FOUND: cannot run "no-such-command-xyz"/m)
    expect(missing.stderr).toMatch(/^hint: /m)
    expect((await showJson(runIdFrom(missing.stderr))).status).toBe('FAILED')
  })

  it('a child killed by SIGKILL is KILLED and labbook dies of the same signal', async () => {
    const r = await cli(['run', '-n', 'self-kill', '--', 'sh', '-c', 'echo "{\\"x\\": 1}" >> "$LABBOOK_METRICS"; kill -9 $$'])
    expect(r.signal).toBe('SIGKILL')
    const run = await showJson(runIdFrom(r.stderr))
    expect(run.status).toBe('KILLED')
    expect(run.tags['labbook.signal']).toBe('SIGKILL')
    expect(run.metrics.x).toBe(1)
  })

  it('SIGINT to labbook is forwarded to the child; the run is KILLED and labbook exits like the child', async () => {
    const child = startCli(['run', '-n', 'interrupted', '--', 'python3', '-c', 'import time\nprint("ready", flush=True)\ntime.sleep(60)'], { cwd: repo.dir })
    const done = collect(child)
    await waitForOutput(child, 'ready')
    child.kill('SIGINT')
    const r = await done
    expect(r.signal).toBe('SIGINT') // Python re-raises SIGINT after an unhandled KeyboardInterrupt
    expect(r.stderr).toContain('KeyboardInterrupt')
    const run = await showJson(runIdFrom(r.stderr))
    expect(run.status).toBe('KILLED')
  })

  it('a SIGTERM the child handles still marks the run KILLED; labbook exits with the child\'s code', async () => {
    const child = startCli(['run', '-n', 'graceful', '--', 'sh', '-c', 'trap "echo bye; exit 0" TERM; echo ready; while true; do sleep 0.1; done'], { cwd: repo.dir })
    const done = collect(child)
    await waitForOutput(child, 'ready')
    child.kill('SIGTERM')
    const r = await done
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('bye')
    const run = await showJson(runIdFrom(r.stderr))
    expect(run.status).toBe('KILLED')
    expect(run.tags['labbook.signal']).toBe('SIGTERM')
  })

  it('after the wrapper is SIGKILLed mid-run, `labbook recover` commits what it had ingested', async () => {
    const script = 'import json, os, time\nf = open(os.environ["LABBOOK_METRICS"], "a", buffering=1)\nprint("pid", os.getpid(), flush=True)\nstep = 0\nwhile True:\n    f.write(json.dumps({"loss": 1 / (step + 1), "step": step}) + "\\n")\n    step += 1\n    time.sleep(0.001)\n'
    const child = startCli(['run', '-n', 'crashed', '--system-interval', '0', '--', 'python3', '-c', script], { cwd: repo.dir })
    const done = collect(child)
    const seen = await waitForOutput(child, /pid \d+/)
    const pid = Number(/pid (\d+)/.exec(seen)![1])
    await new Promise((r) => setTimeout(r, 2500)) // > 1 s: the wrapper has flushed its journal at least once
    child.kill('SIGKILL')
    const r = await done
    process.kill(pid, 'SIGKILL') // the orphaned writer
    const id = runIdFrom(r.stderr)
    const rec = await cli(['recover'])
    expect(rec.code, rec.stderr).toBe(0)
    expect(rec.stderr).toContain(`Recovered run ${id}`)
    const run = await showJson(id)
    expect(run.status).toBe('KILLED')
    expect(run.history.loss.length).toBeGreaterThan(50)
    const again = await cli(['recover', '--json'])
    expect(JSON.parse(again.stdout)).toEqual([])
  })

  it('8 parallel `labbook run` in one repo keep every run and every point', async () => {
    const script = 'i=0; while [ $i -lt 200 ]; do echo "{\\"m\\": $i, \\"step\\": $i}" >> "$LABBOOK_METRICS"; i=$((i+1)); done; labbook log param done=yes'
    const results = await Promise.all(Array.from({ length: 8 }, (_, k) => cli(['run', '-e', 'parallel', '-n', `p${k}`, '-p', `k=${k}`, '--system-interval', '0', '--', 'sh', '-c', script])))
    for (const r of results) expect(r.code, r.stderr).toBe(0)
    const ls = await cli(['ls', '-e', 'parallel', '--json'])
    const runs = JSON.parse(ls.stdout)
    expect(runs.map((x: { name: string }) => x.name).sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'])
    const { Labbook } = await import('../../dist/src/index.js')
    const book = await Labbook.open({ repo: repo.dir })
    for (const x of runs) {
      const s = await book.getRun(x.id)
      expect(s.status).toBe('FINISHED')
      expect(s.metrics.m).toMatchObject({ count: 200, value: 199 })
      expect(s.params).toMatchObject({ done: 'yes', k: Number(x.name.slice(1)) })
      expect((await book.metricHistory(x.id, 'm')).map((p: { step: number }) => p.step)).toEqual(Array.from({ length: 200 }, (_, i) => i))
    }
    await book.close()
  })

  it('log errors: no run is bad usage (2); a bad value fails (1); both print code and hint', async () => {
    const none = await cli(['log', 'metric', 'x=1'])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/^USAGE: No run to log to\.\nhint: /m)
    const bad = await cli(['log', 'metric', 'x=abc', '--run', 'python-run'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^INVALID_VALUE: .*\nhint: /m)
    const direct = await cli(['log', 'metric', 'late=2', '--run', 'python-run'])
    expect(direct.code, direct.stderr).toBe(0)
    const after = await showJson('python-run')
    expect(after.metrics.late).toBe(2)
    expect(after.status).toBe('FINISHED')
    expect(existsSync(join(repo.dir, '.git', 'labbook', 'journal', after.id))).toBe(false)
    // A RUNNING run belongs to its own writer: logging to it from outside is refused, and the run stays intact.
    const child = startCli(['run', '-n', 'busy', '--system-interval', '0', '--', 'sh', '-c', 'echo ready; sleep 2'], { cwd: repo.dir })
    const done = collect(child)
    await waitForOutput(child, 'ready')
    const busy = await cli(['log', 'metric', 'x=1', '--run', 'busy'])
    expect(busy.code).toBe(1)
    expect(busy.stderr).toMatch(/^RUN_LOCKED: Run \w+ \(busy\) is RUNNING.*\nhint: /m)
    expect((await done).code).toBe(0)
    expect((await showJson('busy')).status).toBe('FINISHED')
  })

  it('a labbook run inside a wrapped command is a child run of it', async () => {
    const r = await cli(['run', '-n', 'sweep', '--system-interval', '0', '--', 'sh', '-c', 'labbook run -n point-1 -- true && labbook run -n point-2 --parent python-run -- true'])
    expect(r.code, r.stderr).toBe(0)
    const sweep = await showJson('sweep')
    expect((await showJson('point-1')).parent).toBe(sweep.id)
    expect((await showJson('point-2')).parent).toBe((await showJson('python-run')).id)
    expect(sweep.parent).toBeNull()
  })

  it('records a dirty checkout: source.dirty and the uncommitted diff as an artifact', async () => {
    const dirty = gitRepo({ 'train.py': 'print("v1")\n' })
    try {
      writeFileSync(join(dirty.dir, 'train.py'), 'print("v2")\n')
      const state = dirty.userState()
      const r = await runCli(['run', '-n', 'dirty', '--system-interval', '0', '--', 'sh', '-c', 'true'], { cwd: dirty.dir })
      expect(r.code, r.stderr).toBe(0)
      const shown = await runCli(['show', 'dirty', '--json'], { cwd: dirty.dir })
      const run = JSON.parse(shown.stdout)
      expect(run.source).toMatchObject({ dirty: true, branch: 'main', command: "sh -c true" })
      expect(run.artifacts.map((a: { path: string }) => a.path)).toContain('labbook/uncommitted.diff')
      const { Labbook } = await import('../../dist/src/index.js')
      const book = await Labbook.open({ repo: dirty.dir })
      expect(Buffer.from(await book.readArtifact(run.id, 'labbook/uncommitted.diff')).toString()).toContain('+print("v2")')
      await book.close()
      expect(dirty.userState()).toBe(state)
    } finally {
      dirty.cleanup()
    }
  })

  it('left the user checkout, index and HEAD untouched, and the repository consistent', () => {
    expect(repo.git('status', '--porcelain')).toBe('')
    expect(repo.userState()).toBe(before)
    fsck(repo)
    expect(readFileSync(join(repo.dir, '.git', 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n')
  })
})
