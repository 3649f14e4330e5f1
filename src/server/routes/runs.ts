import { DEFAULT_EXPERIMENT_ID } from '../../model/experiment.js'
import { keyed, type RunSummary } from '../../model/run.js'
import { datasetIn } from '../protocol.js'
import { validateRunName } from '../../model/validate.js'
import type { RunWriter, StartRunOptions } from '../book.js'
import type { ServerContext } from '../context.js'
import { invalid, notFound } from '../errors.js'
import {
  GIT_COMMIT_TAG, NOTE_TAG, PARENT_TAG, RUN_NAME_TAG, USER_TAG,
  decodePageToken, encodePageToken, matchesView, maxResults, parseRunStatus, parseViewType, runInfoToJson, runToJson,
} from '../protocol.js'
import type { Route } from '../router.js'
import { searchRunSummaries } from '../run-search.js'
import { MAX_BATCH_REQUEST_BYTES, batchLimits, metricIn, paramIn, tagIn, uniqueParamKeys, type KV } from '../validate.js'

function runId(fields: { requiredStr(n: string, ...a: string[]): string }): string {
  return fields.requiredStr('run_id', 'run_uuid')
}

/** Tags MLflow keeps as tags that are fields of a labbook run are applied as fields. */
function applyTag(w: RunWriter, t: KV): void {
  if (t.key === RUN_NAME_TAG) {
    validateRunName(t.value)
    w.setName(t.value)
  } else if (t.key === NOTE_TAG) w.setDescription(t.value)
  else w.setTag(t.key, t.value)
}

