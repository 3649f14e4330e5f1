/** `labbook models ls|show|register|alias|promote`: the model registry on the branch (src/registry). */
import { defineCommand } from 'citty'
import type { ModelRecord, ModelVersion } from '../src/model/registry.js'
import { aliasesOf, liveVersions, parseVersionNumber } from '../src/model/registry.js'
import { searchModels } from '../src/registry/search.js'
import { usage } from './args.js'
import { resolveRunArg, withBook } from './book.js'
import { ctx } from './context.js'
import { withExamples } from './help.js'
import { colorsFor, formatAge, out, renderTable, say, toJson } from './output.js'

function table(headers: string[], rows: string[][]): string {
  const { io } = ctx()
  const c = colorsFor(io.stdout, io.env)
  return renderTable(headers.map((header) => ({ header })), rows, { width: io.stdout.isTTY ? io.stdout.columns || 100 : undefined, colors: c })
}

function versionJson(rec: ModelRecord, v: ModelVersion) {
  return { ...v, aliases: aliasesOf(rec, v) }
}

const ls = withExamples(defineCommand({
  meta: { name: 'ls', description: 'List registered models' },
  args: {
    filter: { type: 'string', description: `MLflow model filter, e.g. "name LIKE 'iris%'" or "tags.team = 'cv'"`, valueHint: 'FILTER' },
    json: { type: 'boolean', description: 'Print JSON' },
  },
  async run({ args }) {
    const { io } = ctx()
    await withBook(async (book) => {
      const { models } = searchModels(await book.models.list(), { filter: args.filter })
      if (args.json) return out(io, toJson(models.map((r) => ({ ...r.model, versions: liveVersions(r).length, latest: liveVersions(r).at(-1)?.version, aliases: Object.fromEntries(r.aliases.map((a) => [a.alias, r.versions.find((v) => v.id === a.versionId)?.version])) }))))
      if (!models.length) return say(io, 'No registered models. `labbook models register NAME RUN` registers a run\'s model.')
      io.stdout.write(table(['name', 'versions', 'latest', 'aliases', 'updated'], models.map((r) => {
        const live = liveVersions(r)
        const aliases = r.aliases.map((a) => `@${a.alias}→${r.versions.find((v) => v.id === a.versionId)?.version ?? '?'}`).join(' ')
        return [r.model.name, String(live.length), live.length ? `v${live.at(-1)!.version}` : '', aliases, formatAge(r.model.updatedAt)]
      })))
    })
  },
}), ['labbook models ls', `labbook models ls --filter "name LIKE 'iris%'" --json`])

const show = withExamples(defineCommand({
  meta: { name: 'show', description: 'Show a registered model: versions, stages, aliases, source runs' },
  args: {
    name: { type: 'positional', description: 'Registered model name', required: true, valueHint: 'NAME' },
    json: { type: 'boolean', description: 'Print JSON' },
  },
  async run({ args }) {
    const { io } = ctx()
    await withBook(async (book) => {
      const rec = await book.models.get(args.name)
      const live = liveVersions(rec)
      if (args.json) return out(io, toJson({ ...rec.model, versions: live.map((v) => versionJson(rec, v)) }))
      out(io, `${rec.model.name}${rec.model.description ? ` — ${rec.model.description}` : ''}`)
      if (!live.length) return say(io, 'No versions yet.')
      io.stdout.write(table(['version', 'stage', 'aliases', 'run', 'source', 'registered'], live.slice().reverse().map((v) => [
        `v${v.version}${v.renumberedFrom !== undefined ? ` (was ${v.renumberedFrom})` : ''}`, v.stage, aliasesOf(rec, v).map((a) => '@' + a).join(' '), v.runId ?? '', v.source, formatAge(v.createdAt),
      ])))
    })
  },
}), ['labbook models show iris', 'labbook models show iris --json'])

