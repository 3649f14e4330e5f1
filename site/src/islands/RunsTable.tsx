/**
 * The experiment's runs table: filter (the labbook filter language), sort, column chooser, group-by with expandable
 * group rows (src/judge statistics), parent rows summarising their children, selection, paging. The view lives in the
 * address (`?filter=&sort=&cols=&group=&open=`), so a link reproduces it and reload or Back keeps it.
 */
import { Fragment, memo, useCallback, useEffect, useMemo, useRef, useState } from 'react'
import type { TableRun } from 'labbook-lib/site/browser/snapshot.js'
import { cellValue, compileTableFilter, keyColumns, openRows, rowList, rowsOf, type Column, type RowList, type TableFilter } from 'labbook-lib/site/browser/table.js'
import { filterMask, prepareSteps, readAheadFields, warmFilter } from 'labbook-lib/site/browser/table-filter.js'
import { formatFilter } from 'labbook-lib/query/index.js'
import {
  defaultColumns, DEFAULT_SORT, groupChoices, halfWidth, isTelemetryColumn, layoutColumns, orderColumns, readTableState, sortGroups,
  tableGroups, type GroupBy, type TableGroup, type TableState, withChildSummaries, writeTableState,
} from 'labbook-lib/site/browser/table-view.js'
import { ineligible, metricGoal, type JudgeConfig } from 'labbook-lib/judge/index.js'
import { fmtAt, fmtDuration, fmtTime, fmtValue, shortSha } from 'labbook-lib/site/browser/display.js'
import { decodeTable, type TableData } from 'labbook-lib/site/browser/table-data.js'
import { getJson, siteUrl } from './url'
import { subscribeLive } from './live-channel'
import GroupCharts from './GroupCharts'

type Col = Column
interface Props {
  experimentId: string
  dataPath: string
  pageSize?: number
  /** The experiment's primary metrics (src/judge), shown first. */
  primary?: string[]
  /** What src/judge needs in the browser: the config's judgement keys and the experiment's tags. */
  judge?: { config: JudgeConfig; tags: Record<string, string> }
}

const NONE_OPEN = () => false
const EMPTY_ROWS: RowList = { index: new Uint32Array(0), depth: new Uint16Array(0), length: 0 }
const INITIAL: TableState = { filter: '', sort: { ...DEFAULT_SORT }, cols: null, group: '', open: [] }
const GROUP_LABEL = (g: GroupBy) => (g === 'config' ? 'configuration (params without seeds, per commit)' : g.startsWith('param:') ? `param ${g.slice(6)}` : `tag ${g.slice(4)}`)

