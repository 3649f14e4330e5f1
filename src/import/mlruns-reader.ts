/**
 * Reads an MLflow FileStore (`mlruns/`) into plain records, without writing anything. Every problem
 * is collected with the file it concerns and reading goes on: one broken run never hides the others.
 * Artifacts are found under each run's own folder, whatever absolute `artifact_uri` its meta.yaml
 * records (stores get moved around).
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'
import { keyed, type Lifecycle, type MetricPoint, type RunStatus } from '../model/run.js'

export interface MlrunsProblem { path: string; message: string; run?: string; experiment?: string }

export interface MlrunsArtifact { path: string; file: string; size: number }

export interface MlrunsRun {
  id: string
  experimentId: string
  dir: string
  name?: string
  status: RunStatus
  lifecycle: Lifecycle
  startTime?: number
  endTime?: number
  user?: string
  params: Record<string, string>
  tags: Record<string, string>
  metrics: MetricPoint[]
  /** Where the artifacts were found: `<run>/artifacts`, or the meta.yaml's local `artifact_uri` when that folder is missing. */
  artifactsDir?: string
  artifacts: MlrunsArtifact[]
}

export interface MlrunsExperiment {
  id: string
  name: string
  lifecycle: Lifecycle
  createdAt?: number
  updatedAt?: number
  tags: Record<string, string>
  dir: string
  runs: MlrunsRun[]
}

export interface MlrunsStore { root: string; experiments: MlrunsExperiment[]; problems: MlrunsProblem[] }

const STATUS: Record<string, RunStatus> = { 1: 'RUNNING', 2: 'RUNNING', 3: 'FINISHED', 4: 'FAILED', 5: 'KILLED', RUNNING: 'RUNNING', SCHEDULED: 'RUNNING', FINISHED: 'FINISHED', FAILED: 'FAILED', KILLED: 'KILLED' }
/** Folders an experiment holds besides runs (MLflow 3 logged models, datasets, traces, experiment tags). */
const NOT_RUNS = new Set(['tags', 'models', 'datasets', 'traces', 'meta.yaml'])

async function readMeta(file: string): Promise<Record<string, unknown>> {
  // failsafe: every scalar a string, so ids like 0123…, 1e10… or all digits stay exactly as written
  const doc = parseYaml(await readFile(file, 'utf8'), { schema: 'failsafe' }) as unknown
  if (!doc || typeof doc !== 'object') throw new Error('meta.yaml is empty or not a mapping')
  return doc as Record<string, unknown>
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory()
  } catch {
    return false
  }
}

/** Files under `dir`, as `/`-joined relative paths (MLflow stores key `a/b` as the file `a/b`). */
async function walk(dir: string): Promise<string[]> {
  if (!(await isDir(dir))) return []
  const out: string[] = []
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push(relative(dir, join((e as { parentPath?: string; path?: string }).parentPath ?? (e as { path?: string }).path ?? dir, e.name)).split(sep).join('/'))
  }
  return out.sort()
}

async function keyValues(dir: string): Promise<Record<string, string>> {
  const out = keyed<string>()
  for (const key of await walk(dir)) out[key] = await readFile(join(dir, key), 'utf8')
  return out
}

function safeFileUrl(uri: string): string | undefined {
  try {
    return fileURLToPath(uri)
  } catch {
    return undefined
  }
}

/** A failsafe-YAML scalar: strings, with YAML's spellings of null meaning absent. */
function str(v: unknown): string | undefined {
  if (typeof v !== 'string' || v === '' || v === 'null' || v === '~') return undefined
  return v
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v)
  return undefined
}

function lifecycle(v: unknown): Lifecycle {
  return v === 'deleted' ? 'deleted' : 'active'
}

/** Parses one metric file: lines of `timestamp value [step [extra fields...]]`; `nan`, `inf`, `-inf` allowed. */
export function parseMetricLines(key: string, text: string, onBad: (line: number, message: string) => void): MetricPoint[] {
  const points: MetricPoint[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (!line) continue
    const parts = line.split(/\s+/)
    if (parts.length < 2) {
      onBad(i + 1, `expected "timestamp value [step]", got ${JSON.stringify(line)}`)
      continue
    }
    const timestamp = Number(parts[0])
    const value = parseFloatPy(parts[1]!)
    const step = parts.length >= 3 ? Number(parts[2]) : 0
    if (!Number.isSafeInteger(timestamp) || value === undefined || !Number.isSafeInteger(step)) {
      onBad(i + 1, `unreadable numbers in ${JSON.stringify(line)}`)
      continue
    }
    points.push({ key, value, step, timestamp })
  }
  return points
}

function parseFloatPy(s: string): number | undefined {
  const l = s.toLowerCase()
  if (l === 'nan' || l === '-nan') return NaN
  if (l === 'inf' || l === '+inf' || l === 'infinity') return Infinity
  if (l === '-inf' || l === '-infinity') return -Infinity
  const n = Number(s)
  return s !== '' && !Number.isNaN(n) ? n : undefined
}