const register = withExamples(defineCommand({
  meta: { name: 'register', description: "Register a run's model as a new version (creates the model if needed)" },
  args: {
    name: { type: 'positional', description: 'Registered model name', required: true, valueHint: 'NAME' },
    run: { type: 'positional', description: 'Run id, id prefix or name', required: true, valueHint: 'RUN' },
    path: { type: 'string', description: "The model's folder in the run's artifacts", default: 'model', valueHint: 'PATH' },
    description: { type: 'string', description: 'Description of the version', valueHint: 'TEXT' },
    alias: { type: 'string', description: 'Also point this alias at the new version', valueHint: 'ALIAS' },
    json: { type: 'boolean', description: 'Print JSON' },
  },
  async run({ args }) {
    const { io } = ctx()
    await withBook(async (book) => {
      const run = await resolveRunArg(book, args.run)
      const path = args.path.replace(/^\/+|\/+$/g, '')
      const v = await book.models.createVersion(args.name, { source: `runs:/${run.id}/${path}`, runId: run.id, description: args.description, user: run.user, createModel: true })
      if (args.alias) await book.models.setAlias(args.name, args.alias, v.version)
      if (args.json) return out(io, toJson(v))
      say(io, `Registered ${args.name} version ${v.version} from run ${run.name || run.id} (${run.id}), models:/${args.name}/${v.version}${args.alias ? `, @${args.alias}` : ''}.`)
    })
  },
}), ['labbook models register iris 01jb2x7k', 'labbook models register iris best-run --path sklearn-model --alias champion'])

const alias = withExamples(defineCommand({
  meta: { name: 'alias', description: 'Point an alias at a version (or remove it with --delete)' },
  args: {
    name: { type: 'positional', description: 'Registered model name', required: true, valueHint: 'NAME' },
    alias: { type: 'positional', description: 'Alias, e.g. champion', required: true, valueHint: 'ALIAS' },
    version: { type: 'positional', description: 'Version number (not needed with --delete)', required: false, valueHint: 'VERSION' },
    delete: { type: 'boolean', description: 'Remove the alias' },
  },
  async run({ args }) {
    const { io } = ctx()
    await withBook(async (book) => {
      if (args.delete) {
        await book.models.deleteAlias(args.name, args.alias)
        return say(io, `Removed ${args.name}@${args.alias}.`)
      }
      if (!args.version) throw usage('A version is needed: `labbook models alias NAME ALIAS VERSION`.', 'Or pass --delete to remove the alias.')
      const v = await book.models.setAlias(args.name, args.alias, parseVersionNumber(String(args.version).replace(/^v/, '')))
      say(io, `${args.name}@${args.alias} → version ${v.version}.`)
    })
  },
}), ['labbook models alias iris champion 3', 'labbook models alias iris champion --delete'])

const promote = withExamples(defineCommand({
  meta: { name: 'promote', description: 'Move a version to a stage (None, Staging, Production, Archived)' },
  args: {
    name: { type: 'positional', description: 'Registered model name', required: true, valueHint: 'NAME' },
    version: { type: 'positional', description: 'Version number', required: true, valueHint: 'VERSION' },
    stage: { type: 'positional', description: 'Stage', required: true, valueHint: 'STAGE' },
    'archive-existing': { type: 'boolean', description: 'Archive the versions now in that stage' },
  },
  async run({ args }) {
    const { io } = ctx()
    await withBook(async (book) => {
      const v = await book.models.transitionStage(args.name, parseVersionNumber(String(args.version).replace(/^v/, '')), args.stage, args['archive-existing'] === true)
      say(io, `${args.name} version ${v.version} is now in ${v.stage}.`)
    })
  },
}), ['labbook models promote iris 3 Production --archive-existing'])

export default withExamples(defineCommand({
  meta: { name: 'models', description: 'The model registry on the branch: registered models, versions, aliases, stages' },
  subCommands: { ls, show, register, alias, promote },
}), ['labbook models ls', 'labbook models register iris RUN --alias champion', 'labbook models show iris', 'git log --format="%an %ar: %s" labbook -- models   # who promoted what, when'])
