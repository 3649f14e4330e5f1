/**
 * MLflow 3's logged models, stored with their run: the model record is the run artifact
 * `mlflow/models/<model_id>.json`, its files live under `models/<model_id>/`, and the run's tag
 * `mlflow.loggedModelIds` lists its models. A model id embeds its run id (`m-<run>-<suffix>`), so any
 * model is found again without an index. A model logged outside any run gets a run of its own.
 */
import { randomBytes } from 'node:crypto'
import { LabbookError } from '../../errors.js'
import type { ServerContext } from '../context.js'
import { invalid, notFound } from '../errors.js'
import { decodePageToken, encodePageToken, maxResults, type KeyValue } from '../protocol.js'
import type { Route } from '../router.js'
import { paramIn, tagIn } from '../validate.js'
import { appendJsonArtifact } from './runs.js'
import { compileModelFilter } from '../model-filter.js'
import { artifactPath } from '../../model/path.js'
import { listChildren } from './artifacts.js'

export const MODEL_FILES_DIR = 'models'
const MODEL_TAG = 'mlflow.loggedModelIds'
const STATUSES = ['LOGGED_MODEL_STATUS_UNSPECIFIED', 'LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED']

export interface LoggedModel {
  info: {
    model_id: string
    experiment_id: string
    name: string
    creation_timestamp_ms: number
    last_updated_timestamp_ms: number
    artifact_uri: string
    status: string
    status_message?: string
    model_type?: string
    source_run_id: string
    tags: KeyValue[]
  }
  data: { params: KeyValue[]; metrics: unknown[] }
  deleted?: boolean
}

/** The run a model id belongs to; throws 404-shaped errors for ids we did not make. */
export function modelRunId(modelId: string): string {
  const m = /^m-([a-zA-Z0-9]+)-[a-f0-9]{8}$/.exec(modelId)
  if (!m) throw notFound(`Logged model with ID '${modelId}' not found.`)
  return m[1]!
}

function recordPath(modelId: string): string {
  return `mlflow/models/${modelId}.json`
}

async function load(ctx: ServerContext, modelId: string): Promise<LoggedModel> {
  const runId = modelRunId(modelId)
  try {
    const m = JSON.parse(new TextDecoder().decode(await ctx.book.readArtifact(runId, recordPath(modelId)))) as LoggedModel
    if (m.deleted) throw notFound(`Logged model with ID '${modelId}' not found.`)
    return m
  } catch (e) {
    if (e instanceof LabbookError || e instanceof SyntaxError) throw notFound(`Logged model with ID '${modelId}' not found.`)
    throw e
  }
}

async function save(ctx: ServerContext, m: LoggedModel): Promise<void> {
  m.info.last_updated_timestamp_ms = Date.now()
  await (await ctx.writer(m.info.source_run_id)).logBytes(recordPath(m.info.model_id), JSON.stringify(m, null, 2) + '\n')
}

function upsert(list: KeyValue[], items: KeyValue[]): void {
  for (const it of items) {
    const i = list.findIndex((x) => x.key === it.key)
    if (i >= 0) list[i] = it
    else list.push(it)
  }
}

function randomName(): string {
  return `model-${randomBytes(3).toString('hex')}`
}

