/**
 * The commit thread: a book's group commits (group-commit.ts) made in a worker thread (commit-worker.ts) instead of on
 * the event loop. A group commit is CPU work (run.yaml and summary lines encoded, the shared trees rewritten, each
 * object hashed, the pack built and its roll-ups) that, in a server taking many creates at once, took the event loop
 * from the requests; in the thread it runs on another core while the loop answers requests and writes journals.
 * The worker runs the same edit (run-commit.ts `runEdit`) through its own BranchStore under the same ref lock
 * protocol; a run's commit is answered once the ref has moved, and only then does its writer rotate or drop its
 * journal (run.ts), as in process. Objects the thread wrote are read here through git (cat-file), like another
 * writer's.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { LabbookError, type ErrorCode } from '../errors.js'
import { keyedRun, type RunSummary } from '../model/run.js'
import { packageRoot, scriptPath, sourceScript } from '../package-files.js'
import type { RunEditInput } from './run-commit.js'

/** What the thread is started with. */
export interface CommitThreadInit { gitdir: string; branch: string }
/** One run's commit, as posted (a group's are posted in one message). */
export interface CommitRequest { n: number; input: RunEditInput }
/** Its answer: the run as written, or the error its commit threw. */
export interface CommitReply { n: number; run?: RunSummary; error?: { code?: ErrorCode; message: string; hint?: string; data?: Record<string, unknown> } }

export class CommitThread {
  private worker?: Worker
  private seq = 0
  private readonly waiting = new Map<number, { resolve: (r: RunSummary) => void; reject: (e: unknown) => void }>()
  private queued: CommitRequest[] = []
  private postQueued = false

  constructor(private readonly init: CommitThreadInit) {}

  /** Whether a commit thread can be started here (the worker's file exists: bundled, compiled, or the sources under tsx). */
  static available(): boolean {
    return existsSync(scriptPath('commit-worker')) || (sourceScript('commit-worker') !== undefined && tsxApi() !== undefined)
  }

  /**
   * Commits one run in the thread; every commit asked for in the same turn of the event loop goes out in one message,
   * and so in one branch commit. Resolves with the run as written once the ref has moved.
   */
  commit(input: RunEditInput): Promise<RunSummary> {
    return new Promise((resolve, reject) => {
      const n = ++this.seq
      this.waiting.set(n, { resolve, reject })
      this.queued.push({ n, input })
      if (this.postQueued) return
      this.postQueued = true
      setImmediate(() => this.post())
    })
  }

  /** Starts the thread now (a server, before its first requests), not with the first commit. */
  warm(): void {
    try {
      if (this.waiting.size === 0) this.start().unref()
    } catch { /* the first commit reports it */ }
  }

  /** Ends the thread (after the commits in flight: the caller flushed its group first). */
  async close(): Promise<void> {
    const w = this.worker
    this.worker = undefined
    if (w) await w.terminate()
  }

  private post(): void {
    this.postQueued = false
    const batch = this.queued
    this.queued = []
    let w: Worker
    try {
      w = this.start()
    } catch (e) {
      this.fail(batch.map((r) => r.n), e)
      return
    }
    // referenced while commits are in flight: a script that returns still gets its runs committed before Node exits
    w.ref()
    w.postMessage(batch)
  }

  private start(): Worker {
    if (this.worker) return this.worker
    const file = scriptPath('commit-worker')
    let w: Worker
    if (existsSync(file)) w = new Worker(file, { workerData: this.init })
    else {
      // the TypeScript sources (benches and tests under tsx or vitest): the worker registers tsx's loader first
      const src = sourceScript('commit-worker')
      const api = tsxApi()
      if (!src || !api) throw new LabbookError('IO_FAILED', `The commit thread's script ${file} is missing.`, 'Reinstall labbook.')
      w = new Worker(`import(${JSON.stringify(pathToFileURL(api).href)}).then((t) => { t.register(); return import(${JSON.stringify(pathToFileURL(src).href)}) })`, { eval: true, workerData: this.init })
    }
    w.on('message', (replies: CommitReply[]) => this.answer(replies))
    w.on('error', (e) => this.lost(w, e))
    w.on('exit', (code) => this.lost(w, new Error(`the commit thread exited (${code})`)))
    this.worker = w
    return w
  }

  private answer(replies: CommitReply[]): void {
    for (const r of replies) {
      const p = this.waiting.get(r.n)
      if (!p) continue
      this.waiting.delete(r.n)
      if (r.run) p.resolve(keyedRun(r.run))
      else p.reject(r.error?.code ? new LabbookError(r.error.code, r.error.message, r.error.hint, r.error.data) : new Error(r.error?.message))
    }
    if (this.waiting.size === 0 && this.queued.length === 0) this.worker?.unref()
  }

  /** The thread died or failed: its commits in flight fail (their runs stay pending, their journals intact), and the next commit starts a new thread. */
  private lost(w: Worker, e: unknown): void {
    if (this.worker === w) this.worker = undefined
    this.fail([...this.waiting.keys()], e)
  }

  private fail(ns: number[], e: unknown): void {
    const err = new LabbookError('IO_FAILED', `A group commit in the commit thread failed: ${(e as Error)?.message ?? e}`, 'The runs stay in their journals; the commit is retried, and `labbook recover` commits them otherwise.', {}, { cause: e })
    for (const n of ns) {
      const p = this.waiting.get(n)
      this.waiting.delete(n)
      p?.reject(err)
    }
  }
}

let tsx: string | null | undefined

/** tsx's loader API when this runs from the TypeScript sources with tsx installed (a checkout), else undefined. */
function tsxApi(): string | undefined {
  if (tsx === undefined) {
    try {
      // its ESM build (the CommonJS one require.resolve names sits beside it and cannot register in a worker)
      const esm = createRequire(join(packageRoot(), 'package.json')).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')
      tsx = existsSync(esm) ? esm : null
    } catch {
      tsx = null
    }
  }
  return tsx ?? undefined
}
