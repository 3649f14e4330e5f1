import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { defineCommand } from 'citty'
import { importMlruns } from '../src/import/index.js'
import { usage } from './args.js'
import { withBook } from './book.js'
import { ctx, setExit } from './context.js'
import { withExamples } from './help.js'
import { out, say, toJson } from './output.js'
import { progress } from './progress.js'

const mlruns = withExamples(defineCommand({
  meta: { name: 'mlruns', description: "Import an MLflow file store (mlruns/): experiments, runs, params, tags, metric histories, artifacts" },
  args: {
    path: { type: 'positional', description: 'The mlruns folder', required: true, valueHint: 'PATH' },
    experiment: { type: 'string', alias: 'e', description: 'Import only this experiment (name or MLflow id)', valueHint: 'NAME' },
    json: { type: 'boolean', description: 'Print the result as JSON' },
  },
  async run({ args }) {
    const { io } = ctx()
    const root = resolve(io.cwd, String(args.path))
    if (!existsSync(root) || !statSync(root).isDirectory()) throw usage(`No folder at ${root}.`, 'Give the path of an MLflow file store (the folder holding meta.yaml-bearing experiment folders, usually ./mlruns).')
    const bar = progress(io, 'importing')
    const res = await withBook((book) => importMlruns(book, root, { experiment: args.experiment, onProgress: (d, t) => bar.update(d, t) }))
    bar.done()
    if (args.json) out(io, toJson(res))
    else {
      say(io, `Imported ${res.imported} runs (${res.metricPoints} metric points, ${res.artifacts} artifacts) from ${res.experiments} experiments; ${res.skipped} already there${res.failed ? `, ${res.failed} failed` : ''}.`)
      for (const p of res.problems) say(io, `problem: ${p.path}: ${p.message}`)
    }
    if (res.failed > 0) setExit(1)
  },
}), [
  'labbook import mlruns ./mlruns',
  'labbook import mlruns /data/mlruns --experiment iris_classification',
])

export default defineCommand({
  meta: { name: 'import', description: "Import runs from another tracker's store" },
  subCommands: { mlruns },
})
