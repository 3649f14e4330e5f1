/**
 * MLflow-style module-level API, so `mlflow.start_run()` scripts port line by line.
 * @example
 * import * as lab from 'labbook/fluent'
 * await lab.setExperiment('iris')
 * await lab.startRun({ name: 'rf' })
 * lab.logParam('n_estimators', 100)
 * lab.logMetric('accuracy', 0.93)
 * await lab.endRun()
 */
import { LabbookError } from '../errors.js'
import type { ParamValue } from '../model/run.js'
import { Labbook, type OpenOptions, type StartRunOptions } from './labbook.js'
import type { MetricOptions, Run } from './run.js'

let options: OpenOptions = {}
let book: Promise<Labbook> | undefined
let experimentName: string | undefined
const stack: Run[] = []

/** Where the fluent API writes (call before anything else to choose a repo or branch). */
export function configure(o: OpenOptions): void {
  options = o
  book = undefined
}

export function getLabbook(): Promise<Labbook> {
  book ??= Labbook.open(options)
  return book
}

export async function setExperiment(name: string): Promise<void> {
  await (await getLabbook()).ensureExperiment(name)
  experimentName = name
}

/** Starts a run; a run started while another is active becomes its child (`nested` in MLflow). */
export async function startRun(o: StartRunOptions = {}): Promise<Run> {
  const b = await getLabbook()
  const parent = stack[stack.length - 1]
  const run = await b.startRun({ ...o, parent: o.parent ?? parent?.id, experiment: experimentName })
  stack.push(run)
  return run
}

export function activeRun(): Run | undefined {
  return stack[stack.length - 1]
}

function current(): Run {
  const run = activeRun()
  if (!run) throw new LabbookError('RUN_NOT_FOUND', 'No active run.', 'Call startRun() first.')
  return run
}

export const logParam = (key: string, value: ParamValue) => current().logParam(key, value)
export const logParams = (params: Record<string, ParamValue>) => current().logParams(params)
export const logMetric = (key: string, value: number, o?: MetricOptions | number) => current().logMetric(key, value, o)
export const logMetrics = (metrics: Record<string, number>, o?: MetricOptions) => current().logMetrics(metrics, o)
export const setTag = (key: string, value: string) => current().setTag(key, value)
export const setTags = (tags: Record<string, string>) => current().setTags(tags)
export const logArtifact = (path: string, o?: { to?: string }) => current().logArtifact(path, o)
export const logText = (text: string, path: string) => current().logText(text, path)
export const logJson = (value: unknown, path: string) => current().logJson(value, path)

/** Ends the active run (FINISHED unless told otherwise). */
export async function endRun(status: 'FINISHED' | 'FAILED' | 'KILLED' = 'FINISHED'): Promise<void> {
  const run = stack.pop()
  if (run) await run.end(status)
}