export const runRoutes: Route[] = [
  {
    method: 'POST',
    path: 'runs/create',
    async handler({ fields, ctx }) {
      const experimentId = fields.str('experiment_id') || DEFAULT_EXPERIMENT_ID
      const tags = keyed<string>()
      for (const t of fields.list('tags').map((x) => tagIn(ctx, x))) tags[t.key] = t.value
      const exp = await ctx.experiment(experimentId)
      if (exp.lifecycle !== 'active') {
        throw invalid(`The experiment ${experimentId} must be in the 'active' state. Current state is ${exp.lifecycle}.`)
      }
      const o: StartRunOptions = { experiment: exp.name, startTime: fields.int('start_time') ?? Date.now() }
      const name = fields.str('run_name') || tags[RUN_NAME_TAG]
      if (name) {
        validateRunName(name)
        o.name = name
      }
      // Nothing the client did not send: no user of ours, no HEAD or diff of the served repository (unless --link-head)
      o.user = fields.str('user_id') || tags[USER_TAG] || null
      if (tags[PARENT_TAG]) o.parent = tags[PARENT_TAG]
      if (tags[NOTE_TAG] !== undefined) o.description = tags[NOTE_TAG]
      if (tags[GIT_COMMIT_TAG]) o.source = { commit: tags[GIT_COMMIT_TAG] }
      else if (ctx.options.defaultSource) o.source = { ...ctx.options.defaultSource }
      else if (!ctx.linkHead) o.source = {}
      for (const k of [RUN_NAME_TAG, USER_TAG, PARENT_TAG, NOTE_TAG]) delete tags[k]
      o.tags = tags
      o.resumable = ctx.resumesRuns // in its journal's owner record from the start (adopt() then has nothing to rewrite)
      const run = await ctx.book.startRun(o)
      ctx.adopt(run)
      // answered once the run's journal is on disk; its branch commit follows, grouped with others (group-commit.ts)
      await run.durable()
      return { run: runToJson(run.summary()) }
    },
  },
  {
    method: 'GET',
    path: 'runs/get',
    async handler({ fields, ctx }) {
      const id = runId(fields)
      // A held run (labbook run's) joins the experiment the script selected: MLflow's start_run refuses a run in another
      const last = ctx.lastExperiment
      if (ctx.held(id) && last !== undefined) {
        const w = await ctx.writer(id)
        if (w.experimentId !== last) w.moveToExperiment(last)
      }
      return { run: runToJson(await ctx.run(id)) }
    },
  },
  {
    method: 'POST',
    path: 'runs/update',
    async handler({ fields, ctx }) {
      const id = runId(fields)
      const status = fields.has('status') ? parseRunStatus(fields.raw('status')) : undefined
      const endTime = fields.int('end_time')
      const name = fields.str('run_name')
      if (name) validateRunName(name)
      await ctx.run(id)
      const w = await ctx.writer(id)
      if (name) w.setName(name)
      if (status === 'RUNNING') w.resume()
      if (!status || status === 'RUNNING') await w.durable()
      const held = ctx.held(id)
      if (held && status && status !== 'RUNNING') {
        // its owner (labbook run) ends it when the command exits, with this status if it is not FINISHED
        const end = endTime ?? Date.now()
        held.onEnd(status, end)
        return { run_info: runInfoToJson({ ...w.summary(), status, endTime: end }) }
      }
      if (status && status !== 'RUNNING') {
        await w.end(status, { endTime: endTime ?? Date.now() })
        ctx.forget(id)
        return { run_info: runInfoToJson(await ctx.book.getRun(id)) }
      }
      return { run_info: runInfoToJson(w.summary()) }
    },
  },
  {
    method: 'POST',
    path: 'runs/delete',
    async handler({ fields, ctx }) {
      const id = runId(fields)
      await ctx.run(id)
      await ctx.book.deleteRun(id)
      ctx.markDeleted(id, true)
      return {}
    },
  },
  {
    method: 'POST',
    path: 'runs/restore',
    async handler({ fields, ctx }) {
      const id = runId(fields)
      await ctx.run(id)
      await ctx.book.restoreRun(id)
      ctx.markDeleted(id, false)
      return {}
    },
  },
  {
    method: 'POST',
    path: 'runs/log-metric',
    async handler({ fields, ctx }) {
      const id = runId(fields)
      const m = metricIn({ key: fields.raw('key'), value: fields.raw('value'), timestamp: fields.raw('timestamp'), step: fields.raw('step') }, Date.now())
      const w = await ctx.writer(id)
      w.logMetric(m.key, m.value, { step: m.step, timestamp: m.timestamp })
      await w.durable() // answer only what survives a kill
      return {}
    },
  },
  {
    method: 'POST',
    path: 'runs/log-parameter',
    async handler({ fields, ctx }) {
      const id = runId(fields)
      const p = paramIn(ctx, { key: fields.raw('key'), value: fields.raw('value') })
      const w = await ctx.writer(id)
      w.logParam(p.key, p.value)
      await w.durable()
      return {}
    },
  },
  {
    method: 'POST',
    path: 'runs/set-tag',
    async handler({ fields, ctx }) {
      const id = runId(fields)
      const t = tagIn(ctx, { key: fields.raw('key'), value: fields.raw('value') })
      const w = await ctx.writer(id)
      applyTag(w, t)
      await w.durable()
      return {}
    },
  },
  {
    method: 'POST',
    path: 'runs/delete-tag',
    async handler({ fields, ctx }) {
      const id = runId(fields)
      const key = fields.requiredStr('key')
      const run = await ctx.run(id)
      if (!Object.hasOwn(run.tags, key)) throw notFound(`No tag with name: ${key} in run with id ${id}`)
      const w = await ctx.writer(id)
      w.deleteTag(key)
      await w.durable()
      return {}
    },
  },
  {
    method: 'POST',
    path: 'runs/log-batch',
    async handler({ fields, ctx, bodyBytes }) {
      if (bodyBytes > MAX_BATCH_REQUEST_BYTES) {
        throw invalid(`Batched logging API requests must be at most ${MAX_BATCH_REQUEST_BYTES} bytes, got a request of size ${bodyBytes}.`)
      }
      const id = runId(fields)
      const rawMetrics = fields.list('metrics'), rawParams = fields.list('params'), rawTags = fields.list('tags')
      batchLimits(rawMetrics.length, rawParams.length, rawTags.length)
      // validate everything before writing anything, so a bad entry never leaves half a batch behind
      const now = Date.now()
      const metrics = rawMetrics.map((m) => metricIn(m, now))
      const params = rawParams.map((p) => paramIn(ctx, p))
      uniqueParamKeys(params)
      const tags = rawTags.map((t) => tagIn(ctx, t))
      const w = await ctx.writer(id)
      for (const p of params) w.logParam(p.key, p.value)
      for (const m of metrics) w.logMetric(m.key, m.value, { step: m.step, timestamp: m.timestamp })
      for (const t of tags) applyTag(w, t)
      await w.durable() // one fdatasync for the whole batch, shared with concurrent requests
      return {}
    },
  },
  {
    method: 'POST',
    path: 'runs/log-model',
    async handler({ fields, ctx }) {
      const id = runId(fields)
      const modelJson = fields.requiredStr('model_json')
      let model: unknown
      try {
        model = JSON.parse(modelJson)
      } catch {
        throw invalid(`Invalid value for 'model_json': it is not valid JSON.`)
      }
      if (!model || typeof model !== 'object' || Array.isArray(model)) throw invalid(`Invalid value for 'model_json': expected a JSON object.`)
      const run = await ctx.run(id)
      const key = 'mlflow.log-model.history'
      let history: unknown[] = []
      try {
        const prev = JSON.parse(run.tags[key] ?? '[]') as unknown
        if (Array.isArray(prev)) history = prev
      } catch {
        // an unreadable history is replaced
      }
      history.push(model)
      const w = await ctx.writer(id)
      w.setTag(key, JSON.stringify(history))
      await w.durable()
      return {}
    },
  },
  {
    method: 'POST',
    path: 'runs/log-inputs',
    async handler({ fields, ctx }) {
      const id = runId(fields)
      const datasets = fields.list('datasets').map(datasetIn)
      if (datasets.length) (await ctx.writer(id)).logInputs(datasets)
      return {}
    },
  },
  {
    method: 'POST',
    path: 'runs/search',
    async handler({ fields, ctx }) {
      const experimentIds = fields.strList('experiment_ids')
      const view = parseViewType(fields.raw('run_view_type'))
      // MLflow answers max_results=0 and unknown experiment ids with an empty page, not an error
      const limit = maxResults(fields, 'max_results', 1000, 50_000, 0)
      const offset = decodePageToken(fields.str('page_token'))
      const byId = new Map<string, RunSummary>()
      const includeDeleted = view !== 'ACTIVE_ONLY'
      const wanted = new Set(experimentIds)
      for (const r of await ctx.book.listRuns({ includeDeleted })) if (!wanted.size || wanted.has(r.experiment)) byId.set(r.id, r)
      // runs open in this process: their live state, including points not yet on the branch
      for (const id of ctx.openRunIds()) {
        const w = await ctx.openWriter(id)
        if (w && (!wanted.size || wanted.has(w.experimentId))) byId.set(id, w.summary())
      }
      const runs = [...byId.values()].filter((r) => matchesView(r.lifecycle, view))
      const names = keyed<string>()
      for (const e of await ctx.book.listExperiments({ includeDeleted: true })) names[e.id] = e.name
      const { runs: page, total } = searchRunSummaries(runs, fields.str('filter'), fields.strList('order_by'), limit, offset, names)
      const out: Record<string, unknown> = { runs: page.map(runToJson) }
      if (limit > 0 && offset + page.length < total) out.next_page_token = encodePageToken(offset + page.length)
      return out
    },
  },
]

/** Read-modify-write of a JSON array artifact (MLflow's dataset inputs and model outputs have no place of their own). */
export async function appendJsonArtifact(ctx: ServerContext, runId: string, path: string, items: unknown[]): Promise<void> {
  let prev: unknown[] = []
  try {
    const parsed = JSON.parse(new TextDecoder().decode(await ctx.book.readArtifact(runId, path))) as unknown
    if (Array.isArray(parsed)) prev = parsed
  } catch {
    // no file yet
  }
  await (await ctx.writer(runId)).logBytes(path, JSON.stringify([...prev, ...items], null, 2) + '\n')
}
