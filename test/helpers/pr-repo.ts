// A code repository shaped like a team's: main with runs (one on a merged side branch, one after the PR branched off),
// a PR branch `feature` with better and worse runs, a failed run and one run whose commit this clone lacks, and a
// branch `rb` that was rebased after its run was logged (found again through the patch-id).
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Labbook } from '../../src/index.js'
import type { ParamValue, RunStatus } from '../../src/model/run.js'
import { gitRepo, type TestRepo } from './git-repo.js'

export interface PrRepo {
  repo: TestRepo
  /** Commit ids by name: c0 c1 c2 s1 m c4 p1 p2 p3 r1old r1. */
  commits: Record<string, string>
  /** Run ids by run name. */
  runs: Record<string, string>
  /** Replaces commit ids (full and 7-char) and run ids with their names, for golden files. */
  normalize(text: string): string
}

export const T0 = 1_767_225_600_000 // 2026-01-01T00:00:00Z

/** `git patch-id --stable` the way the tracker computes it for HEAD (`git show --format=` piped into patch-id). */
export function patchIdOf(repo: TestRepo, commit: string): string {
  const show = repo.git('show', '--format=', '--no-color', commit)
  return execFileSync('git', ['patch-id', '--stable'], { cwd: repo.dir, input: show, encoding: 'utf8' }).trim().split(/\s+/)[0]!
}

interface RunSpec {
  name: string
  commit?: string
  branch: string
  metrics?: Record<string, number>
  params?: Record<string, ParamValue>
  status?: RunStatus
  dirty?: boolean
  /** Leave out the patch-id (a run logged before labbook recorded one). */
  noPatchId?: boolean
}

export async function prRepo(): Promise<PrRepo> {
  const repo = gitRepo({ 'train.py': 'v0\n' })
  const g = repo.git
  const head = () => g('rev-parse', 'HEAD').trim()
  const commit = (file: string, content: string, msg: string) => {
    writeFileSync(join(repo.dir, file), content)
    g('add', file)
    g('commit', '-q', '-m', msg)
    return head()
  }
  const C: Record<string, string> = { c0: head() }
  C.c1 = commit('train.py', 'v1\n', 'tune lr')
  C.c2 = commit('train.py', 'v2\n', 'bigger model')
  g('checkout', '-q', '-b', 'side', C.c1)
  C.s1 = commit('side.py', 's\n', 'side experiment')
  g('checkout', '-q', 'main')
  g('merge', '-q', '--no-ff', 'side', '-m', 'merge side')
  C.m = head()
  g('checkout', '-q', '-b', 'feature')
  C.p1 = commit('model.py', 'dropout\n', 'feature: add dropout')
  C.p2 = commit('model.py', 'wide\n', 'feature: wider layers')
  C.p3 = commit('model.py', 'adam\n', 'feature: try adam')
  g('checkout', '-q', '-b', 'rb', C.m)
  C.r1old = commit('data.py', 'augment\n', 'augment data')
  g('checkout', '-q', 'main')
  C.c4 = commit('train.py', 'v4\n', 'main moves on')
  g('checkout', '-q', 'rb')
  g('rebase', '-q', 'main')
  C.r1 = head()
  g('checkout', '-q', 'main')

  const specs: RunSpec[] = [
    { name: 'base-c0', commit: C.c0, branch: 'main', metrics: { accuracy: 0.8, loss: 0.5 }, params: { lr: 0.1, layers: 2 } },
    { name: 'base-c1', commit: C.c1, branch: 'main', metrics: { accuracy: 0.85, loss: 0.4 }, params: { lr: 0.01, layers: 2, note: 'warm|up `x` <b>bold</b>' } },
    { name: 'base-c2', commit: C.c2, branch: 'main', metrics: { accuracy: 0.83, loss: 0.45 }, params: { lr: 0.01, layers: 3 } },
    { name: 'base-c2-crash', commit: C.c2, branch: 'main', metrics: { accuracy: 0.99, loss: 0.01 }, status: 'FAILED' },
    { name: 'side-s1', commit: C.s1, branch: 'side', metrics: { accuracy: 0.97, loss: 0.1 } },
    { name: 'base-m', commit: C.m, branch: 'main', metrics: { accuracy: 0.82, loss: 0.44 } },
    { name: 'after-c4', commit: C.c4, branch: 'main', metrics: { accuracy: 0.99, loss: 0.05 } },
    { name: 'feat-p1', commit: C.p1, branch: 'feature', dirty: true, metrics: { accuracy: 0.84, loss: 0.42, epoch_time: 30 }, params: { lr: 0.01, layers: 2 } },
    { name: 'wide | net v2 <i>', commit: C.p2, branch: 'feature', metrics: { accuracy: 0.88, loss: 0.46, epoch_time: 32 }, params: { lr: 0.01, layers: 4, optimizer: 'adam' } },
    { name: 'feat-p3-crash', commit: C.p3, branch: 'feature', metrics: { accuracy: 0.5 }, status: 'FAILED' },
    { name: 'feat-remote', commit: 'f'.repeat(40), branch: 'feature', metrics: { accuracy: 0.86, loss: 0.41 }, noPatchId: true },
    { name: 'rb-before-rebase', commit: C.r1old, branch: 'rb', metrics: { accuracy: 0.9, loss: 0.3 } },
  ]
  const book = await Labbook.open({ repo: repo.dir })
  await book.init()
  const R: Record<string, string> = {}
  for (const [i, s] of specs.entries()) {
    const known = s.commit && s.commit !== 'f'.repeat(40)
    const source = { commit: s.commit, branch: s.branch, dirty: s.dirty ?? false, ...(known && !s.noPatchId ? { patchId: patchIdOf(repo, s.commit!) } : {}) }
    const run = await book.startRun({ experiment: 'cifar', name: s.name, params: s.params, source, startTime: T0 + i * 60_000, user: 'test' })
    for (const [k, v] of Object.entries(s.metrics ?? {})) run.logMetric(k, v, { step: 0, timestamp: T0 + i * 60_000 + 1000 })
    await run.end(s.status ?? 'FINISHED', { endTime: T0 + i * 60_000 + 30_000 })
    R[s.name] = run.id
  }
  await book.close()

  const normalize = (text: string) => {
    let t = text
    for (const [name, id] of Object.entries(R)) t = t.split(id).join(`RUN_${name.replace(/\W+/g, '_')}`)
    for (const [name, sha] of Object.entries(C)) t = t.split(sha).join(`<${name}>`).split(sha.slice(0, 7)).join(`<${name}>`)
    return t
  }
  return { repo, commits: C, runs: R, normalize }
}
