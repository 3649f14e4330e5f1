import type { Labbook, StartRunOptions } from './labbook.js'
import type { Run } from './run.js'

/** A handle on one experiment for starting runs in it. */
export class ExperimentHandle {
  constructor(private readonly book: Labbook, readonly id: string, readonly name: string) {}

  startRun(o: StartRunOptions = {}): Promise<Run> {
    return this.book.startRunIn(this.id, o)
  }

  /**
   * Runs `fn` inside a run: FINISHED when it resolves, FAILED (and the error rethrown) when it throws.
   * @example await exp.run({ name: 'rf' }, async (run) => run.logMetric('accuracy', 0.93))
   */
  async run<T>(o: StartRunOptions, fn: (run: Run) => Promise<T> | T): Promise<T> {
    const run = await this.startRun(o)
    let result: T
    try {
      result = await fn(run)
    } catch (e) {
      await run.end('FAILED')
      throw e
    }
    await run.end('FINISHED')
    return result
  }
}
