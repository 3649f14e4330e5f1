/**
 * Entry of the commit thread (commit-thread.ts): a worker thread with its own BranchStore on the book's branch. Each
 * message is the run commits of one group (RunEditInput[], posted together); they are applied through the store's
 * group commit (`gather`: one branch commit) with the SAME edit the in-process path uses (run-commit.ts `runEdit`),
 * and answered, each with the run as written or its error, once the ref has moved. A file of its own so it stays an
 * entry when the CLI is bundled (package-files.ts).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { LabbookError } from '../errors.js'
import { keyedRun } from '../model/run.js'
import { BranchStore } from '../store/branch-store.js'
import { runEdit, type RunEditInput } from './run-commit.js'
import type { CommitReply, CommitRequest, CommitThreadInit } from './commit-thread.js'

const init = workerData as CommitThreadInit
const store = new BranchStore(init.gitdir, init.branch)
const port = parentPort!

port.on('message', (requests: CommitRequest[]) => {
  void Promise.allSettled(requests.map((r) => store.update(runEdit(store.objects, { ...r.input, mine: keyedRun(r.input.mine) } satisfies RunEditInput), { gather: true })))
    .then((results) => {
      port.postMessage(results.map((res, i): CommitReply => {
        const n = requests[i]!.n
        if (res.status === 'fulfilled') return { n, run: res.value }
        const e = res.reason as Error
        return { n, error: e instanceof LabbookError ? { code: e.code, message: e.message, hint: e.hint, data: e.data } : { message: String(e?.message ?? e) } }
      }))
    })
})
