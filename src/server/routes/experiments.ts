import { DEFAULT_EXPERIMENT_ID } from '../../model/experiment.js'
import { ApiError, invalid, notFound } from '../errors.js'
import { filterExperiments, parseExperimentFilter, sortExperiments } from '../experiment-search.js'
import { decodePageToken, encodePageToken, experimentToJson, matchesView, maxResults, parseViewType } from '../protocol.js'
import type { Route } from '../router.js'
import { experimentName, tagIn } from '../validate.js'

export const experimentRoutes: Route[] = [
  {
    method: 'GET',
    path: 'experiments/get-by-name',
    async handler({ fields, ctx }) {
      const name = fields.requiredStr('experiment_name')
      const e = await ctx.experimentByName(name)
      if (!e) throw notFound(`Could not find experiment with name '${name}'`)
      if (e.lifecycle === 'active') ctx.lastExperiment = e.id
      return { experiment: experimentToJson(e) }
    },
  },
  {
    method: 'POST',
    path: 'experiments/create',
    async handler({ fields, ctx }) {
      const name = experimentName(fields.raw('name'))
      const tags = fields.list('tags').map((t) => tagIn(ctx, t))
      if (await ctx.experimentByName(name)) {
        throw new ApiError('RESOURCE_ALREADY_EXISTS', `Experiment '${name}' already exists.`)
      }
      const handle = await ctx.book.experiment(name)
      for (const t of tags) await ctx.book.setExperimentTag(handle.id, t.key, t.value)
      ctx.lastExperiment = handle.id
      return { experiment_id: handle.id }
    },
  },
  {
    method: 'GET',
    path: 'experiments/get',
    async handler({ fields, ctx }) {
      const e = await ctx.experiment(fields.requiredStr('experiment_id'))
      return { experiment: experimentToJson(e) }
    },
  },
  ...['GET', 'POST'].map((method): Route => ({
    method: method as 'GET' | 'POST',
    path: 'experiments/search',
    async handler({ fields, ctx }) {
      const limit = maxResults(fields, 'max_results', 1000, 50_000)
      const offset = decodePageToken(fields.str('page_token'))
      const view = parseViewType(fields.raw('view_type'))
      const clauses = parseExperimentFilter(fields.str('filter'))
      const orderBy = fields.strList('order_by')
      const all = (await ctx.book.listExperiments({ includeDeleted: true })).filter((e) => matchesView(e.lifecycle, view))
      const sorted = sortExperiments(filterExperiments(all, clauses), orderBy)
      const page = sorted.slice(offset, offset + limit)
      const out: Record<string, unknown> = { experiments: page.map(experimentToJson) }
      if (offset + limit < sorted.length) out.next_page_token = encodePageToken(offset + limit)
      return out
    },
  })),
  {
    method: 'POST',
    path: 'experiments/update',
    async handler({ fields, ctx }) {
      const id = fields.requiredStr('experiment_id')
      const e = await ctx.experiment(id)
      const newName = fields.str('new_name')
      if (newName !== undefined && newName !== e.name) {
        experimentName(newName)
        if (await ctx.experimentByName(newName)) throw new ApiError('RESOURCE_ALREADY_EXISTS', `Experiment '${newName}' already exists.`)
        await ctx.book.renameExperiment(id, newName)
      }
      return {}
    },
  },
  {
    method: 'POST',
    path: 'experiments/delete',
    async handler({ fields, ctx }) {
      const id = fields.requiredStr('experiment_id')
      if (id === DEFAULT_EXPERIMENT_ID) throw invalid('Cannot delete the default experiment \'0\'. This is an internally reserved experiment.')
      await ctx.experiment(id)
      await ctx.book.deleteExperiment(id)
      return {}
    },
  },
  {
    method: 'POST',
    path: 'experiments/restore',
    async handler({ fields, ctx }) {
      const id = fields.requiredStr('experiment_id')
      await ctx.experiment(id)
      await ctx.book.restoreExperiment(id)
      return {}
    },
  },
  {
    method: 'POST',
    path: 'experiments/set-experiment-tag',
    async handler({ fields, ctx }) {
      const id = fields.requiredStr('experiment_id')
      const tag = tagIn(ctx, { key: fields.raw('key'), value: fields.raw('value') })
      await ctx.experiment(id)
      await ctx.book.setExperimentTag(id, tag.key, tag.value)
      return {}
    },
  },
]