async function readRun(expId: string, dir: string, problems: MlrunsProblem[]): Promise<MlrunsRun | undefined> {
  const metaFile = join(dir, 'meta.yaml')
  let meta: Record<string, unknown>
  try {
    meta = await readMeta(metaFile)
  } catch (e) {
    problems.push({ path: metaFile, experiment: expId, message: `unreadable run meta.yaml: ${(e as Error).message}` })
    return undefined
  }
  const id = str(meta.run_id) ?? str(meta.run_uuid) ?? ''
  if (!id) {
    problems.push({ path: metaFile, experiment: expId, message: 'meta.yaml has no run_id' })
    return undefined
  }
  const status = STATUS[String(meta.status)]
  if (!status) problems.push({ path: metaFile, run: id, message: `unknown status ${JSON.stringify(meta.status)}; imported as FAILED` })
  const run: MlrunsRun = {
    id, experimentId: expId, dir, status: status ?? 'FAILED', lifecycle: lifecycle(meta.lifecycle_stage),
    params: await keyValues(join(dir, 'params')), tags: await keyValues(join(dir, 'tags')), metrics: [], artifacts: [],
  }
  const runName = str(meta.run_name)
  if (runName) run.name = runName
  const start = num(meta.start_time), end = num(meta.end_time)
  if (start !== undefined) run.startTime = start
  if (end !== undefined) run.endTime = end
  const user = str(meta.user_id)
  if (user) run.user = user
  const metricsDir = join(dir, 'metrics')
  for (const key of await walk(metricsDir)) {
    const file = join(metricsDir, key)
    run.metrics.push(...parseMetricLines(key, await readFile(file, 'utf8'), (line, message) =>
      problems.push({ path: `${file}:${line}`, run: id, message: `metric ${key}: ${message}; line skipped` })))
  }
  // the run's own folder first (stores get moved); else where meta.yaml says, if that exists on this machine
  let artDir = join(dir, 'artifacts')
  if (!(await isDir(artDir)) && typeof meta.artifact_uri === 'string') {
    const uri = meta.artifact_uri
    const local = uri.startsWith('file://') ? safeFileUrl(uri) : uri.startsWith('/') ? uri : undefined
    if (local && (await isDir(local))) artDir = local
  }
  run.artifactsDir = artDir
  for (const path of await walk(artDir)) {
    const file = join(artDir, path)
    run.artifacts.push({ path, file, size: (await stat(file)).size })
  }
  return run
}

async function readExperiment(dir: string, deletedFolder: boolean, problems: MlrunsProblem[]): Promise<MlrunsExperiment | undefined> {
  const metaFile = join(dir, 'meta.yaml')
  let meta: Record<string, unknown>
  try {
    meta = await readMeta(metaFile)
  } catch (e) {
    problems.push({ path: metaFile, message: `unreadable experiment meta.yaml: ${(e as Error).message}` })
    return undefined
  }
  const id = str(meta.experiment_id) ?? ''
  const name = str(meta.name) ?? ''
  if (!id || !name) {
    problems.push({ path: metaFile, message: 'experiment meta.yaml lacks experiment_id or name' })
    return undefined
  }
  const exp: MlrunsExperiment = {
    id, name, dir, lifecycle: deletedFolder ? 'deleted' : lifecycle(meta.lifecycle_stage),
    tags: await keyValues(join(dir, 'tags')), runs: [],
  }
  const created = num(meta.creation_time), updated = num(meta.last_update_time)
  if (created !== undefined) exp.createdAt = created
  if (updated !== undefined) exp.updatedAt = updated
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!e.isDirectory() || NOT_RUNS.has(e.name)) continue
    const runDir = join(dir, e.name)
    try {
      await stat(join(runDir, 'meta.yaml'))
    } catch {
      continue // not a run folder
    }
    const run = await readRun(id, runDir, problems)
    if (run) exp.runs.push(run)
  }
  return exp
}

/**
 * Reads a whole FileStore; deleted experiments (MLflow moves them to `.trash/`) come back as deleted.
 * @example const store = await readMlruns('./mlruns'); store.problems.forEach((p) => console.error(p.path, p.message))
 */
export async function readMlruns(root: string): Promise<MlrunsStore> {
  const problems: MlrunsProblem[] = []
  const experiments: MlrunsExperiment[] = []
  const dirs: Array<[string, boolean]> = []
  for (const e of await readdir(root, { withFileTypes: true })) {
    if (!e.isDirectory()) continue
    if (e.name === '.trash') {
      for (const t of await readdir(join(root, e.name), { withFileTypes: true })) if (t.isDirectory()) dirs.push([join(root, e.name, t.name), true])
    } else if (!e.name.startsWith('.') && e.name !== 'models') dirs.push([join(root, e.name), false])
  }
  for (const [dir, deleted] of dirs.sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    try {
      await stat(join(dir, 'meta.yaml'))
    } catch {
      continue
    }
    const exp = await readExperiment(dir, deleted, problems)
    if (exp) experiments.push(exp)
  }
  return { root, experiments, problems }
}
