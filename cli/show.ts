import { defineCommand } from 'citty'
import type { RunSummary } from '../src/model/run.js'
import { keyed } from '../src/model/run.js'
import { runDuration } from '../src/model/run.js'
import { withBook, type ArtifactEntry, resolveRunArg } from './book.js'
import { ctx } from './context.js'
import { experimentNames } from './experiment-names.js'
import { withExamples } from './help.js'
import type { CliIO } from './io.js'
import { colorsFor, formatTime, out, renderTable, toJson, printable } from './output.js'
import { formatDuration, formatNumber } from '../src/model/display-numbers.js'
import { bestRuns, defaultColumns, runRecord, shortIds, statusColor } from './runs-view.js'
import { loadConfig } from '../src/format/config-file.js'

export default withExamples(defineCommand({
  meta: { name: 'show', description: 'Everything about one run: params, metrics, tags, code, artifacts' },
  args: {
    run: { type: 'positional', description: 'Run id, unique id prefix (4+ characters) or unique run name', valueHint: 'RUN' },
    json: { type: 'boolean', description: 'Print JSON, with full metric histories and the artifact list' },
    utc: { type: 'boolean', description: 'Times in UTC (default: local time with its offset)' },
  },
  async run({ args }) {
    const { io } = ctx()
    await withBook(async (book) => {
      const run = await resolveRunArg(book, String(args.run))
      const names = await experimentNames(book)
      const artifacts = await book.listArtifacts(run.id)
      const children = (await book.listRuns({ includeDeleted: false })).filter((r) => r.parent === run.id)
      if (args.json) {
        const histories = await book.metricHistories(run.id)
        const history = keyed<Array<{ step: number; value: number; timestamp: number }>>()
        for (const k of Object.keys(histories).sort()) history[k] = histories[k]!.map((p) => ({ step: p.step, value: p.value, timestamp: p.timestamp }))
        return out(io, toJson({ ...runRecord(run, names), history, artifacts: artifacts.map((a) => ({ path: a.path, size: a.size, external: a.external, ...(a.pointer ? { storage: a.pointer, sha256: a.sha256, local: book.hasArtifactContent(a) } : {}) })), children: children.map((r) => r.id) }))
      }
      io.stdout.write(showText(run, names.get(run.experiment) ?? run.experiment, artifacts.map((a) => ({ ...a, local: a.external ? book.hasArtifactContent(a) : true })), children, io, !!args.utc, bestRuns(children, { config: loadConfig(book.repo) })))
    })
  },
}), ['labbook show 01jf3k', 'labbook show best-rf --json', 'labbook show sweep --utc'])

function showText(r: RunSummary, experiment: string, artifacts: Array<ArtifactEntry & { local: boolean }>, children: RunSummary[], io: CliIO, utc: boolean, best: ReadonlySet<string> = new Set()): string {
  const c = colorsFor(io.stdout, io.env)
  const lines: string[] = []
  const field = (k: string, v: string | undefined) => { if (v) lines.push(`${c.dim(k.padEnd(12))}${v}`) }
  lines.push(`${c.bold(printable(r.name))}  ${statusColor(c)(r.status)}${r.lifecycle === 'deleted' ? c.red(' (deleted)') : ''}`)
  field('id', r.id)
  field('experiment', experiment)
  field('started', formatTime(r.startTime, utc))
  field('ended', r.endTime !== undefined ? formatTime(r.endTime, utc) : undefined)
  field('duration', formatDuration(runDuration(r)))
  field('user', r.user)
  field('parent', r.parent)
  field('commit', r.source.commit ? r.source.commit + (r.source.dirty ? c.yellow(' (dirty)') : '') : undefined)
  field('branch', r.source.branch)
  field('command', r.source.command)
  field('description', r.description)
  const section = (title: string) => lines.push('', c.bold(title))
  const params = Object.keys(r.params).sort()
  if (params.length) {
    section('Params')
    lines.push(renderTable([{ header: 'key' }, { header: 'value' }], params.map((k) => [k, String(r.params[k])])).trimEnd())
  }
  const metrics = Object.keys(r.metrics).sort()
  if (metrics.length) {
    section('Metrics')
    lines.push(renderTable(
      [{ header: 'key' }, { header: 'latest', right: true }, { header: 'min', right: true }, { header: 'max', right: true }, { header: 'step', right: true }, { header: 'points', right: true }],
      metrics.map((k) => { const m = r.metrics[k]!; return [k, formatNumber(m.value), formatNumber(m.min), formatNumber(m.max), String(m.step), String(m.count)] }),
    ).trimEnd())
  }
  if (children.length) {
    section(`Children (${children.length})`) // ★ the best eligible child (src/judge), as `ls` stars it
    const ids = shortIds(children.map((x) => x.id))
    const metric = defaultColumns(children).filter((f) => f.kind === 'metric').slice(0, 2)
    lines.push(renderTable(
      [{ header: 'id' }, { header: 'name' }, { header: 'status' }, ...metric.map((m) => ({ header: m.key, right: true }))],
      children.map((x) => [ids.get(x.id) ?? x.id, (best.has(x.id) ? '★ ' : '') + x.name, x.status, ...metric.map((m) => (x.metrics[m.key] ? formatNumber(x.metrics[m.key]!.value) : ''))]),
    ).trimEnd())
  }
  const tags = Object.keys(r.tags).sort()
  if (tags.length) {
    section('Tags')
    lines.push(renderTable([{ header: 'key' }, { header: 'value' }], tags.map((k) => [k, r.tags[k]!])).trimEnd())
  }
  if (artifacts.length) {
    section('Artifacts')
    lines.push(renderTable([{ header: 'path' }, { header: 'size', right: true }], artifacts.map((a) => [a.path + storageNote(a), formatBytes(a.size)])).trimEnd())
  }
  return lines.join('\n') + '\n'
}

/** Where a large artifact's bytes are; `labbook artifact get` downloads what is not here yet. */
function storageNote(a: ArtifactEntry & { local: boolean }): string {
  if (!a.external) return ''
  const kind = a.pointer === 'v1' ? 'format-1 local store' : 'Git LFS'
  return a.local ? ` (${kind})` : ` (${kind}, not downloaded)`
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(1)} GiB`
}
