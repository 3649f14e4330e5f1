/** Importers from other trackers' stores. */
export { importMlruns } from './mlruns.js'
export type { ImportMlrunsOptions, ImportMlrunsResult } from './mlruns.js'
export { readMlruns, parseMetricLines } from './mlruns-reader.js'
export type { MlrunsStore, MlrunsExperiment, MlrunsRun, MlrunsProblem, MlrunsArtifact } from './mlruns-reader.js'
