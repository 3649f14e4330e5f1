/** Compare's datasets: one row per dataset name, one column per run (digest, source, context), differences marked. */
import type { DatasetInput } from 'labbook-lib/model/run.js'
import { datasetRows } from 'labbook-lib/site/browser/datasets.js'

export default function DatasetsDiff({ runs }: { runs: Array<{ id: string; label: string; datasets?: DatasetInput[] }> }) {
  const rows = datasetRows(runs)
  if (!rows.length) return null
  const differing = rows.filter((r) => r.differs).length
  const cell = (ds: DatasetInput[], fields: string[]) => ds.length === 0
    ? <span className="muted">not used</span>
    : ds.map((d) => (
      <div className="ds" key={d.digest}>
        <span className={`mono${fields.includes('digest') ? ' ds-diff' : ''}`} title="digest">{d.digest}</span>
        {d.context && <> · <span className={fields.includes('context') ? 'ds-diff' : undefined} title="context">{d.context}</span></>}
        {(d.sourceType || d.source) && <div className={`mono small${fields.includes('source') ? ' ds-diff' : ' muted'}`} title="source">{d.sourceType}{d.source ? `: ${d.source}` : ''}</div>}
      </div>
    ))
  return (
    <>
      <h2>Datasets</h2>
      <p className="muted small">{differing === 0 ? `Every run used the same ${rows.length === 1 ? 'dataset' : `${rows.length} datasets`}.` : `${differing} of ${rows.length} ${rows.length === 1 ? 'dataset differs' : 'datasets differ'} between the runs (highlighted).`}</p>
      <div className="scroll"><table className="datasets-diff">
        <thead><tr><th>Dataset</th>{runs.map((r) => <th key={r.id}>{r.label}</th>)}</tr></thead>
        <tbody>{rows.map((row) => (
          <tr key={row.name} data-dataset={row.name} data-differs={row.differs ? row.fields.join(' ') : undefined} className={row.differs ? 'diffrow' : undefined}>
            <th className="mono wrap">{row.name}{row.differs && <div className="small ds-diff">differs: {row.fields.join(', ')}</div>}</th>
            {row.cells.map((c, i) => <td key={runs[i]!.id} className="wrap ds-cell">{cell(c, row.fields)}</td>)}
          </tr>
        ))}</tbody>
      </table></div>
    </>
  )
}
