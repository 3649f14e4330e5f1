import { describe, expect, it } from 'vitest'
import * as labbook from '../src/index.js'
import * as fluent from '../src/track/fluent.js'

describe('public API', () => {
  it('exports exactly the hand-picked names', () => {
    expect(Object.keys(labbook).sort()).toMatchInlineSnapshot(`
      [
        "DEFAULT_BRANCH",
        "ExperimentHandle",
        "FORMAT_VERSION",
        "Labbook",
        "LabbookError",
        "LabbookReader",
        "Run",
        "buildPrReport",
        "compareRuns",
        "compileFilter",
        "formatFilter",
        "historyToCsv",
        "importMlruns",
        "isLabbookError",
        "loadGoalConfig",
        "metricGoal",
        "newRunId",
        "parseFilter",
        "parseGoalConfig",
        "parseOrderBy",
        "pull",
        "push",
        "regressions",
        "renderComparisonMarkdown",
        "renderComparisonText",
        "renderPrReportMarkdown",
        "runDuration",
        "runIdTime",
        "runsToCsv",
        "runsToJsonl",
        "search",
        "searchRuns",
        "serve",
        "sortRuns",
      ]
    `)
    expect(Object.keys(fluent).sort()).toMatchInlineSnapshot(`
      [
        "activeRun",
        "configure",
        "endRun",
        "getLabbook",
        "logArtifact",
        "logJson",
        "logMetric",
        "logMetrics",
        "logParam",
        "logParams",
        "logText",
        "setExperiment",
        "setTag",
        "setTags",
        "startRun",
      ]
    `)
  })
})
