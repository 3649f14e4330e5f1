import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

const CHILD = new URL('../helpers/child.ts', import.meta.url).pathname
let repo: TestRepo
afterEach(() => repo?.cleanup())

describe('the summary index', () => {
  it('stays exact while another process writes runs, from the summaries on the branch', async () => {
    repo = gitRepo()
    await (await Labbook.open({ repo: repo.dir })).init()
    const writer = spawn(process.execPath, ['--import', 'tsx', CHILD, 'runs', repo.dir, '40', 'w'], { stdio: 'ignore' })
    const done = new Promise((r) => writer.on('close', r))
    let finished = false
    void done.then(() => (finished = true))
    let checks = 0
    while (!finished || checks < 3) {
      const book = await Labbook.open({ repo: repo.dir, recover: false })
      const tip = (await book.tip())!
      const runs = await (await book.at(tip)).listRuns({ includeDeleted: true })
      const onBranch = execFileSync('git', ['ls-tree', '-r', '--name-only', tip, 'runs'], { cwd: repo.dir, encoding: 'utf8' })
        .split('\n').filter((p) => p.endsWith('/run.yaml'))
      expect(runs.map((r) => r.id).sort()).toEqual(onBranch.map((p) => p.split('/')[2]).sort())
      // Summaries match the files at that tip exactly (status and metric counts change as runs end).
      for (const r of runs.slice(0, 5)) {
        const text = execFileSync('git', ['show', `${tip}:runs/${onBranch.find((p) => p.includes(r.id))!.split('/')[1]}/${r.id}/run.yaml`], { cwd: repo.dir, encoding: 'utf8' })
        expect(text).toContain(`status: ${r.status}`)
      }
      checks++
      await new Promise((r) => setTimeout(r, 20)) // let the event loop see the writer exit
      if (finished && checks >= 3) break
    }
    expect(checks).toBeGreaterThan(3)
    // format 2 lists from the summaries on the branch: no private index is needed or written
    expect(fs.existsSync(join(repo.dir, '.git', 'labbook', 'index', 'v2'))).toBe(false)
    const runs = await (await Labbook.open({ repo: repo.dir })).listRuns()
    expect(runs).toHaveLength(40)
    expect(runs.every((r) => r.status === 'FINISHED')).toBe(true)
  }, 120_000)
})
