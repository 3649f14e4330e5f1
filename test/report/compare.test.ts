import { describe, expect, it } from 'vitest'
import { compareRuns, displayWidth, escapeMarkdownCell, renderComparisonMarkdown, renderComparisonText } from '../../src/report/compare.js'
import { fixtureRuns, m } from '../query/fixture.js'

const runs = fixtureRuns()
const byId = (...ids: string[]) => ids.map((id) => runs.find((r) => r.id === id)!)

describe('compareRuns', () => {
  it('puts params side by side and marks the rows that differ', () => {
    const c = compareRuns(byId('r0', 'r2', 'r4'))
    expect(c.params.find((p) => p.key === 'batch_size')).toEqual({ key: 'batch_size', values: ['2', '2', '2'], differs: false })
    expect(c.params.find((p) => p.key === 'model')).toEqual({ key: 'model', values: ['GPT-2', 'GPT-3.5', 'None'], differs: true })
    expect(c.tags.find((t) => t.key === 'task')).toEqual({ key: 'task', values: ['classification', 'causal lm', undefined], differs: true })
    expect(c.info.find((r) => r.key === 'commit')).toEqual({ key: 'commit', values: ['aaaa1111', 'aaaa1111', 'aaaa1111'], differs: false })
    expect(c.runs.map((r) => r.duration)).toEqual([60_000, 180_000, 300_000])
  })

  it('marks the best run per metric by its goal, ignoring NaN and missing values', () => {
    const c = compareRuns(byId('r3', 'r7', 'nan', 'live'))
    const loss = c.metrics.find((x) => x.key === 'loss')!
    expect(loss).toMatchObject({ goal: 'minimize', goalSource: 'name', best: [1], differs: true })
    expect(loss.values[0]).toEqual({ latest: 0.7, min: 0.7, max: 1.5, step: 0, count: 1 })
    expect(loss.values[3]).toBeUndefined()
    expect(c.metrics.find((x) => x.key === 'accuracy')).toMatchObject({ goal: 'maximize', best: [1] })
    // One number is no contest.
    expect(c.metrics.find((x) => x.key === 'точность')!.best).toEqual([])
  })

  it('marks every run that ties for best, and follows the config goal and primary order', () => {
    const a = { ...runs[0], id: 'a', metrics: { score: m(3), time: m(5) } }
    const b = { ...runs[0], id: 'b', metrics: { score: m(3), time: m(9) } }
    const c = compareRuns([a, b], { goals: { metrics: { time: { goal: 'maximize' } }, primary: ['time'] } })
    expect(c.metrics.map((x) => [x.key, x.goal, x.goalSource, x.best, x.primary])).toEqual([
      ['time', 'maximize', 'config', [1], true],
      ['score', 'maximize', 'name', [0, 1], false],
    ])
  })

  it('keeps only differing rows with diffOnly', () => {
    const c = compareRuns(byId('r0', 'r2'), { diffOnly: true })
    expect(c.params.map((p) => p.key)).toEqual(['model'])
    expect(c.info.map((r) => r.key)).toEqual(['start', 'duration', 'parent'])
    expect([...c.params, ...c.tags, ...c.info, ...c.metrics].every((r) => r.differs)).toBe(true)
  })
})

