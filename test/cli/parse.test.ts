import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { captureIO } from '../helpers/cli.js'
import { gitRepo } from '../helpers/git-repo.js'

const repo = gitRepo()
afterAll(() => repo.cleanup())

async function cli(argv: string[]) {
  const c = captureIO(repo.dir)
  const { exitCode } = await main(argv, c.io)
  return { exitCode, stdout: c.stdout(), stderr: c.stderr() }
}

describe('strict command-line parsing', () => {
  it('answers an unknown command or option with one line and a did-you-mean, not the whole help', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['sho'], /^USAGE: Unknown command "sho": did you mean `show`\?\nhint: /],
      [['log', 'metrc'], /^USAGE: Unknown command "metrc": did you mean `metric`\?\n/],
      [['ls', '--filtr', 'x'], /^USAGE: Unknown option --filtr: did you mean --filter\?\n/],
      [['ls', '--jsn'], /^USAGE: Unknown option --jsn: did you mean --json\?\n/],
      [['frobnicate'], /^USAGE: Unknown command "frobnicate"\.\n/],
      [['run', 'python', 'x.py', '--epochs', '3'], /^USAGE: Unknown option --epochs\.\nhint: .*go after --/],
    ]
    for (const [argv, message] of cases) {
      const r = await cli(argv)
      expect(r.exitCode, argv.join(' ')).toBe(2)
      expect(r.stderr, argv.join(' ')).toMatch(message)
      expect(r.stderr.split('\n').filter(Boolean), argv.join(' ')).toHaveLength(2)
      expect(r.stdout).toBe('')
    }
  })

  it('makes a missing value, a value on a switch and a repeated single-value option errors', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['ls', '--filter'], /^USAGE: --filter needs a value\.\nhint: Write it as --filter /],
      [['ls', '--filter', '--json'], /^USAGE: --filter needs a value, but --json follows it\./],
      [['run', '--experiment'], /^USAGE: --experiment needs a value\./],
      [['ls', '--limit', '1', '--limit', '2'], /^USAGE: --limit is given twice \(as --limit and --limit\); it takes one value\./],
      [['ls', '--json=yes'], /^USAGE: --json takes no value, got "yes"\./],
      [['show'], /^USAGE: labbook show needs RUN\./],
      [['ls', '--repo'], /^USAGE: --repo needs a value\./],
    ]
    for (const [argv, message] of cases) {
      const r = await cli(argv)
      expect(r.exitCode, argv.join(' ')).toBe(2)
      expect(r.stderr, argv.join(' ')).toMatch(message)
    }
  })

  it('takes repeatable options every time, negative numbers as values, and --x=VALUE', async () => {
    const r = await cli(['run', '-e', 'p', '-p', 'a=1', '--param=b=2', '-p', 'c=-1', '-t', 'k=v', '--system-interval', '0', '--', process.execPath, '-e', '0'])
    expect(r.stderr).not.toMatch(/USAGE/)
    expect(r.exitCode).toBe(0)
    const shown = await cli(['ls', '--experiment', 'p', '--json', '--limit', '-1'])
    expect(shown.stderr).toMatch(/--limit|limit/) // a negative limit reaches the command, which rejects it itself
    const ls = await cli(['ls', '--experiment=p', '--json'])
    const [run] = JSON.parse(ls.stdout)
    expect(run.params).toEqual({ a: 1, b: 2, c: -1 })
    expect(run.tags).toMatchObject({ k: 'v' })
  })
})
