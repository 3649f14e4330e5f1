import fs from 'node:fs'
import { join } from 'node:path'
import { decodeRun } from '../format/yaml.js'
import { RUN_FILE, runDir } from '../model/layout.js'
import type { MetricPoint, RunStatus, RunSummary } from '../model/run.js'
import { journalRoot, newestSegment, ownerAlive, type JournalOwner } from './journal.js'
import { sweepSpares } from './journal-pool.js'
import type { Labbook } from './labbook.js'
import { existingRunState } from './chunks.js'
import { Run } from './run.js'
import { decodeJournalLine, type JournalOp } from '../format/journal.js'
import { MetricsLineParser, type LineProblem } from '../format/metrics-lines.js'
import { runMetricsSink } from './metrics-sink.js'
import { processAlive } from '../store/process.js'

export interface RecoveredRun {
  id: string
  name: string
  status: RunStatus
  /** Points found in the journal that the branch did not have. */
  points: number
  /** `labbook run`'s `$LABBOOK_METRICS` file, when its wrapper died: points read from it and bad lines skipped. */
  metricsFile?: { path: string; points: number; malformed: number; problems: LineProblem[] }
}

/** A run left RUNNING because the command its dead `labbook run` wrapped is still alive (and may write more). */
export interface DeferredRun {
  id: string
  childPid: number
}

const RECOVER_LOCK_STALE_MS = 60_000

/** How `recover` reports what it does. */
export interface RecoverOptions {
  /** Called after each journal looked at: `done` of `total`. */
  onProgress?: (done: number, total: number) => void
  /** Called for a run left for later: its wrapper died but the wrapped command still runs. */
  onDeferred?: (d: DeferredRun) => void
}

/** Finds journals of dead writers on this branch, commits what the branch lacks and ends those runs. */
export async function recoverJournals(book: Labbook, o: RecoverOptions = {}): Promise<RecoveredRun[]> {
  const root = journalRoot(book.gitdir)
  sweepSpares(book.gitdir, root) // spares of dead processes: removed, or (claimed for a run) moved into the journals
  let dirs: string[]
  try {
    dirs = fs.readdirSync(root)
  } catch {
    return []
  }
  const out: RecoveredRun[] = []
  let done = 0
  for (const name of dirs) {
    o.onProgress?.(done++, dirs.length)
    const dir = join(root, name)
    const owner = readOwner(dir)
    if (!owner || owner.branch !== book.branch || ownerAlive(owner)) continue
    if (book.liveRun(owner.runId)) continue
    const lock = join(dir, 'recover.lock')
    if (!takeLock(lock)) continue
    try {
      const r = await recoverOne(book, dir, owner, o)
      if (r) out.push(r)
    } finally {
      try { fs.unlinkSync(lock) } catch { /* the journal dir is gone */ }
    }
  }
  o.onProgress?.(dirs.length, dirs.length)
  return out
}

function readOwner(dir: string): JournalOwner | undefined {
  try {
    return JSON.parse(fs.readFileSync(join(dir, 'owner.json'), 'utf8'))
  } catch {
    return undefined
  }
}

function takeLock(path: string): boolean {
  try {
    fs.closeSync(fs.openSync(path, 'wx'))
    return true
  } catch {
    try {
      if (Date.now() - fs.statSync(path).mtimeMs > RECOVER_LOCK_STALE_MS) {
        fs.unlinkSync(path)
        return takeLock(path)
      }
    } catch { /* raced */ }
    return false
  }
}

