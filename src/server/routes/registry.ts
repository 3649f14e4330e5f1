/**
 * MLflow's model registry REST API (model_registry.proto, 2.x; MLflow 3 clients call the same endpoints, adding
 * `model_id` to model-versions/create) over the registry on the branch (src/registry).
 */
import type { ModelRecord, ModelVersion } from '../../model/registry.js'
import { aliasesOf, parseVersionNumber } from '../../model/registry.js'
import { keyed } from '../../model/run.js'
import { findVersion, latestVersions } from '../../registry/registry.js'
import { searchModels, searchVersions } from '../../registry/search.js'
import type { ServerContext } from '../context.js'
import { decodePageToken, encodePageToken, maxResults, runArtifactUri, type Fields, type KeyValue } from '../protocol.js'
import type { Route } from '../router.js'
import { tagIn } from '../validate.js'
import { modelRunId } from './models.js'

function kv(tags: Record<string, string>): KeyValue[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }))
}

export function versionToJson(v: ModelVersion, rec?: ModelRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: v.model, version: String(v.version), creation_timestamp: v.createdAt, last_updated_timestamp: v.updatedAt,
    current_stage: v.stage, description: v.description ?? '', source: v.source, status: v.status, tags: kv(v.tags),
    aliases: rec ? aliasesOf(rec, v) : [],
  }
  if (v.user !== undefined) out.user_id = v.user
  if (v.runId !== undefined) out.run_id = v.runId
  if (v.runLink !== undefined) out.run_link = v.runLink
  if (v.modelId !== undefined) out.model_id = v.modelId
  return out
}

export function modelToJson(rec: ModelRecord): Record<string, unknown> {
  const byId = new Map(rec.versions.map((v) => [v.id, v]))
  const out: Record<string, unknown> = {
    name: rec.model.name, creation_timestamp: rec.model.createdAt, last_updated_timestamp: rec.model.updatedAt,
    latest_versions: latestVersions(rec).map((v) => versionToJson(v, rec)),
    tags: kv(rec.model.tags),
    aliases: rec.aliases.flatMap((a) => {
      const v = byId.get(a.versionId)
      return v && !v.deleted ? [{ alias: a.alias, version: String(v.version) }] : []
    }),
  }
  if (rec.model.description !== undefined) out.description = rec.model.description
  return out
}

function name(f: Fields): string {
  return f.requiredStr('name')
}

function version(f: Fields): number {
  return parseVersionNumber(f.requiredStr('version'))
}

function tags(ctx: ServerContext, f: Fields): Record<string, string> {
  const out = keyed<string>()
  for (const t of f.list('tags').map((x) => tagIn(ctx, x))) out[t.key] = t.value
  return out
}

/** Where a version's files can be downloaded through this server's artifact proxy (`get-download-uri`). */
export async function downloadUri(ctx: ServerContext, v: ModelVersion): Promise<string> {
  const runs = /^runs:\/([^/]+)\/?(.*)$/.exec(v.source)
  if (runs) {
    const run = await ctx.run(runs[1]!)
    const path = runs[2]!.replace(/\/+$/, '')
    return path ? `${runArtifactUri(run.experiment, run.id)}/${path}` : runArtifactUri(run.experiment, run.id)
  }
  const logged = /^models:\/(m-[^/]+)$/.exec(v.source)
  if (logged) {
    const run = await ctx.run(modelRunId(logged[1]!))
    return `mlflow-artifacts:/${run.experiment}/models/${logged[1]}/artifacts`
  }
  return v.source
}

async function record(ctx: ServerContext, n: string): Promise<ModelRecord> {
  return ctx.book.models.get(n)
}

function paged<T>(items: T[], total: number, offset: number, limit: number, key: string, toJson: (x: T) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { [key]: items.map(toJson) }
  if (limit > 0 && offset + items.length < total) out.next_page_token = encodePageToken(offset + items.length)
  return out
}