describe('renderers', () => {
  it('writes GitHub Markdown whose rows all have as many cells as the header, whatever the user strings hold', () => {
    const evil = { ...runs[11], params: { 'a|b': 'x | y\nz', code: '`rm -rf`', html: '<script>alert(1)</script>' }, tags: { note: '**bold** _it_ [l](javascript:x) ~~s~~ &amp;' } }
    const md = renderComparisonMarkdown(compareRuns([evil, runs[0]]))
    const unescapedPipes = (line: string) => line.replace(/\\\|/g, '').split('|').length - 1
    const tableLines = md.split('\n').filter((l) => l.startsWith('|'))
    expect(tableLines.length).toBeGreaterThan(10)
    for (const l of tableLines) expect(unescapedPipes(l)).toBe(4)
    expect(md).not.toContain('<script>')
    expect(md).toContain('&lt;script&gt;')
    expect(md).toContain('x \\| y<br>z')
    expect(md).toContain('\\*\\*bold\\*\\* \\_it\\_ \\[l\\](javascript:x) \\~\\~s\\~\\~ &amp;amp;')
    expect(md).toContain('\\`rm -rf\\`')
  })

  it('renders the diff-only Markdown of two runs exactly (golden)', () => {
    expect(renderComparisonMarkdown(compareRuns(byId('r0', 'r9'), { diffOnly: true }))).toMatchInlineSnapshot(`
      "### Comparing 2 runs

      #### Run

      | | run-0 (r0) | run-9 (r9) |
      |---|---|---|
      | ≠ status | FINISHED | KILLED |
      | ≠ user | Monkey D Luffy | michael.berk |
      | ≠ start | 2023-11-14T22:13:20.000Z | 2023-11-14T22:13:29.000Z |
      | ≠ duration | 1m 00s | 10m 00s |
      | ≠ commit | aaaa1111 | bbbb2222 |
      | ≠ branch | main | feature/x |
      | ≠ dirty | false | true |

      #### Params

      | | run-0 (r0) | run-9 (r9) |
      |---|---|---|
      | ≠ batch\\_size | 2 | 4 |
      | ≠ learning rate | 0.001 | 0.01 |
      | ≠ model | GPT-2 | None |

      #### Metrics

      | | run-0 (r0) | run-9 (r9) |
      |---|---|---|
      | ≠ accuracy ↑ | **0** | 0.9 |
      | ≠ f1 score ↑ | **0** | 0.9 |
      | ≠ log-scale-loss ↓ | **0** | -2.303 |
      | ≠ loss ↓ | **1** | 0.1 |

      #### Tags

      | | run-0 (r0) | run-9 (r9) |
      |---|---|---|
      | ≠ environment | notebook | – |
      | ≠ task | classification | – |

      <sub>Only rows that differ are shown.<br>Metrics show the latest value (min … max when logged more than once); **bold** is the best finished run; ↑ higher is better, ↓ lower is better. Goals inferred from the name (loss, error, time… minimize): accuracy ↑, f1 score ↑, log-scale-loss ↓, loss ↓.</sub>
      "
    `)
  })

  it('renders aligned plain text with ≠ and ★ marks and states the goals', () => {
    const text = renderComparisonText(compareRuns(byId('r1', 'r8', 'nan')))
    const lines = text.split('\n')
    expect(lines[0]).toMatch(/^\s+run-1\s+run-8\s+nan run$/) // names, then the ids on their own line
    expect(lines[1]).toMatch(/^\s+r1\s+r8\s+nan$/)
    expect(lines.find((l) => l.startsWith('≠ loss ↓'))).toMatch(/0\.9 ★\s+0\.2\s+NaN$/) // r8 FAILED: its 0.2 is not crowned
    expect(lines.find((l) => l.includes('mlflow.user'))).toMatch(/-\s+-\s+""$/)
    expect(text).toContain('Goals inferred from the name (loss, error, time… minimize): accuracy ↑, f1 score ↑, log-scale-loss ↓, loss ↓')
    // Columns line up: every cell of the header starts where the dashes do, also after a CJK value.
    const wide = renderComparisonText(compareRuns(byId('nan', 'r0'))).split('\n')
    const col = displayWidth(wide[0].slice(0, wide[0].indexOf('run-0')))
    expect(displayWidth(wide[1].slice(0, wide[1].indexOf('r0')))).toBe(col)
    const row = wide.find((l) => l.includes('モデル'))!
    expect(row.endsWith('-')).toBe(true)
    expect(displayWidth(row) - 1).toBe(col)
  })

  it('cuts long Markdown cells', () => {
    expect(escapeMarkdownCell('a'.repeat(200)).length).toBe(120)
  })
})