async function recoverOne(book: Labbook, dir: string, owner: JournalOwner, o: RecoverOptions): Promise<RecoveredRun | undefined> {
  // the newest segment only: one an interrupted rotation left below it is superseded (newestSegment)
  const segment = newestSegment(dir)
  const view = await book.store.head()
  const onBranch = view ? await view.readText(`${runDir(owner.runId)}/${RUN_FILE}`) : undefined
  let initial: RunSummary | undefined = onBranch ? decodeRun(onBranch) : undefined
  const existing = onBranch && view ? await existingRunState(view, owner.runId) : undefined
  const committed = existing?.committedPoints ?? 0
  let lastTime = 0
  let ended: { status: RunStatus; endTime: number } | undefined
  const ops: JournalOp[] = []
  let metricsMark: Extract<JournalOp, { op: 'metrics-file' }> | undefined
  const points: MetricPoint[] = []
  if (segment !== undefined) {
    let index = parseInt(segment, 10)
    const text = fs.readFileSync(join(dir, segment), 'utf8')
    lastTime = Math.max(lastTime, fs.statSync(join(dir, segment)).mtimeMs)
    for (const line of text.split('\n')) {
      if (!line) continue
      const entry = decodeJournalLine(line)
      if (!entry) break // a torn last line from the crash: everything before it counts
      if (entry.kind === 'point') {
        const p = entry.point
        if (index >= committed) points.push(p)
        index++
        if (p.timestamp > lastTime) lastTime = p.timestamp
      } else if (entry.kind === 'op') {
        const op = entry.op
        if (op.op === 'start') {
          if (!initial) initial = decodeRun(op.run)
        } else if (op.op === 'end') ended = { status: op.status, endTime: op.endTime }
        else if (op.op === 'metrics-file') metricsMark = op
        else ops.push(op)
      }
    }
  }
  if (metricsMark?.child && !ended && processAlive(metricsMark.child)) {
    // The wrapper died but its command still writes the metrics file: committing now would end the run under it.
    o.onDeferred?.({ id: owner.runId, childPid: metricsMark.child.pid })
    return undefined
  }
  const fileText = metricsMark && !ended ? readFrom(metricsMark.path, metricsMark.offset) : undefined
  if (fileText !== undefined) {
    const mtime = fs.statSync(metricsMark!.path).mtimeMs
    lastTime = Math.max(lastTime, mtime)
  }
  if (!initial) {
    fs.rmSync(dir, { recursive: true, force: true }) // killed before it wrote anything
    return undefined
  }
  if (!onBranch) initial = { ...initial, metrics: {} }
  if (initial.status !== 'RUNNING' && !points.length && !ops.length && !fileText) {
    fs.rmSync(dir, { recursive: true, force: true })
    return undefined
  }
  const run = new Run(book, { ...initial, status: 'RUNNING', endTime: undefined }, { existing, journal: false })
  book.track(run)
  for (const op of ops) {
    try {
      if (op.op === 'param' && !Object.hasOwn(run.summary().params, op.key)) run.logParam(op.key, op.value)
      else if (op.op === 'tag') run.setTag(op.key, op.value)
      else if (op.op === 'untag' && Object.hasOwn(run.summary().tags, op.key)) run.deleteTag(op.key)
      else if (op.op === 'name') run.setName(op.value)
      else if (op.op === 'description') run.setDescription(op.value)
      else if (op.op === 'resume') run.resume()
      else if (op.op === 'dataset') run.logInputs([op.value])
    } catch { /* an op the branch already has in another form: keep going, points matter most */ }
  }
  for (const p of points) run.logMetric(p.key, p.value, { step: p.step, timestamp: p.timestamp })
  const fromFile = fileText !== undefined ? await ingestRest(run, fileText, metricsMark!.points, Math.round(lastTime)) : undefined
  if (!ended && owner.resumable) {
    // a server's run: its client may log again after the restart, so it stays RUNNING (MLflow's stores do the same)
    await run.commit()
    run.detach()
    book.forget(run)
    fs.rmSync(dir, { recursive: true, force: true })
    return { id: owner.runId, name: initial.name, status: 'RUNNING', points: points.length }
  }
  const status = ended?.status ?? 'KILLED'
  if (fromFile?.malformed) run.setTag('labbook.metrics_malformed_lines', String(fromFile.malformed + Number(initial.tags['labbook.metrics_malformed_lines'] ?? 0)))
  await run.end(status, { endTime: ended?.endTime ?? Math.round(lastTime || Date.now()), removeJournal: true })
  // Committed and the journal gone: the file has nothing left to give (a second recover finds no journal).
  if (metricsMark) fs.rmSync(metricsMark.path, { force: true })
  return {
    id: owner.runId, name: initial.name, status, points: points.length,
    ...(fromFile ? { metricsFile: { path: metricsMark!.path, ...fromFile } } : {}),
  }
}

/** The metrics file from `offset` on, or undefined when it is gone. */
function readFrom(path: string, offset: number): string | undefined {
  let fd: number
  try {
    fd = fs.openSync(path, 'r')
  } catch {
    return undefined
  }
  try {
    const size = fs.fstatSync(fd).size
    if (size <= offset) return ''
    const buf = Buffer.allocUnsafe(size - offset)
    let got = 0
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, offset + got)
      if (n === 0) break
      got += n
    }
    return buf.subarray(0, got).toString('utf8')
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Puts what a dead `labbook run` had not taken from its `$LABBOOK_METRICS` file into the run, through the same line
 * parser: the first `skip` points are in the journal already (the wrapper died mid-line); bad lines are skipped and
 * counted, never fatal. A point without a timestamp gets `fallbackTime` (the file's last change).
 */
async function ingestRest(run: Run, text: string, skip: number, fallbackTime: number): Promise<{ points: number; malformed: number; problems: LineProblem[] }> {
  const problems: LineProblem[] = []
  const sink = runMetricsSink(run, {
    skip, fallbackTime, // a changed param keeps its first value, as in `labbook run`; no cwd: relative artifacts are bad lines
    onArtifactError: (path, e) => problems.push({ line: -1, message: `artifact ${JSON.stringify(path)}: ${e.code ? e.code + ': ' : ''}${e.message}` }),
  })
  const parser = new MetricsLineParser(sink, (p) => problems.push(p))
  parser.feed(text)
  parser.end()
  await Promise.all(sink.pending)
  return { points: sink.points, malformed: problems.length, problems }
}
