// Generates a repository with N synthetic runs (20 params, 10 metrics each) quickly, many runs per commit.
// Usage: npx tsx bench/generate.ts DIR N [--params 20] [--metrics 10] [--points 3]
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { encodePoint } from '../src/format/jsonl.js'
import { encodeExperiment, encodeRun } from '../src/format/yaml.js'
import type { Experiment } from '../src/model/experiment.js'
import { newRunId } from '../src/model/ids.js'
import { chunkName, experimentFile, METRICS_DIR, RUN_FILE, runDir } from '../src/model/layout.js'
import { addToSummary } from '../src/model/metric.js'
import type { RunSummary } from '../src/model/run.js'
import { BranchStore } from '../src/store/branch-store.js'
import { locateRepo } from '../src/store/gitdir.js'
import type { TreeChange } from '../src/store/tree-edit.js'

export interface GenerateOptions {
  params?: number; metrics?: number; points?: number; experiments?: number; batch?: number; seed?: number
  /** Repeats of each configuration (R > 1): the R runs i, i+E, …, i+(R−1)·E of one experiment share params and code
   * commit and differ in a `seed` param 0…R−1, as `labbook run --repeat R` records them. @default 1 (all params random) */
  repeats?: number
}

export async function generateRuns(dir: string, n: number, o: GenerateOptions = {}): Promise<void> {
  const P = o.params ?? 20, M = o.metrics ?? 10, points = o.points ?? 3, E = o.experiments ?? 5, batch = o.batch ?? 1000, R = o.repeats ?? 1
  const firstOf = new Map<number, RunSummary>() // with repeats: the first run of each configuration, by run index
  if (!fs.existsSync(`${dir}/.git`)) {
    fs.mkdirSync(dir, { recursive: true })
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir })
    execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=b@x', 'commit', '-q', '--allow-empty', '-m', 'init'], { cwd: dir })
  }
  const loc = locateRepo(dir)
  const store = new BranchStore(loc.gitdir, 'labbook')
  let seed = o.seed ?? 42
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  const exps: Experiment[] = Array.from({ length: E }, (_, i) => ({ id: String(i + 1), name: `experiment-${i + 1}`, lifecycle: 'active', createdAt: Date.now(), tags: {} }))
  await store.update(async () => ({
    changes: exps.map((e) => ({ path: experimentFile(e.id), blob: store.objects.writeBlob(encodeExperiment(e)) })),
    subject: 'bench experiments', result: undefined,
  }))
  const statuses = ['FINISHED', 'FINISHED', 'FINISHED', 'FAILED', 'KILLED'] as const
  const t0 = Date.now() - n * 60_000
  for (let start = 0; start < n; start += batch) {
    const changes: TreeChange[] = []
    for (let i = start; i < Math.min(n, start + batch); i++) {
      const startTime = t0 + i * 60_000
      const id = newRunId(startTime)
      const run: RunSummary = {
        id, name: `run-${i}`, experiment: exps[i % E]!.id, status: statuses[i % 5]!, lifecycle: i % 50 === 0 ? 'deleted' : 'active',
        startTime, endTime: startTime + Math.round(rand() * 3_600_000), user: `user${i % 7}`, host: 'bench',
        source: { commit: (i % 97).toString(16).padStart(40, 'a'), branch: i % 3 ? 'main' : 'feature', dirty: i % 4 === 0 },
        params: {}, tags: { team: ['vision', 'nlp', 'speech'][i % 3]!, 'mlflow.user': `user${i % 7}` }, metrics: {},
      }
      const repeat = R > 1 ? Math.floor(i / E) % R : 0
      const first = repeat > 0 ? firstOf.get(i - repeat * E) : undefined
      if (first) {
        run.params = { ...first.params, seed: repeat }
        run.source.commit = first.source.commit
      } else {
        for (let p = 0; p < P; p++) run.params[`param_${p}`] = p % 3 === 0 ? Number((rand() * 10).toFixed(4)) : p % 3 === 1 ? `choice-${Math.floor(rand() * 5)}` : Math.floor(rand() * 1000)
        if (R > 1) { run.params.seed = 0; firstOf.set(i, run); firstOf.delete(i - R * E) }
      }
      let chunk = ''
      for (let m = 0; m < M; m++) {
        const key = m === 0 ? 'accuracy' : m === 1 ? 'loss' : `metric_${m}`
        for (let s = 0; s < points; s++) {
          const v = m === 1 ? 1 / (s + 1 + rand()) : rand()
          const ts = startTime + s * 1000
          run.metrics[key] = addToSummary(run.metrics[key], v, s, ts)
          chunk += encodePoint(key, v, s, ts)
        }
      }
      const d = runDir(id)
      changes.push({ path: `${d}/${RUN_FILE}`, blob: store.objects.writeBlob(encodeRun(run)) })
      if (chunk) changes.push({ path: `${d}/${METRICS_DIR}/${chunkName(0)}`, blob: store.objects.writeBlob(chunk) })
    }
    await store.update(async () => ({ changes, subject: `bench runs ${start}..${start + changes.length / 2}`, result: undefined }))
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [dir, n] = process.argv.slice(2)
  if (!dir || !n) {
    console.error('usage: npx tsx bench/generate.ts DIR N')
    process.exit(2)
  }
  const t = Date.now()
  await generateRuns(dir, Number(n))
  console.log(`generated ${n} runs in ${dir} in ${((Date.now() - t) / 1000).toFixed(1)} s`)
}
