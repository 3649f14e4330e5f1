/** Datasets side by side for Compare: one row per dataset name, one cell per run, differences marked. Browser-safe. */
import type { DatasetInput } from '../../model/run.js'

export interface DatasetRow {
  name: string
  /** Per run, in the order given: the inputs with this name (usually one; none when the run did not use it). */
  cells: DatasetInput[][]
  /** Some run lacks it, or the runs disagree on digest, source or context. */
  differs: boolean
  /** Which fields disagree between the runs that have it (`missing` when some run has none). */
  fields: Array<'missing' | 'digest' | 'source' | 'context'>
}

const sig = (ds: DatasetInput[], f: (d: DatasetInput) => string) => ds.map(f).sort().join('\n')

/**
 * Compares the datasets of several runs by name.
 * @example datasetRows([{ datasets: [a] }, { datasets: [b] }]).filter((r) => r.differs)
 */
export function datasetRows(runs: ReadonlyArray<{ datasets?: DatasetInput[] }>): DatasetRow[] {
  const names = [...new Set(runs.flatMap((r) => (r.datasets ?? []).map((d) => d.name)))].sort()
  return names.map((name) => {
    const cells = runs.map((r) => (r.datasets ?? []).filter((d) => d.name === name).sort((a, b) => (a.digest < b.digest ? -1 : 1)))
    const fields: DatasetRow['fields'] = []
    if (cells.some((c) => c.length === 0)) fields.push('missing')
    const present = cells.filter((c) => c.length > 0)
    const check = (field: 'digest' | 'source' | 'context', f: (d: DatasetInput) => string) => {
      if (new Set(present.map((c) => sig(c, f))).size > 1) fields.push(field)
    }
    check('digest', (d) => d.digest)
    check('source', (d) => `${d.sourceType}\u0000${d.source}`)
    check('context', (d) => d.context ?? '')
    return { name, cells, differs: fields.length > 0, fields }
  })
}
