// Datasets as MLflow models them: log-inputs stores them in run.yaml (not an artifact), runs/get and runs/search return
// them, datasets.name / digest / context filter on them; the library API and recovery keep them.
import { describe, expect, it } from 'vitest'
import { searchRuns } from '../../src/index.js'
import { decodeRun, encodeRun } from '../../src/format/yaml.js'
import { fsck } from '../helpers/git-repo.js'
import { servedRepo } from './served.js'

const t = servedRepo()

// mlflow.log_input(mlflow.data.from_pandas(df, source="data/iris.csv", name="iris"), context="training") in 2.12.2
const input = (name: string, digest: string, context: string) => ({
  tags: [{ key: 'mlflow.data.context', value: context }],
  dataset: {
    name, digest, source_type: 'local', source: JSON.stringify({ uri: `data/${name}.csv` }),
    schema: JSON.stringify({ mlflow_colspec: [{ type: 'double', name: 'sepal length (cm)' }] }),
    profile: JSON.stringify({ num_rows: 150, num_elements: 600 }),
  },
})

describe('datasets', () => {
  it('round-trips through log-inputs, runs/get, runs/search and the branch', async () => {
    const a = (await t.call('POST', 'runs/create', { experiment_id: '0', run_name: 'a' })).json.run.info.run_id
    const b = (await t.call('POST', 'runs/create', { experiment_id: '0', run_name: 'b' })).json.run.info.run_id
    expect((await t.call('POST', 'runs/log-inputs', { run_id: a, datasets: [input('iris', 'd1e5a2', 'training'), input('iris-eval', 'e9f0c3', 'eval')] })).status).toBe(200)
    expect((await t.call('POST', 'runs/log-inputs', { run_id: b, datasets: [input('wine', 'ab12cd', 'training')] })).status).toBe(200)
    const got = (await t.call('GET', 'runs/get', { run_id: a })).json.run
    expect(got.inputs.dataset_inputs).toEqual([input('iris', 'd1e5a2', 'training'), input('iris-eval', 'e9f0c3', 'eval')])
    const names = async (filter: string) => (await t.call('POST', 'runs/search', { experiment_ids: ['0'], filter })).json.runs?.map((r: any) => r.info.run_name).sort() ?? []
    expect(await names("datasets.name = 'iris'")).toEqual(['a'])
    expect(await names("datasets.digest = 'ab12cd'")).toEqual(['b'])
    expect(await names("datasets.context = 'training'")).toEqual(['a', 'b'])
    expect(await names("datasets.context = 'eval' AND datasets.name LIKE 'iris%'")).toEqual(['a'])
    expect(await names("datasets.name IN ('wine', 'nope')")).toEqual(['b'])
    const search = (await t.call('POST', 'runs/search', { experiment_ids: ['0'], filter: "datasets.name = 'wine'" })).json.runs[0]
    expect(search.inputs.dataset_inputs[0].dataset).toMatchObject({ name: 'wine', digest: 'ab12cd', source_type: 'local' })
    // bad input is an MLflow error, and nothing is written
    expect((await t.call('POST', 'runs/log-inputs', { run_id: a, datasets: [{ dataset: { name: 'x' } }] })).json.error_code).toBe('INVALID_PARAMETER_VALUE')
    await t.call('POST', 'runs/update', { run_id: a, status: 'FINISHED', end_time: Date.now() })
    const onBranch = await t.book.getRun(a)
    expect(onBranch.datasets?.map((d) => [d.name, d.context])).toEqual([['iris', 'training'], ['iris-eval', 'eval']])
    expect((await t.book.listArtifacts(a)).map((x) => x.path)).toEqual([]) // not an mlflow/inputs.json artifact
    expect(t.repo.git('show', `labbook:${t.repo.git('ls-tree', '-r', '--name-only', 'labbook').split('\n').find((p) => p.includes(a) && p.endsWith('run.yaml'))}`)).toContain('iris@d1e5a2: {')
    fsck(t.repo)
  })

  it('the library logs them, search filters them, and run.yaml round-trips them', async () => {
    const run = await t.book.startRun({ name: 'lib' })
    run.logInputs([{ name: 'mnist', digest: '0f0f', sourceType: 'http', source: 'https://example.org/mnist.npz', context: 'training' }])
    run.logInputs([{ name: 'mnist', digest: '0f0f', sourceType: 'http', source: 'https://example.org/mnist.npz', context: 'eval' }]) // same dataset: replaced
    await run.end()
    const r = await t.book.getRun(run.id)
    expect(r.datasets).toEqual([{ name: 'mnist', digest: '0f0f', sourceType: 'http', source: 'https://example.org/mnist.npz', context: 'eval' }])
    expect(decodeRun(encodeRun(r))).toEqual(r)
    expect((await t.book.listRuns()).find((x) => x.id === run.id)?.datasets).toEqual(r.datasets) // through the summary index
    expect(searchRuns([r], "datasets.context = 'eval'")).toHaveLength(1)
    expect(searchRuns([r], "datasets.context = 'training'")).toHaveLength(0)
    expect(() => run.logInputs([{ name: 'x', digest: '1', sourceType: '', source: '' }])).toThrow()
  })
})