export const modelRoutes: Route[] = [
  {
    method: 'POST',
    path: 'logged-models',
    async handler({ fields, ctx }) {
      const experimentId = fields.requiredStr('experiment_id')
      const exp = await ctx.experiment(experimentId)
      const name = fields.str('name') || randomName()
      const params = fields.list('params').map((p) => paramIn(ctx, p))
      const tags = fields.list('tags').map((t) => tagIn(ctx, t))
      let runId = fields.str('source_run_id')
      if (runId) {
        const run = await ctx.run(runId)
        if (run.experiment !== experimentId) throw invalid(`Run '${runId}' is not in experiment '${experimentId}'.`)
      } else {
        const run = await ctx.book.startRun({ experiment: exp.name, name: `model ${name}` })
        ctx.adopt(run)
        runId = run.id
      }
      const modelId = `m-${runId}-${randomBytes(4).toString('hex')}`
      const now = Date.now()
      const model: LoggedModel = {
        info: {
          model_id: modelId, experiment_id: experimentId, name, creation_timestamp_ms: now, last_updated_timestamp_ms: now,
          artifact_uri: `mlflow-artifacts:/${experimentId}/models/${modelId}/artifacts`, status: 'LOGGED_MODEL_PENDING',
          source_run_id: runId, tags,
          ...(fields.str('model_type') ? { model_type: fields.str('model_type') } : {}),
        },
        data: { params, metrics: [] },
      }
      await save(ctx, model)
      const w = await ctx.writer(runId)
      const ids = (w.summary().tags[MODEL_TAG] ?? '').split(' ').filter(Boolean)
      w.setTag(MODEL_TAG, [...ids, modelId].join(' '))
      await w.durable()
      return { model }
    },
  },
  {
    method: 'POST',
    path: 'logged-models/search',
    async handler({ fields, ctx }) {
      const experimentIds = fields.strList('experiment_ids')
      const filter = fields.str('filter')
      const matches = filter ? compileModelFilter(filter) : () => true
      const limit = maxResults(fields, 'max_results', 100, 50_000)
      const offset = decodePageToken(fields.str('page_token'))
      const ids: string[] = []
      const lists = experimentIds.length ? await Promise.all(experimentIds.map((e) => ctx.book.listRuns({ experiment: e }))) : [await ctx.book.listRuns()]
      // Runs open in this process: their live tags (a model just logged is not committed yet), not the branch's.
      const open = new Set(ctx.openRunIds())
      for (const list of lists) for (const r of list) {
        if (!open.has(r.id)) ids.push(...(r.tags[MODEL_TAG] ?? '').split(' ').filter(Boolean))
      }
      for (const id of open) {
        const w = await ctx.openWriter(id)
        if (!w || (experimentIds.length && !experimentIds.includes(w.experimentId))) continue
        ids.push(...(w.summary().tags[MODEL_TAG] ?? '').split(' ').filter(Boolean))
      }
      const models: LoggedModel[] = []
      for (const id of ids) {
        try {
          models.push(await load(ctx, id))
        } catch {
          // deleted or unreadable: not listed
        }
      }
      const found = models.filter(matches)
      found.sort((a, b) => b.info.creation_timestamp_ms - a.info.creation_timestamp_ms)
      const out: Record<string, unknown> = { models: found.slice(offset, offset + limit) }
      if (offset + limit < found.length) out.next_page_token = encodePageToken(offset + limit)
      return out
    },
  },
  {
    // The MLflow UI's file browser for a model: paths relative to the model's artifact root.
    method: 'GET',
    path: 'logged-models/{model_id}/artifacts/directories',
    async handler({ params, fields, ctx }) {
      const modelId = params.model_id!
      const runId = modelRunId(modelId)
      await load(ctx, modelId)
      const root = `${MODEL_FILES_DIR}/${modelId}`
      const sub = artifactPath(fields.str('artifact_directory_path') ?? '', { allowRoot: true })
      const files = await listChildren(ctx, runId, sub ? `${root}/${sub}` : root, true)
      return { files: files.map((f) => ({ ...f, path: f.path.slice(root.length + 1) })) }
    },
  },
  {
    method: 'GET',
    path: 'logged-models/{model_id}',
    async handler({ params, ctx }) {
      return { model: await load(ctx, params.model_id!) }
    },
  },
  {
    method: 'PATCH',
    path: 'logged-models/{model_id}',
    async handler({ params, fields, ctx }) {
      const model = await load(ctx, params.model_id!)
      const raw = fields.raw('status')
      const status = typeof raw === 'number' ? STATUSES[raw] : raw
      if (typeof status !== 'string' || !STATUSES.includes(status)) throw invalid(`Invalid value ${JSON.stringify(raw)} for parameter 'status'.`)
      model.info.status = status
      await save(ctx, model)
      return { model }
    },
  },
  {
    method: 'DELETE',
    path: 'logged-models/{model_id}',
    async handler({ params, ctx }) {
      const model = await load(ctx, params.model_id!)
      model.deleted = true
      await save(ctx, model)
      return {}
    },
  },
  {
    method: 'PATCH',
    path: 'logged-models/{model_id}/tags',
    async handler({ params, fields, ctx }) {
      const model = await load(ctx, params.model_id!)
      upsert(model.info.tags, fields.list('tags').map((t) => tagIn(ctx, t)))
      await save(ctx, model)
      return {}
    },
  },
  {
    method: 'DELETE',
    path: 'logged-models/{model_id}/tags/{tag_key}',
    async handler({ params, ctx }) {
      const model = await load(ctx, params.model_id!)
      model.info.tags = model.info.tags.filter((t) => t.key !== params.tag_key)
      await save(ctx, model)
      return {}
    },
  },
  {
    method: 'POST',
    path: 'logged-models/{model_id}/params',
    async handler({ params, fields, ctx }) {
      const model = await load(ctx, params.model_id!)
      upsert(model.data.params, fields.list('params').map((p) => paramIn(ctx, p)))
      await save(ctx, model)
      return {}
    },
  },
  {
    method: 'POST',
    path: 'runs/outputs',
    async handler({ fields, ctx }) {
      const runId = fields.requiredStr('run_id')
      const models = fields.list('models')
      await ctx.run(runId)
      for (const m of models) {
        const id = (m as { model_id?: unknown } | null)?.model_id
        if (typeof id !== 'string') throw invalid(`Invalid model output ${JSON.stringify(m)}: expected {model_id, step}.`)
        await load(ctx, id)
      }
      if (models.length) await appendJsonArtifact(ctx, runId, 'mlflow/outputs.json', models)
      return {}
    },
  },
]
