/**
 * The one judgement of labbook: goals, primary metrics, eligibility, best run, groups of repeats, statistics and
 * verdicts. Every face (ls, compare, show, report, the site, the server) asks here; nothing else decides. Browser-safe.
 */
export { type Goal, type JudgeConfig, type MetricRule, DEFAULT_SEED_PARAMS, parseGoalWord } from './config.js'
export { type GoalSource, type JudgeContext, type MetricGoal, GOAL_TAGS, PRIMARY_TAGS, TELEMETRY_PREFIXES, MINIMIZE_WORDS, globMatch, isTelemetry, keyWords, metricGoal, nameGoal, primaryMetrics } from './goals.js'
export { type Ineligible, type JudgedRun, bestRun, compareValues, eligibleValue, ineligible, tieBreak } from './runs.js'
export { type GroupIndex, type GroupMembers, type GroupOptions, type GroupScore, type RunGroup, GROUP_TAG, bestGroup, bestGroupOf, eligibleColumn, groupIndex, groupMembers, groupRuns, groupsAt, groupsOf, scoreAt, scoreGroup, sortedKeys, codeCommit } from './groups.js'
export { type Difference, type SampleStats, describe, describeOne, tCdf, tQuantile, welch } from './stats.js'
export { type MetricVerdict, type Verdict, judgeDifference } from './verdict.js'
export { type ExperimentJudgement, type PrimaryMetric, judgeExperiment } from './experiment.js'
export { type MetricReproduction, type ReproductionVerdict, judgeReproduction } from './reproduction.js'
export { type CommitStep, type CommitStepOptions, commitSteps } from './change.js'
