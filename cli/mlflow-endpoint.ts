/**
 * The MLflow endpoint `labbook run` starts for its child: MLflow's REST API on an ephemeral loopback port, guarded by
 * a random token, with MLFLOW_RUN_ID set so `mlflow.start_run()` attaches to the labbook run. The run stays
 * labbook's: the client's `end_run()` is remembered (a FAILED/KILLED it asks for wins over exit 0), the run ends when
 * the command exits, and nested `start_run(nested=True)` runs become its children with its code link.
 */
import { randomBytes } from 'node:crypto'
import type { RunStatus } from '../src/model/run.js'
import { serve, type RunningServer } from '../src/server/index.js'
import type { Book, RunHandle } from './book.js'

export interface MlflowEndpoint {
  /** MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN, MLFLOW_RUN_ID for the child. */
  env: Record<string, string>
  /** The status the client ended the run with, if it did. */
  clientStatus(): RunStatus | undefined
  /** Stops answering and commits what the client logged (the run itself is not ended). */
  close(): Promise<void>
}

export async function startMlflowEndpoint(book: Book, run: RunHandle, warn: (message: string) => void): Promise<MlflowEndpoint> {
  const token = randomBytes(24).toString('base64url')
  let status: RunStatus | undefined
  const held = new Map([[run.id, { onEnd: (s: RunStatus) => { status = s } }]])
  const srv: RunningServer = await serve({
    book, host: '127.0.0.1', port: 0, token, held, defaultSource: { ...run.summary().source }, resumableRuns: false, createDefaultExperiment: false,
    log: (level, message) => { if (level !== 'info') warn(`MLflow endpoint: ${message}`) },
  })
  return {
    env: { MLFLOW_TRACKING_URI: srv.url, MLFLOW_TRACKING_TOKEN: token, MLFLOW_RUN_ID: run.id },
    clientStatus: () => status,
    close: () => srv.close(),
  }
}
