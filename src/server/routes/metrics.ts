import type { MetricPoint } from '../../model/run.js'
import type { ServerContext } from '../context.js'
import { invalid } from '../errors.js'
import { decodePageToken, encodePageToken, maxResults, metricToJson } from '../protocol.js'
import type { Route } from '../router.js'

const MAX_HISTORY_PAGE = 25_000
const MAX_BULK_RUNS = 100
const MAX_BULK_RESULTS = 2500

/** A metric's history; a run this process writes is committed first, so every point logged so far is in it. */
export async function history(ctx: ServerContext, runId: string, key: string): Promise<MetricPoint[]> {
  await ctx.run(runId) // 404 for unknown runs
  const w = await ctx.openWriter(runId)
  if (w) await w.commit()
  return ctx.book.metricHistory(runId, key)
}

/** Evenly spaced steps between the first and the last, both always kept (what MLflow's charts ask for). */
export function sampleSteps(steps: number[], max: number): number[] {
  if (steps.length <= max) return steps
  if (max === 1) return [steps[0]!]
  const out = new Set<number>()
  for (let i = 0; i < max; i++) out.add(steps[Math.round((i * (steps.length - 1)) / (max - 1))]!)
  return [...out]
}

export const metricRoutes: Route[] = [
  {
    method: 'GET',
    path: 'metrics/get-history',
    async handler({ fields, ctx }) {
      const runId = fields.requiredStr('run_id', 'run_uuid')
      const key = fields.requiredStr('metric_key')
      const paged = fields.has('max_results') || fields.has('page_token')
      const points = await history(ctx, runId, key)
      if (!paged) return { metrics: points.map((p) => metricToJson(p)) }
      const limit = maxResults(fields, 'max_results', MAX_HISTORY_PAGE, MAX_HISTORY_PAGE)
      const offset = decodePageToken(fields.str('page_token'))
      const page = points.slice(offset, offset + limit)
      const out: Record<string, unknown> = { metrics: page.map((p) => metricToJson(p)) }
      if (offset + limit < points.length) out.next_page_token = encodePageToken(offset + limit)
      return out
    },
  },
  {
    method: 'GET',
    path: 'metrics/get-history-bulk-interval',
    async handler({ fields, ctx }) {
      const runIds = fields.strList('run_ids')
      if (!runIds.length) throw invalid(`Missing value for required parameter 'run_ids'.`)
      if (runIds.length > MAX_BULK_RUNS) throw invalid(`GetMetricHistoryBulkInterval request must specify at most ${MAX_BULK_RUNS} run_ids. Received ${runIds.length} run_ids.`)
      const key = fields.requiredStr('metric_key')
      const start = fields.int('start_step'), end = fields.int('end_step')
      if ((start === undefined) !== (end === undefined)) throw invalid('If either start step or end step are specified, both must be specified.')
      if (start !== undefined && end !== undefined && end < start) throw invalid('end_step must be greater than start_step.')
      const max = maxResults(fields, 'max_results', 320, MAX_BULK_RESULTS)
      const out: Record<string, unknown>[] = []
      for (const runId of runIds) {
        const points = (await history(ctx, runId, key)).filter((p) => start === undefined || (p.step >= start && p.step <= end!))
        const steps = [...new Set(points.map((p) => p.step))].sort((a, b) => a - b)
        const keep = new Set(sampleSteps(steps, max))
        for (const p of points) if (keep.has(p.step)) out.push(metricToJson(p, runId))
      }
      return { metrics: out }
    },
  },
]