export const registryRoutes: Route[] = [
  {
    method: 'POST', path: 'registered-models/create',
    async handler({ fields, ctx }) {
      const rec = await ctx.book.models.createModel(name(fields), { description: fields.str('description'), tags: tags(ctx, fields) })
      return { registered_model: modelToJson(rec) }
    },
  },
  {
    method: 'GET', path: 'registered-models/get',
    async handler({ fields, ctx }) {
      return { registered_model: modelToJson(await record(ctx, name(fields))) }
    },
  },
  {
    method: 'POST', path: 'registered-models/rename',
    async handler({ fields, ctx }) {
      const newName = fields.requiredStr('new_name')
      await ctx.book.models.renameModel(name(fields), newName)
      return { registered_model: modelToJson(await record(ctx, newName)) }
    },
  },
  {
    method: 'PATCH', path: 'registered-models/update',
    async handler({ fields, ctx }) {
      const n = name(fields)
      await ctx.book.models.updateModel(n, { description: fields.str('description') })
      return { registered_model: modelToJson(await record(ctx, n)) }
    },
  },
  {
    method: 'DELETE', path: 'registered-models/delete',
    async handler({ fields, ctx }) {
      await ctx.book.models.deleteModel(name(fields))
      return {}
    },
  },
  ...(['GET', 'POST'] as const).map((method): Route => ({
    method, path: 'registered-models/search',
    async handler({ fields, ctx }) {
      const limit = maxResults(fields, 'max_results', 100, 1000)
      const offset = decodePageToken(fields.str('page_token'))
      const { models, total } = searchModels(await ctx.book.models.list(), { filter: fields.str('filter'), orderBy: fields.strList('order_by'), limit, offset })
      return paged(models, total, offset, limit, 'registered_models', modelToJson)
    },
  })),
  ...(['GET', 'POST'] as const).map((method): Route => ({
    method, path: 'registered-models/get-latest-versions',
    async handler({ fields, ctx }) {
      const rec = await record(ctx, name(fields))
      return { model_versions: latestVersions(rec, fields.strList('stages')).map((v) => versionToJson(v, rec)) }
    },
  })),
  {
    method: 'POST', path: 'registered-models/set-tag',
    async handler({ fields, ctx }) {
      const t = tagIn(ctx, { key: fields.raw('key'), value: fields.raw('value') })
      await ctx.book.models.setModelTag(name(fields), t.key, t.value)
      return {}
    },
  },
  {
    method: 'DELETE', path: 'registered-models/delete-tag',
    async handler({ fields, ctx }) {
      await ctx.book.models.deleteModelTag(name(fields), fields.requiredStr('key'))
      return {}
    },
  },
  {
    method: 'POST', path: 'registered-models/alias',
    async handler({ fields, ctx }) {
      await ctx.book.models.setAlias(name(fields), fields.requiredStr('alias'), version(fields))
      return {}
    },
  },
  {
    method: 'DELETE', path: 'registered-models/alias',
    async handler({ fields, ctx }) {
      await ctx.book.models.deleteAlias(name(fields), fields.requiredStr('alias'))
      return {}
    },
  },
  {
    method: 'GET', path: 'registered-models/alias',
    async handler({ fields, ctx }) {
      const rec = await record(ctx, name(fields))
      return { model_version: versionToJson(findVersion(rec, '@' + fields.requiredStr('alias')), rec) }
    },
  },
  {
    method: 'POST', path: 'model-versions/create',
    async handler({ fields, ctx }) {
      const n = name(fields)
      const source = fields.requiredStr('source')
      const runId = fields.str('run_id') || undefined
      if (runId) await ctx.run(runId) // MLflow checks the run exists
      const v = await ctx.book.models.createVersion(n, {
        source, runId, runLink: fields.str('run_link') || undefined, modelId: fields.str('model_id') || undefined,
        description: fields.str('description') || undefined, tags: tags(ctx, fields),
        user: runId ? (await ctx.run(runId)).user : undefined,
      })
      return { model_version: versionToJson(v, await record(ctx, n)) }
    },
  },
  {
    method: 'GET', path: 'model-versions/get',
    async handler({ fields, ctx }) {
      const rec = await record(ctx, name(fields))
      return { model_version: versionToJson(findVersion(rec, version(fields)), rec) }
    },
  },
  {
    method: 'PATCH', path: 'model-versions/update',
    async handler({ fields, ctx }) {
      const n = name(fields)
      const v = await ctx.book.models.updateVersion(n, version(fields), { description: fields.str('description') })
      return { model_version: versionToJson(v, await record(ctx, n)) }
    },
  },
  {
    method: 'POST', path: 'model-versions/transition-stage',
    async handler({ fields, ctx }) {
      const n = name(fields)
      const v = await ctx.book.models.transitionStage(n, version(fields), fields.requiredStr('stage'), fields.bool('archive_existing_versions') ?? false)
      return { model_version: versionToJson(v, await record(ctx, n)) }
    },
  },
  {
    method: 'DELETE', path: 'model-versions/delete',
    async handler({ fields, ctx }) {
      await ctx.book.models.deleteVersion(name(fields), version(fields))
      return {}
    },
  },
  ...(['GET', 'POST'] as const).map((method): Route => ({
    method, path: 'model-versions/search',
    async handler({ fields, ctx }) {
      const limit = maxResults(fields, 'max_results', 10_000, 200_000)
      const offset = decodePageToken(fields.str('page_token'))
      const records = await ctx.book.models.list()
      const byName = new Map(records.map((r) => [r.model.name, r]))
      const { versions, total } = searchVersions(records, { filter: fields.str('filter'), orderBy: fields.strList('order_by'), limit, offset })
      return paged(versions, total, offset, limit, 'model_versions', (v: ModelVersion) => versionToJson(v, byName.get(v.model)))
    },
  })),
  {
    method: 'GET', path: 'model-versions/get-download-uri',
    async handler({ fields, ctx }) {
      const rec = await record(ctx, name(fields))
      return { artifact_uri: await downloadUri(ctx, findVersion(rec, version(fields))) }
    },
  },
  {
    method: 'POST', path: 'model-versions/set-tag',
    async handler({ fields, ctx }) {
      const t = tagIn(ctx, { key: fields.raw('key'), value: fields.raw('value') })
      await ctx.book.models.setVersionTag(name(fields), version(fields), t.key, t.value)
      return {}
    },
  },
  {
    method: 'DELETE', path: 'model-versions/delete-tag',
    async handler({ fields, ctx }) {
      await ctx.book.models.deleteVersionTag(name(fields), version(fields), fields.requiredStr('key'))
      return {}
    },
  },
]