export default function RunsTable({ experimentId, dataPath, pageSize = 50, primary = [], judge }: Props) {
  const [raw, setRuns] = useState<TableRun[] | null>(null)
  const [loadError, setLoadError] = useState<string | null>(null)
  const [view, setView] = useState<TableState>(INITIAL)
  const [ready, setReady] = useState(false)
  const [selected, setSelected] = useState<Set<string>>(new Set())
  const [pickedGroups, setPickedGroups] = useState<Set<string>>(new Set())
  const [page, setPage] = useState(0)
  const [colSearch, setColSearch] = useState('')
  const { filter, sort, group } = view
  // whether the last change was typing in the filter (the address and the group curves then wait for a pause)
  const typing = useRef(false)
  const patch = (p: Partial<TableState>) => { typing.current = false; setView((v) => ({ ...v, ...p })) }
  const flushAddress = useRef<(() => void) | null>(null)

  useEffect(() => {
    const read = () => setView(readTableState(location.search))
    read()
    setReady(true)
    addEventListener('popstate', read)
    return () => removeEventListener('popstate', read)
  }, [])
  useEffect(() => {
    // The data is columnar (src/site/browser/table-data.ts): rows are made once per fetch, after the page is up.
    const load = () => getJson<TableData>(dataPath).then(decodeTable)
    load().then(setRuns, (e: Error) => setLoadError(e.message))
    // served live: new runs appear and values change in place; filter, sort, columns, selection and page are kept
    return subscribeLive(() => void load().then(setRuns, () => {}))
  }, [dataPath])
  useEffect(() => {
    if (!raw) return
    const st = document.getElementById('static-runs')
    if (st) st.hidden = true
  }, [raw])
  // The address follows the view (replaceState: typing in the filter does not fill the history). While typing in the
  // filter it follows once typing pauses, the filter box loses focus or the page is left: one replaceState per pause
  // instead of one per keystroke (each costs a same-document navigation; Chromium also throttles a page that calls it
  // too often). Any other change is written at once.
  useEffect(() => {
    if (!ready || typeof history === 'undefined') return
    const write = () => {
      flushAddress.current = null
      const u = writeTableState(new URL(location.href), view)
      if (u.href !== location.href) history.replaceState(null, '', u)
    }
    if (!typing.current) { write(); return }
    const t = setTimeout(write, ADDRESS_PAUSE_MS)
    const flush = () => { clearTimeout(t); write() }
    flushAddress.current = flush
    addEventListener('pagehide', flush)
    return () => { clearTimeout(t); removeEventListener('pagehide', flush); if (flushAddress.current === flush) flushAddress.current = null }
  }, [view, ready])

  const ctx = useMemo(() => ({ config: judge?.config ?? {}, tags: judge?.tags ?? {} }), [judge])
  const goalOf = useMemo(() => { const memo = new Map<string, ReturnType<typeof metricGoal>['goal']>(); return (k: string) => { if (!memo.has(k)) memo.set(k, metricGoal(k, ctx).goal); return memo.get(k) } }, [ctx])
  const runs = useMemo(() => (raw ? withChildSummaries(raw, primary, goalOf) : null), [raw, primary, goalOf])
  const keys = useMemo(() => orderColumns(keyColumns(runs ?? []), primary), [runs, primary])
  const visible = useMemo(() => view.cols ?? defaultColumns(keys, primary), [view.cols, keys, primary])
  const needle = colSearch.trim().toLowerCase()
  const matching = keys.filter((c) => !needle || c.label.toLowerCase().includes(needle))
  // the same array while the columns stay the same: rows that did not change are not drawn again (memo)
  const columns = useMemo(() => layoutColumns(keys, visible), [keys, visible])
  const metricCols = columns.filter((c) => c.kind === 'metric').map((c) => c.key)
  // While the browser is idle after the runs load: read the columns a filter may name (metrics, params, tags, a few
  // attributes) ahead of the keystroke that first names one, and run the filter language's code once, so the first
  // keystrokes do not pay for either (at 100,000 runs, reading one column is tens of milliseconds). In slices of a few
  // milliseconds (prepareSteps), stopping when the idle time is used up or input waits: a keystroke typed meanwhile
  // waits for one slice, not a column.
  useEffect(() => {
    if (!runs) return
    const steps = prepareSteps(runs, readAheadFields(keys, primary))
    let warm = false, handle = 0
    const step = (deadline: { timeRemaining(): number }) => {
      if (!warm) { warmFilter(runs); warm = true }
      do {
        if (steps.next().done) return
      } while (deadline.timeRemaining() > 4 && !inputPending())
      handle = whenIdle(step)
    }
    handle = whenIdle(step)
    return () => cancelIdle(handle)
  }, [runs, keys, primary])
  const compiled = useMemo(() => compileTableFilter(filter), [filter])
  // A filter that does not parse (often half typed: `metrics.acc >`) shows its error and keeps the last filter that
  // parsed, and its rows: nothing is computed for it and the table does not jump to every run and back.
  // A filter that means what the last one meant (a space typed, `AND` for `and`) reuses its rows as well.
  const [lastGood, setLastGood] = useState<TableFilter>(compiled)
  const same = compiled.ast !== null && lastGood.ast !== null && formatFilter(compiled.ast) === formatFilter(lastGood.ast)
  if (!compiled.error && compiled !== lastGood && !same) setLastGood(compiled)
  const applied = compiled.error || same ? lastGood : compiled
  const sortCol = [...columns, ...keys].find((c) => c.id === sort.col) ?? columns.find((c) => c.id === DEFAULT_SORT.col)!

  // Per keystroke: one mask over columns (src/site/browser/table-filter.ts), one pass over the cached sort order;
  // row objects only for the page drawn.
  const mask = useMemo(() => (runs && applied.ast ? filterMask(runs, applied.ast) : null), [runs, applied])
  // Grouped, the table shows groups: the runs' row order is not needed, only how many runs the filter keeps.
  const rows = useMemo((): RowList => (runs && !group ? rowList(runs, mask, sortCol, sort.desc) : EMPTY_ROWS), [runs, group, mask, sortCol, sort.desc])
  const kept = useMemo(() => (!runs ? 0 : !group ? rows.length : mask ? countOnes(mask) : runs.length), [runs, group, rows, mask])
  const open = useMemo(() => new Set(view.open), [view.open])
  // Children show under their parent only while it is open.
  const flat = useMemo(() => (runs ? openRows(runs, rows, open.size ? (r) => open.has(r.id) : NONE_OPEN) : rows), [runs, rows, open])
  const groupMetrics = [...new Set([...primary, ...metricCols])]
  // Grouped: src/judge knows each run's configuration once per list (tableGroups' index); a keystroke groups and
  // scores the runs its mask keeps.
  const unsorted = useMemo(() => (group && runs ? tableGroups(runs, group, groupMetrics, goalOf, ctx.config, mask) : []), [group, runs, mask, groupMetrics.join('\u0000'), goalOf, ctx])
  const groups = useMemo(() => sortGroups(unsorted, sortCol, sort.desc), [unsorted, sortCol, sort.desc])

  useEffect(() => setPage(0), [filter, sort.col, sort.desc, group])
  // every param of every run: once per fetch, not per keystroke
  const choices = useMemo(() => (runs ? groupChoices(runs) : []), [runs])
  const toggle = useCallback((id: string) => setSelected((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n }), [])
  const toggleOpen = useCallback((id: string) => { typing.current = false; setView((v) => ({ ...v, open: v.open.includes(id) ? v.open.filter((x) => x !== id) : [...v.open, id] })) }, [])
  const pickGroup = useCallback((key: string) => setPickedGroups((s) => { const n = new Set(s); if (n.has(key)) n.delete(key); else n.add(key); return n }), [])
  const units = group ? groups.length : flat.length
  const shownGroups = useMemo(() => (group ? groups.slice(page * pageSize, (page + 1) * pageSize) : []), [group, groups, page, pageSize])
  const picked = useMemo(() => groups.filter((g) => pickedGroups.has(g.key)), [groups, pickedGroups])
  // The group curves load members' series (up to 240 requests): they follow the filter once typing pauses, not at
  // every keystroke, and any other change (sort, page, group picked) once the table's frame is drawn.
  const curves = useMemo(() => (group && groups.length > 0 && primary.length > 0
    ? (picked.length ? picked : shownGroups).slice(0, 8).map((g) => ({ label: g.label, runs: g.runs.filter((r) => ineligible(r) === undefined).map((r) => r.id) })).filter((g) => g.runs.length > 0)
    : []), [group, groups, primary, picked, shownGroups])
  const settledCurves = useSettled(curves, typing.current ? ADDRESS_PAUSE_MS : 0)
  const curvesKey = JSON.stringify(settledCurves)
  const groupCharts = useMemo(() => (settledCurves.length > 0 ? <GroupCharts groups={settledCurves} metrics={primary} /> : null), [curvesKey, primary])

  if (loadError) return <p className="error">Could not load runs: {loadError}</p>
  if (!runs) return <p className="muted">Loading runs…</p>

  const pages = Math.max(1, Math.ceil(units / pageSize))
  const shown = group ? [] : rowsOf(runs, flat, page * pageSize, (page + 1) * pageSize)
  const sel = [...selected]
  const compareHref = siteUrl(`compare/?runs=${sel.map(encodeURIComponent).join(',')}`)
  const groupsHref = siteUrl(`compare/groups/?${picked.map((g) => `g=${g.runs.map((r) => encodeURIComponent(r.id)).join(',')}&l=${encodeURIComponent(g.label)}`).join('&')}`)
  const pageRuns = group ? shownGroups.flatMap((g) => (open.has(g.id) ? g.runs : [])) : shown.map((r) => r.run)
  const setCols = (cols: string[]) => patch({ cols })

  return (
    <div className="runs-island" data-experiment={experimentId}>
      <div className="toolbar">
        <input className="filter" type="search" aria-label="Filter runs" placeholder={`Filter, e.g. metrics.acc > 0.9 and params.model = 'cnn'`} value={filter} onChange={(e) => { setView((v) => ({ ...v, filter: e.target.value })); typing.current = true }} onBlur={() => flushAddress.current?.()} spellCheck={false} />
        <label className="group-by">Group by <select aria-label="Group by" value={group} onChange={(e) => patch({ group: e.target.value as GroupBy, open: [] })}>
          <option value="">none</option>
          {choices.map((g) => <option key={g} value={g}>{GROUP_LABEL(g)}</option>)}
        </select></label>
        <details className="chooser">
          <summary className="button">Columns</summary>
          <div>
            <div className="chooser-tools">
              <input type="search" aria-label="Find a column" placeholder="Find a column" value={colSearch} onChange={(e) => setColSearch(e.target.value)} spellCheck={false} />
              <button type="button" data-cols="all" onClick={() => setCols([...new Set([...visible, ...matching.map((c) => c.id)])])}>All</button>
              <button type="button" data-cols="none" onClick={() => setCols(visible.filter((v) => !matching.some((c) => c.id === v)))}>None</button>
              {view.cols && <button type="button" data-cols="default" onClick={() => patch({ cols: null })}>Default</button>}
            </div>
            {(['metric', 'param', 'tag', 'telemetry'] as const).filter((kind) => matching.some((c) => kindOf(c) === kind)).map((kind) => (
              <fieldset key={kind} style={{ border: 0, padding: 0, margin: '0 0 .4rem' }}>
                <legend className="muted">{kind === 'telemetry' ? 'system metrics' : `${kind}s`}</legend>
                {matching.filter((c) => kindOf(c) === kind).map((c) => (
                  <label key={c.id}><input type="checkbox" data-col={c.id} checked={visible.includes(c.id)} onChange={() => setCols(visible.includes(c.id) ? visible.filter((v) => v !== c.id) : [...visible, c.id])} /> {c.label}{primary.includes(c.key) && c.kind === 'metric' ? <span className="muted"> (primary)</span> : null}</label>
                ))}
              </fieldset>
            ))}
          </div>
        </details>
        <button className="primary" disabled={sel.length < 2 || sel.length > 50} onClick={() => { location.href = compareHref }} title="Select 2 to 50 runs">
          Compare {sel.length ? `(${sel.length})` : ''}
        </button>
        {group && <button className="primary compare-groups" disabled={picked.length < 2 || picked.length > 8} onClick={() => { location.href = groupsHref }} title="Select 2 to 8 groups">
          Compare groups {picked.length ? `(${picked.length})` : ''}
        </button>}
        <span className="muted count">{group ? `${groups.length} groups of ` : ''}{kept} of {runs.length} runs</span>
      </div>
      {compiled.error && <div className="error" role="alert">{compiled.error}{applied.ast && <div className="muted small">The table shows the last filter that parsed: <code>{formatFilter(applied.ast)}</code></div>}</div>}
      <div className="scroll">
        <table className={`runs${group ? ' grouped' : ''}`}>
          <thead>
            <tr>
              <th><input type="checkbox" aria-label="Select page" checked={pageRuns.length > 0 && pageRuns.every((r) => selected.has(r.id))} onChange={(e) => { const on = e.target.checked; setSelected((s) => { const n = new Set(s); for (const r of pageRuns) on ? n.add(r.id) : n.delete(r.id); return n }) }} /></th>
              {columns.map((c) => (
                <th key={c.id} className={`sortable${c.num ? ' num' : ''}${c.kind === 'metric' && primary.includes(c.key) ? ' primary-col' : ''}`} data-col={c.id} aria-sort={sort.col === c.id ? (sort.desc ? 'descending' : 'ascending') : 'none'}
                  title={c.kind === 'metric' ? goalText(goalOf(c.key), primary.includes(c.key)) : undefined}
                  onClick={() => patch({ sort: { col: c.id, desc: sort.col === c.id ? !sort.desc : c.num ?? false } })}>
                  {c.kind !== 'attr' && <span className="muted">{c.kind === 'metric' ? 'm.' : c.kind === 'param' ? 'p.' : 't.'}</span>}{c.label}{sort.col === c.id ? (sort.desc ? ' ▾' : ' ▴') : ''}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {/* keyed by place on the page too: a keystroke that changes which groups are shown updates the rows in place */}
            {shownGroups.map((g, k) => (
              <Fragment key={k}>
                <GroupRow g={g} columns={columns} primary={primary} open={open.has(g.id)} picked={pickedGroups.has(g.key)} onOpen={toggleOpen} onPick={pickGroup} />
                {open.has(g.id) && g.runs.map((r) => <RunRow key={r.id} run={r} depth={1} columns={columns} selected={selected.has(r.id)} onSelect={toggle} member />)}
              </Fragment>
            ))}
            {/* keyed by place on the page: when a keystroke changes the rows, the page's rows are updated in place, not removed and made anew */}
            {shown.map(({ run: r, depth }, k) => (
              <RunRow key={k} run={r} depth={depth} columns={columns} selected={selected.has(r.id)} onSelect={toggle} open={open.has(r.id)} onOpen={toggleOpen} />
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
      {/* not unmounted while a keystroke shows no group: the curves follow the filter once typing pauses */}
      {group && groupCharts}
    </div>
  )
}

const kindOf = (c: Col) => (isTelemetryColumn(c) ? 'telemetry' : c.kind)
const goalText = (goal: string | undefined, primary: boolean) => `${primary ? 'primary metric, ' : ''}${goal === 'minimize' ? 'lower is better' : goal === 'maximize' ? 'higher is better' : 'informational (no goal)'}`

/** How long typing in the filter pauses before the address and the group curves follow it. */
const ADDRESS_PAUSE_MS = 300

/** How many rows a filter's mask keeps. */
function countOnes(mask: Uint8Array): number {
  let n = 0
  for (let i = 0; i < mask.length; i++) n += mask[i]!
  return n
}

const whenIdle = (f: (d: { timeRemaining(): number }) => void): number =>
  typeof requestIdleCallback === 'function' ? requestIdleCallback(f, { timeout: 2000 }) : (setTimeout(() => f({ timeRemaining: () => 10 }), 50) as unknown as number)
const cancelIdle = (h: number) => (typeof cancelIdleCallback === 'function' ? cancelIdleCallback(h) : clearTimeout(h))
/** Whether input waits to be handled (Chromium's `navigator.scheduling.isInputPending`); false where nothing can tell. */
const inputPending = (): boolean => typeof navigator !== 'undefined' && ((navigator as { scheduling?: { isInputPending?: () => boolean } }).scheduling?.isInputPending?.() ?? false)

/**
 * `value` once it has not changed for `wait` ms; with `wait` 0, once the frame that shows the change is drawn (what
 * follows it, e.g. the group curves' requests, then never delays that frame).
 */
function useSettled<T>(value: T, wait: number): T {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    let t: ReturnType<typeof setTimeout> | undefined, f = 0
    if (wait > 0 || typeof requestAnimationFrame !== 'function') t = setTimeout(() => setSettled(value), wait)
    else f = requestAnimationFrame(() => { t = setTimeout(() => setSettled(value), 0) })
    return () => { clearTimeout(t); if (f) cancelAnimationFrame(f) }
  }, [value, wait])
  return settled
}

const GroupRow = memo(function GroupRow({ g, columns, primary, open, picked, onOpen, onPick }: { g: TableGroup; columns: Col[]; primary: string[]; open: boolean; picked: boolean; onOpen: (id: string) => void; onPick: (key: string) => void }) {
  const finished = g.finished
  return (
    <tr className={`group-row${open ? ' open' : ''}`} data-group={g.id}>
      <td><input type="checkbox" aria-label={`Select group ${g.label}`} checked={picked} onChange={() => onPick(g.key)} /></td>
      {columns.map((c) => {
        if (c.kind === 'attr' && c.key === 'name') {
          return <td key={c.id} className="group-name"><div className="group-head"><button type="button" className="twisty" aria-expanded={open} onClick={() => onOpen(g.id)} title={open ? 'Hide the runs' : 'Show the runs'}>{open ? '▾' : '▸'}</button><span className="group-label" title={g.label}>{g.label}</span></div>
            {g.best && <div className="muted small">best <a href={siteUrl(`runs/${g.best.id}/`)}>{g.best.name || g.best.id.slice(0, 8)}</a></div>}</td>
        }
        if (c.kind === 'attr' && c.key === 'status') return <td key={c.id} className="num" title={`${finished} of ${g.runs.length} runs finished; ${g.eligible} count`}>n={g.eligible}{g.eligible !== g.runs.length ? <span className="muted">/{g.runs.length}</span> : null}</td>
        if (c.kind === 'metric') {
          const s = g.stats[c.key]
          if (!s) return <td key={c.id} className="num muted">–</td>
          const h = halfWidth(s)
          return <td key={c.id} className={`num${primary.includes(c.key) ? ' primary-cell' : ''}`} data-metric={c.key} title={`n=${s.n} · mean ${s.mean} · std ${s.std} · min ${s.min} · max ${s.max}${s.ci ? ` · 95% CI ${s.ci[0]} … ${s.ci[1]}` : ''}`}>
            {fmtAt(s.mean, h)}{h !== undefined ? <span className="muted"> ± {fmtAt(h, h)}</span> : null}</td>
        }
        if (c.kind === 'attr' && c.key === 'commit' && g.commit) {
          const url = g.runs.find((r) => r.commitUrl)?.commitUrl
          return <td key={c.id} className="mono" title="every run of this group ran on this commit">{url ? <a href={url} rel="noopener noreferrer">{shortSha(g.commit)}</a> : shortSha(g.commit)}</td>
        }
        if (c.kind === 'param' || c.kind === 'tag') {
          const { count, one } = g.distinct(c)
          if (count === 1 && typeof one === 'number') return <td key={c.id} className="num">{fmtValue(one)}</td>
          return <td key={c.id} className="wrap">{count === 1 ? <ClippedText text={fmtValue(one)} /> : <span className="muted">{count} values</span>}</td>
        }
        return <td key={c.id} />
      })}
    </tr>
  )
})

/** One run's row; drawn again only when its run, place or state changes (memo: the callbacks are the island's, stable). */
const RunRow = memo(function RunRow({ run: r, depth, columns, selected, onSelect, open, onOpen, member }: { run: TableRun; depth: number; columns: Col[]; selected: boolean; onSelect: (id: string) => void; open?: boolean; onOpen?: (id: string) => void; member?: boolean }) {
  const openThis = useMemo(() => (onOpen ? () => onOpen(r.id) : undefined), [onOpen, r.id])
  return (
    <tr className={depth ? (member ? 'child member' : 'child') : r.summary ? 'parent' : undefined} data-run={r.id}>
      <td><input type="checkbox" aria-label={`Select ${r.name}`} checked={selected} onChange={() => onSelect(r.id)} /></td>
      {columns.map((c) => <Cell key={c.id} run={r} col={c} depth={depth} open={open} onOpen={openThis} />)}
    </tr>
  )
})

function Cell({ run: r, col: c, depth, open, onOpen }: { run: TableRun; col: Col; depth: number; open?: boolean; onOpen?: () => void }) {
  if (c.kind === 'attr') {
    switch (c.key) {
      case 'name': {
        const s = r.summary
        return <td className="wrap name" style={depth ? { paddingLeft: `${0.6 + depth * 1.2}rem` } : undefined}>
          {s && onOpen ? <><button type="button" className="twisty" aria-expanded={!!open} onClick={onOpen} title={open ? 'Hide the children' : 'Show the children'}>{open ? '▾' : '▸'}</button> </> : depth ? '↳ ' : ''}
          <a href={siteUrl(`runs/${r.id}/`)}>{r.name || r.id.slice(0, 8)}</a>
          {s ? <div className="muted small">{s.n} {s.n === 1 ? 'child' : 'children'}{s.best && <> · best <a href={siteUrl(`runs/${s.best.id}/`)}>{s.best.name || s.best.id.slice(0, 8)}</a></>}{s.n >= 2 && s.n <= 50 && <> · <a className="compare-children" href={siteUrl(`compare/?runs=${s.ids.map(encodeURIComponent).join(',')}`)}>Compare children</a></>}</div> : r.children ? <span className="muted"> ({r.children})</span> : null}
        </td>
      }
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
  const v = cellValue(r, c)
  const fromChild = c.kind === 'metric' && r.summary?.filled.includes(c.key)
  if (typeof v !== 'number') return <td className="wrap"><ClippedText text={fmtValue(v)} /></td>
  return <td className="num" title={fromChild ? 'best child' : undefined}>{fromChild ? <span className="muted">best </span> : null}{fmtValue(v)}</td>
}

/** A param or tag value: at most two lines in the table (a long value would make its row, and every repeat of it, tall); the whole value on hover and on the run page. */
function ClippedText({ text }: { text: string }) {
  return text ? <span className="clip" title={text}>{text}</span> : null
}
