import { describe, expect, it } from 'vitest'
import { compileFilter, formatFilter, parseFilter, searchRuns } from '../../src/query/index.js'
import { fixtureRuns } from './fixture.js'

const runs = fixtureRuns()
const R = (...ix: number[]) => ix.map((i) => `r${i}`)
const ALL = runs.map((r) => r.id)
const r0to9 = R(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)

// [filter, the ids it must return]. Hand-computed from fixture.ts, not from the code under test.
const TABLE: [string, string[]][] = [
  // MLflow "Search Runs" guide: metrics
  ['metrics.loss > 0.8', R(0, 1)],
  ['metrics.accuracy > 0.72', [...R(8, 9), 'old']],
  ['metrics."accuracy" > 0.72', [...R(8, 9), 'old']],
  ['metrics.loss <= 0.15', [...R(9), 'old']],
  ['metrics.`log-scale-loss` <= 0', r0to9],
  ['metrics.`f1 score` >= 0.5', R(5, 6, 7, 8, 9)],
  ['metrics.accuracy > 0.72 AND metrics.loss <= 0.15', [...R(9), 'old']],
  // params
  ['params.batch_size = "2"', R(0, 1, 2, 3, 4)],
  ['params.model LIKE "GPT%"', [...R(0, 1, 2, 3), 'live']],
  ['params.model ILIKE "gPt%"', [...R(0, 1, 2, 3), 'live']],
  ['params.model LIKE "GPT%" AND params.batch_size = "2"', R(0, 1, 2, 3)],
  // tags
  ['tags."environment" = "notebook"', R(0, 1, 2, 3, 4)],
  ['tags.environment = "notebook"', R(0, 1, 2, 3, 4)],
  ['tags.task = "Classification"', ['nan']],
  ['tags.task ILIKE "classif%"', ['r0', 'nan']],
  // run metadata
  ['attributes.status = "ACTIVE"', []],
  ['attributes.user_id LIKE "user1"', []],
  ['attributes.run_name = "my-run"', []],
  ['attributes.run_name = "run-5"', R(5)],
  ['attributes.run_id = "r3"', R(3)],
  ["attributes.run_id IN ('r1', 'r7', 'zzz')", R(1, 7)],
  ['attributes.start_time >= 1700000005000', [...R(5, 6, 7, 8, 9), 'nan', 'live']],
  ['attributes.end_time < 1700000100000', ['r0', 'nan', 'old']],
  ['attributes.created > 1700000008000', ['r9', 'nan', 'live']],
  ['attributes.Created > 1700000008000', ['r9', 'nan', 'live']],
  // chained, sets, non-None
  ['metrics.accuracy > 0.72 AND metrics.batch_size != 0', []],
  ["metrics.accuracy > 0.72 AND metrics.batch_size != 0 AND attributes.run_id IN ('r8', 'r9')", []],
  ['metrics.loss <= 0.15 AND metrics.loss >= 0.1', R(9)],
  ['params.batch_size != "None"', [...r0to9, 'nan', 'old']],
  ['params.model != "None"', [...R(0, 1, 2, 3), 'nan', 'live', 'old']],
  ["\nattributes.run_id IN ('r2','r3','r6')\n  AND metrics.loss > 0.3\n  AND metrics.\"f1 score\" < 0.5\n  AND params.model LIKE \"GPT%\"\n", R(2, 3)],
  ["params.model = 'GPT-4'", ['r3', 'live']],
  // The older guide (1.x) and the R/Java examples
  ['params.model = "LogisticRegression" and params.lambda = "0.001" and metrics.error <= 0.05', ['old']],
  ['params.alpha = "0.3" and params.lambda = "0.001" and metrics.error <= 0.05', ['old']],
  ["tags.`mlflow.user` = ''", ['nan']],
  ["tags.`model` LIKE 'sklearn%'", ['old']],
  ["tags.`type` ILIKE '%Logistic%'", ['old']],
  ['attributes.`run_name` ILIKE "%alpha%"', R(3, 4)],
  ['attributes.`run name` ILIKE "%alpha%"', R(3, 4)],
  ['attributes.`Run name` ILIKE "%alpha%"', R(3, 4)],
  ['attributes.`Run Name` ILIKE "%alpha%"', R(3, 4)],
  ['attributes.status = "FAILED"', ['r8', 'old']],
  ['attributes.status = "FINISHED"', [...R(0, 1, 2, 3, 4, 5, 6, 7), 'nan']],
  ["metrics.rmse < 0.9 and tags.production = 'true'", []],
  ['metrics.accuracy_score < 99.90', []],
  ['params."model-type" = "linear"', ['old']],
  ['metrics."2019-04-02 error rate" < 1', ['old']],
  // every operator on numbers, with NaN (only != is true for NaN, as in Python) and missing keys (never match)
  ['metrics.loss = 0.5', R(5)],
  ['metrics.loss != 0.5', [...R(0, 1, 2, 3, 4, 6, 7, 8, 9), 'nan', 'old']],
  ['metrics.loss < 0.3', ['r8', 'r9', 'old']],
  ['metrics.loss >= 0.9', R(0, 1)],
  ['metrics.loss > -0.5e1', [...r0to9, 'old']],
  ['metrics.accuracy <= -0', ['r0']],
  ['metrics.accuracy = 0 OR metrics.accuracy != 0', [...r0to9, 'nan', 'old']],
  ['metrics.accuracy IN (0.1, 0.9)', R(1, 9)],
  ['NOT metrics.loss > 0.5', [...R(5, 6, 7, 8, 9), 'nan', 'live', 'old']],
  ['metrics.loss IS NULL', ['live']],
  ['metrics.loss IS NOT NULL', ALL.filter((id) => id !== 'live')],
  // unicode keys and values
  ['metrics.`точность` = 0.5', ['nan']],
  ['metrics.точность >= 0.5', ['nan']],
  ["params.モデル = 'トランスフォーマー'", ['nan']],
  ["tags.émoji = '🚀'", ['nan']],
  ["tags.émoji LIKE '_'", ['nan']],
  // strings: IN, NOT IN, NOT LIKE, case, literal dots in LIKE
  ["params.model IN ('GPT-2', 'BERT')", ['r0', 'nan']],
  ["params.model NOT IN ('None', 'GPT-4')", ['r0', 'r1', 'r2', 'nan', 'old']],
  ["run_id NOT IN ('r0','r1')", ALL.filter((id) => id !== 'r0' && id !== 'r1')],
  ["params.model NOT LIKE 'GPT%'", [...R(4, 5, 6, 7, 8, 9), 'nan', 'old']],
  ["params.model = 'gpt-4'", []],
  ["params.model LIKE '%.%'", R(2)],
  ["run_name LIKE 'run-_'", R(0, 1, 2, 5, 6, 7, 8, 9)],
  ["run_name LIKE 'RUN-%'", []],
  ["run_name ILIKE 'RUN-%'", R(0, 1, 2, 5, 6, 7, 8, 9)],
  ["run_name = 'live | run\nline2'", ['live']],
  // numeric params (our extension: a number literal compares numerically; non-numbers never match)
  ['params.`learning rate` < 0.005', [...R(0, 2, 4, 6, 8), 'nan']],
  ["params.`learning rate` = '0.01'", R(1, 3, 5, 7, 9)],
  ['params.batch_size > 3', [...R(5, 6, 7, 8, 9), 'nan', 'old']],
  ['params.batch_size = 4', R(5, 6, 7, 8, 9)],
  ['params.batch_size IN (2, 10)', [...R(0, 1, 2, 3, 4), 'old']],
  ['params.model > 0', []],
  // OR / NOT / parentheses precedence
  ["metrics.loss > 0.85 OR metrics.accuracy > 0.85 AND status = 'FAILED'", ['r0', 'r1', 'old']],
  ["(metrics.loss > 0.85 OR metrics.accuracy > 0.85) AND status = 'FAILED'", ['old']],
  ["NOT status = 'FINISHED' AND lifecycle_stage = 'active'", ['r8', 'r9', 'live']],
  ["NOT (status = 'FINISHED' OR status = 'RUNNING')", ['r8', 'r9', 'old']],
  ["not not status = 'RUNNING'", ['live']],
  ["status = 'FAILED' or status = 'KILLED' or status = 'RUNNING'", ['r8', 'r9', 'live', 'old']],
  ["((status = 'KILLED'))", ['r9']],
  // quoting forms
  ["`params`.model = 'BERT'", ['nan']],
  ['"params"."model" = \'BERT\'', ['nan']],
  ["params.`model` = \"BERT\"", ['nan']],
  ["tags.note = 'it''s'", ['live']],
  ['tags.note = "it\'s"', ['live']],
  ["tags.note = 'it\\'s'", ['live']],
  // every prefix spelling
  ['metric.loss = 0.1', R(9)],
  ["param.model = 'BERT'", ['nan']],
  ["parameter.model = 'BERT'", ['nan']],
  ["parameters.model = 'BERT'", ['nan']],
  ["tag.task = 'regression'", R(1)],
  ["run.status = 'KILLED'", R(9)],
  ["attr.status = 'KILLED'", R(9)],
  ["attribute.status = 'KILLED'", R(9)],
  // labbook's own attributes
  ["experiment = '2'", ['nan', 'live']],
  ["source.commit = 'aaaa1111'", R(0, 1, 2, 3, 4)],
  ["attributes.source.branch LIKE 'feature/%'", R(5, 6, 7, 8, 9)],
  ['source.dirty = true', R(5, 6, 7, 8, 9)],
  ["source.dirty = 'false'", [...R(0, 1, 2, 3, 4), 'live']],
  ['source.dirty IS NULL', ['nan', 'old']],
  ["parent = 'r0'", R(1, 2)],
  ['parent IS NOT NULL', R(1, 2)],
  ['duration > 500000', R(8, 9)],
  ['duration < 10000', ['nan', 'old']],
  ['end_time IS NULL', ['live']],
  ["lifecycle_stage = 'deleted'", ['old']],
  ["artifact_uri LIKE '%/r3/%'", R(3)],
  ["user_id = 'Monkey D Luffy'", R(0, 1, 2)],
  ['user_id IS NULL', ['nan']],
  // keywords in any case, == and <>, keys that shadow Object.prototype
  ["metrics.loss > 0.85 and status in ('FINISHED')", R(0, 1)],
  ["status <> 'FINISHED' AND metrics.loss == 0.2", R(8)],
  ['tags.constructor IS NULL', ALL],
  ["params.constructor = 'ctor'", ['live']],
  ['params.__proto__ IS NOT NULL', []],
  // the empty filter
  ['', ALL],
  ['   \n ', ALL],
]

describe('filter table over the fixture', () => {
  it('has at least 60 rows', () => expect(TABLE.length).toBeGreaterThanOrEqual(60))
  for (const [filter, expected] of TABLE) {
    it(JSON.stringify(filter), () => {
      const ast = parseFilter(filter)
      const got = runs.filter(compileFilter(ast)).map((r) => r.id)
      expect(got.sort()).toEqual([...expected].sort())
      // The formatted AST means the same thing and parses to the same AST.
      expect(parseFilter(formatFilter(ast))).toEqual(ast)
    })
  }
})

describe('experiment names', () => {
  it('matches experiment by name when names are given, and negates over both', () => {
    const names = { '0': 'Default', '1': 'search-run-guide', '2': 'bert' }
    const ids = (f: string) => searchRuns(runs, f, { experimentNames: names }).map((r) => r.id).sort()
    expect(ids("experiment = 'bert'")).toEqual(['live', 'nan'])
    expect(ids("experiment = '2'")).toEqual(['live', 'nan'])
    expect(ids("experiment != 'bert'")).toEqual([...r0to9, 'old'].sort())
    expect(ids("experiment LIKE 'search%'")).toEqual(r0to9)
  })
})
