// A fixed set of run summaries for the filter and order-by tables. Runs r0..r9 mirror the runs of MLflow's "Search Runs" guide
// (loss 1.0 → 0.1, accuracy and f1 0.0 → 0.9, batch_size 2/4, learning rate 0.001/0.01, model GPT-2…GPT-4 then "None");
// `nan`, `live` and `old` add NaN metrics, unicode keys, a running run, a deleted run and the older guide's examples.
import type { MetricSummary, RunSummary } from '../../src/model/run.js'

const T0 = 1_700_000_000_000

export function m(value: number, o: Partial<MetricSummary> = {}): MetricSummary {
  return { value, step: 0, timestamp: T0, min: value, max: value, count: 1, ...o }
}

const LOSS = [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
const ACC = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
const MODEL = ['GPT-2', 'GPT-3', 'GPT-3.5', 'GPT-4', 'None', 'None', 'None', 'None', 'None', 'None']
const TASK = ['classification', 'regression', 'causal lm']
const NAMES = ['run-0', 'run-1', 'run-2', 'Alpha-3', 'beta alpha', 'run-5', 'run-6', 'run-7', 'run-8', 'run-9']
const STATUS = ['FINISHED', 'FINISHED', 'FINISHED', 'FINISHED', 'FINISHED', 'FINISHED', 'FINISHED', 'FINISHED', 'FAILED', 'KILLED'] as const

export function fixtureRuns(): RunSummary[] {
  const runs: RunSummary[] = []
  for (let i = 0; i < 10; i++) {
    const start = T0 + i * 1000
    runs.push({
      id: `r${i}`,
      name: NAMES[i],
      experiment: '1',
      status: STATUS[i],
      lifecycle: 'active',
      startTime: start,
      endTime: start + 60_000 * (i + 1),
      user: i < 3 ? 'Monkey D Luffy' : 'michael.berk',
      ...(i === 1 || i === 2 ? { parent: 'r0' } : {}),
      source: i < 5 ? { commit: 'aaaa1111', branch: 'main', dirty: false } : { commit: 'bbbb2222', branch: 'feature/x', dirty: true },
      params: {
        // MLflow stores "2"; our runs may hold the number 2 or the text "4": both must compare the same way.
        batch_size: i < 5 ? 2 : '4',
        'learning rate': i % 2 === 0 ? 0.001 : 0.01,
        model: MODEL[i],
      },
      tags: {
        ...(i < 3 ? { task: TASK[i] } : {}),
        ...(i < 5 ? { environment: 'notebook' } : {}),
      },
      metrics: {
        loss: m(LOSS[i], { min: LOSS[i], max: 1.5 }),
        accuracy: m(ACC[i]),
        'log-scale-loss': m(Math.log(LOSS[i])),
        'f1 score': m(ACC[i]),
      },
    })
  }
  runs.push({
    id: 'nan',
    name: 'nan run',
    experiment: '2',
    status: 'FINISHED',
    lifecycle: 'active',
    startTime: T0 + 10_000,
    endTime: T0 + 15_000,
    source: {},
    params: { 'learning rate': '1e-3', batch_size: '8', model: 'BERT', モデル: 'トランスフォーマー' },
    tags: { 'mlflow.user': '', émoji: '🚀', task: 'Classification' },
    metrics: { loss: m(NaN), accuracy: m(NaN), точность: m(0.5) },
  })
  runs.push({
    id: 'live',
    name: 'live | run\nline2',
    experiment: '2',
    status: 'RUNNING',
    lifecycle: 'active',
    startTime: T0 + 9000, // ties with r9
    user: 'alice',
    source: { commit: 'cccc3333', branch: 'main', dirty: false },
    params: { model: 'GPT-4', constructor: 'ctor' },
    tags: { environment: 'Notebook', note: "it's" },
    metrics: {},
  })
  runs.push({
    id: 'old',
    name: 'old',
    experiment: '0',
    status: 'FAILED',
    lifecycle: 'deleted',
    startTime: 1_600_000_000_000,
    endTime: 1_600_000_001_000,
    user: 'alice',
    source: {},
    params: { model: 'LogisticRegression', lambda: '0.001', alpha: '0.3', batch_size: '10', 'model-type': 'linear' },
    tags: { model: 'sklearn.linear_model', type: 'LogisticRegression' },
    metrics: { loss: m(0.05), accuracy: m(0.99), error: m(0.04), '2019-04-02 error rate': m(0.5) },
  })
  return runs
}
