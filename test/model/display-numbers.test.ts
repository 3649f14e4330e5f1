import { describe, expect, it } from 'vitest'
import { formatDuration, formatNumber } from '../../src/model/display-numbers.js'
import { fmtDuration, fmtNumber } from '../../src/site/browser/display.js'
import { runsTable } from '../../cli/runs-view.js'
import { compareRuns, renderComparisonMarkdown, renderComparisonText } from '../../src/report/compare.js'
import type { CliIO } from '../../cli/io.js'
import { fixtureRuns, m } from '../query/fixture.js'

describe('formatNumber: the one rule for numbers shown to people', () => {
  it('spells non-finite values as the data formats do and keeps 4 significant digits', () => {
    const cases: [number | undefined, string][] = [
      [undefined, ''], [NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity'],
      [0, '0'], [-0, '0'], [42, '42'], [-7, '-7'], [100_000, '100000'], [123_456_789, '123456789'], [1e15, '1e+15'],
      [0.1 + 0.2, '0.3'], [1 / 3, '0.3333'], [-2 / 3, '-0.6667'], [12.3456, '12.35'], [999.96, '1000'],
      [12345.678, '12345.7'], [1000.04, '1000.0'], [1234567.5, '1.235e+6'], [1e-7, '1e-7'], [1.5e-5, '1.5e-5'], [1e-4, '0.0001'],
    ]
    expect(cases.map(([v]) => formatNumber(v))).toEqual(cases.map(([, s]) => s))
  })

  it('shows durations in at most two units', () => {
    const cases: [number | undefined, string][] = [
      [undefined, ''], [-5, ''], [Infinity, ''], [0, '0ms'], [950, '950ms'], [999.6, '1.0s'], [6200, '6.2s'], [42_460, '42.5s'],
      [59_960, '1m 00s'], [245_000, '4m 05s'], [3_723_000, '1h 02m'], [47 * 3_600_000, '47h 00m'], [51 * 3_600_000, '2d 03h'],
    ]
    expect(cases.map(([v]) => formatDuration(v))).toEqual(cases.map(([, s]) => s))
  })

  it('is what every face prints: the CLI table, the PR/compare report and the site', () => {
    expect(fmtNumber).toBe(formatNumber)
    expect(fmtDuration).toBe(formatDuration)
    const runs = fixtureRuns().slice(0, 2)
    runs[0]!.metrics = { weird: m(Infinity), acc: m(12345.678) }
    runs[1]!.metrics = { weird: m(-Infinity), acc: m(1 / 3) }
    const chunks: string[] = []
    const io: CliIO = { stdout: { write: (s) => (chunks.push(String(s)), true) }, stderr: { write: () => true }, env: { NO_COLOR: '1' }, cwd: '/' }
    const table = runsTable(runs, new Map(), io, [{ kind: 'metric', key: 'weird' }, { kind: 'metric', key: 'acc' }, { kind: 'attribute', key: 'duration' }])
    const comparison = compareRuns(runs)
    for (const text of [table, renderComparisonText(comparison), renderComparisonMarkdown(comparison)]) {
      for (const want of ['Infinity', '-Infinity', '12345.7', '0.3333', '1m 00s', '2m 00s']) expect(text, want).toContain(want)
      expect(text).not.toMatch(/\binf\b|∞/)
    }
  })
})
