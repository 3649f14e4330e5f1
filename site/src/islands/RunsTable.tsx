/** The experiment's runs table: filter (the labbook filter language), sort, column chooser, nesting, selection, paging. */
import { useEffect, useMemo, useState } from 'react'
import type { TableRun } from 'labbook-lib/site/browser/snapshot.js'
import { ATTR_COLUMNS, cellValue, compileTableFilter, keyColumns, tableRows, type Column } from 'labbook-lib/site/browser/table.js'
import { fmtDuration, fmtTime, fmtValue, shortSha } from 'labbook-lib/site/browser/display.js'
import { getJson, siteUrl } from './url'
import { getLiveJson, subscribeLive } from './live-channel'

type Col = Column
const ATTRS = ATTR_COLUMNS
const value = cellValue
interface Props { experimentId: string; dataPath: string; pageSize?: number }

function initialFilter(): string {
  if (typeof location === 'undefined') return ''
  return new URLSearchParams(location.search).get('filter') ?? ''
}

export default function RunsTable({ experimentId, dataPath, pageSize = 50 }: Props) {
  const [runs, setRuns] = useState<TableRun[] | null>(null)
  const [loadError, setLoadError] = useState<string | null>(null)
  const [filter, setFilter] = useState('')
  const [sort, setSort] = useState<{ col: string; desc: boolean }>({ col: 'attr:start', desc: true })
  const [chosen, setChosen] = useState<string[] | null>(null)
  const [selected, setSelected] = useState<Set<string>>(new Set())
  const [page, setPage] = useState(0)
  const [colSearch, setColSearch] = useState('')

  useEffect(() => {
    setFilter(initialFilter())
    getJson<TableRun[]>(dataPath).then(setRuns, (e: Error) => setLoadError(e.message))
    // served live: new runs appear and values change in place; filter, sort, columns, selection and page are kept
    return subscribeLive(() => void getLiveJson<TableRun[]>(dataPath).then(setRuns, () => {}))
  }, [dataPath])
  useEffect(() => {
    if (!runs) return
    const st = document.getElementById('static-runs')
    if (st) st.hidden = true
  }, [runs])

  const keys = useMemo(() => keyColumns(runs ?? []), [runs])
  // system/* metrics (CPU, memory) are never default columns: they say little about the model.
  const visible = chosen ?? [...keys.filter((c) => c.kind === 'metric' && !c.key.startsWith('system/')).slice(0, 4), ...keys.filter((c) => c.kind === 'param').slice(0, 4)].map((c) => c.id)
  const needle = colSearch.trim().toLowerCase()
  const matching = keys.filter((c) => !needle || c.label.toLowerCase().includes(needle))
  const columns = [...ATTRS, ...keys.filter((c) => visible.includes(c.id))]

  const compiled = useMemo(() => compileTableFilter(filter), [filter])

  const rows = useMemo(() => {
    if (!runs) return []
    const col = [...ATTRS, ...keys].find((c) => c.id === sort.col) ?? ATTRS[2]!
    // A filter that does not parse shows its error and keeps the table unfiltered.
    return tableRows(runs, compiled.error ? null : compiled.pred, col, sort.desc)
  }, [runs, compiled, sort, keys])

  useEffect(() => setPage(0), [filter, sort])
  useEffect(() => {
    if (typeof history === 'undefined') return
    const u = new URL(location.href)
    if (filter) u.searchParams.set('filter', filter)
    else u.searchParams.delete('filter')
    history.replaceState(null, '', u)
  }, [filter])

  if (loadError) return <p className="error">Could not load runs: {loadError}</p>
  if (!runs) return <p className="muted">Loading runs…</p>

  const pages = Math.max(1, Math.ceil(rows.length / pageSize))
  const shown = rows.slice(page * pageSize, (page + 1) * pageSize)
  const toggle = (id: string) => setSelected((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n })
  const sel = [...selected]
  const compareHref = siteUrl(`compare/?runs=${sel.map(encodeURIComponent).join(',')}`)

  return (
    <div className="runs-island" data-experiment={experimentId}>
      <div className="toolbar">
        <input className="filter" type="search" aria-label="Filter runs" placeholder={`Filter, e.g. metrics.acc > 0.9 and params.model = 'cnn'`} value={filter} onChange={(e) => setFilter(e.target.value)} spellCheck={false} />
        <details className="chooser">
          <summary className="button">Columns</summary>
          <div>
            <div className="chooser-tools">
              <input type="search" aria-label="Find a column" placeholder="Find a column" value={colSearch} onChange={(e) => setColSearch(e.target.value)} spellCheck={false} />
              <button type="button" data-cols="all" onClick={() => setChosen([...new Set([...visible, ...matching.map((c) => c.id)])])}>All</button>
              <button type="button" data-cols="none" onClick={() => setChosen(visible.filter((v) => !matching.some((c) => c.id === v)))}>None</button>
            </div>
            {(['metric', 'param', 'tag'] as const).filter((kind) => matching.some((c) => c.kind === kind)).map((kind) => (
              <fieldset key={kind} style={{ border: 0, padding: 0, margin: '0 0 .4rem' }}>
                <legend className="muted">{kind}s</legend>
                {matching.filter((c) => c.kind === kind).map((c) => (
                  <label key={c.id}><input type="checkbox" checked={visible.includes(c.id)} onChange={() => setChosen(visible.includes(c.id) ? visible.filter((v) => v !== c.id) : [...visible, c.id])} /> {c.label}</label>
                ))}
              </fieldset>
            ))}
          </div>
        </details>
        <button className="primary" disabled={sel.length < 2 || sel.length > 50} onClick={() => { location.href = compareHref }} title="Select 2 to 50 runs">
          Compare {sel.length ? `(${sel.length})` : ''}
        </button>
        <span className="muted count">{rows.length} of {runs.length} runs</span>
      </div>
      {compiled.error && <div className="error" role="alert">{compiled.error}</div>}
      <div className="scroll">
        <table className="runs">
          <thead>
            <tr>
              <th><input type="checkbox" aria-label="Select page" checked={shown.length > 0 && shown.every((r) => selected.has(r.run.id))} onChange={(e) => { const on = e.target.checked; setSelected((s) => { const n = new Set(s); for (const r of shown) on ? n.add(r.run.id) : n.delete(r.run.id); return n }) }} /></th>
              {columns.map((c) => (
                <th key={c.id} className={`sortable${c.num ? ' num' : ''}`} data-col={c.id} aria-sort={sort.col === c.id ? (sort.desc ? 'descending' : 'ascending') : 'none'}
                  onClick={() => setSort((s) => ({ col: c.id, desc: s.col === c.id ? !s.desc : c.num ?? false }))}>
                  {c.kind !== 'attr' && <span className="muted">{c.kind === 'metric' ? 'm.' : c.kind === 'param' ? 'p.' : 't.'}</span>}{c.label}{sort.col === c.id ? (sort.desc ? ' ▾' : ' ▴') : ''}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map(({ run: r, depth }) => (
              <tr key={r.id} className={depth ? 'child' : undefined} data-run={r.id}>
                <td><input type="checkbox" aria-label={`Select ${r.name}`} checked={selected.has(r.id)} onChange={() => toggle(r.id)} /></td>
                {columns.map((c) => <Cell key={c.id} run={r} col={c} depth={depth} />)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {pages > 1 && (
        <div className="pager">
          <button disabled={page === 0} onClick={() => setPage(page - 1)}>‹ Prev</button>
          <span>Page {page + 1} of {pages}</span>
          <button disabled={page >= pages - 1} onClick={() => setPage(page + 1)}>Next ›</button>
        </div>
      )}
    </div>
  )
}

function Cell({ run: r, col: c, depth }: { run: TableRun; col: Col; depth: number }) {
  if (c.kind === 'attr') {
    switch (c.key) {
      case 'name':
        return <td className="wrap" style={depth ? { paddingLeft: `${0.6 + depth * 1.2}rem` } : undefined}>{depth ? '↳ ' : ''}<a href={siteUrl(`runs/${r.id}/`)}>{r.name || r.id.slice(0, 8)}</a>{r.children ? <span className="muted"> ({r.children})</span> : null}</td>
      case 'status':
        return <td><span className={`badge b-${r.status}`}>{r.status}</span>{r.source?.dirty ? <> <span className="badge b-dirty" title="uncommitted changes">dirty</span></> : null}</td>
      case 'start': return <td className="num">{fmtTime(r.startTime)}</td>
      case 'duration': return <td className="num">{fmtDuration(r.duration)}</td>
      case 'commit': {
        const sha = r.source?.commit
        if (!sha) return <td />
        return <td className="mono">{r.commitUrl ? <a href={r.commitUrl} rel="noopener noreferrer">{shortSha(sha)}</a> : shortSha(sha)}</td>
      }
      case 'user': return <td>{r.user ?? ''}</td>
    }
  }
  const v = value(r, c)
  return <td className={typeof v === 'number' ? 'num' : 'wrap'}>{fmtValue(v)}</td>
}
