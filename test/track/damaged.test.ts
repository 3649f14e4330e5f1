// Issue 10 item 11: one damaged run.yaml never hides the other runs; ls, show, export and the site warn with its
// path and go on; `labbook doctor` reports it.
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { Labbook } from '../../src/index.js'
import { runDir } from '../../src/model/layout.js'
import { collectSite } from '../../src/site/build/collect.js'
import { captureIO } from '../helpers/cli.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

let repo: TestRepo
let ids: string[] = []
let bad: string
const files = fs.mkdtempSync(join(os.tmpdir(), 'labbook-damaged-'))

beforeAll(async () => {
  repo = gitRepo()
  const book = await Labbook.open({ repo: repo.dir })
  await book.init()
  for (const name of ['good-1', 'broken', 'good-2']) {
    const run = await book.startRun({ name })
    run.logMetric('acc', 0.5)
    await run.end()
    ids.push(run.id)
  }
  await book.flush() // the runs' group commit lands before the test damages one of them
  bad = `${runDir(ids[1]!)}/run.yaml`
  await book.store.update(async () => ({ changes: [{ path: bad, blob: book.objects.writeBlob('id: [unclosed\n  : : :\n') }], subject: 'damage a run (test)', result: undefined }))
  await book.close()
})
afterAll(() => {
  repo.cleanup()
  fs.rmSync(files, { recursive: true, force: true })
})

async function cli(argv: string[]) {
  const c = captureIO(repo.dir)
  const r = await main(argv, c.io)
  return { code: r.exitCode, stdout: c.stdout(), stderr: c.stderr() }
}

describe('a damaged run.yaml', () => {
  it('ls and export list the other runs and warn with the path', async () => {
    const ls = await cli(['ls', '--json'])
    expect(ls.code, ls.stderr).toBe(0)
    const names = JSON.parse(ls.stdout).map((r: { name: string }) => r.name)
    expect(names).toEqual(expect.arrayContaining(['good-1', 'good-2']))
    // format 1 reads run.yaml to list (skipped, named); format 2 lists from the summary lines on the branch
    if (!names.includes('broken')) expect(ls.stderr).toContain(bad)
    const ex = await cli(['export'])
    expect(ex.code, ex.stderr).toBe(0)
    expect(ex.stdout).toContain('good-2')
    if (!names.includes('broken')) expect(ex.stderr).toContain(bad)
  })

  it('show works for the other runs, by id and by name; the damaged one says CORRUPT_DATA with its path', async () => {
    expect((await cli(['show', ids[0]!])).code).toBe(0)
    expect((await cli(['show', 'good-2'])).code).toBe(0)
    const r = await cli(['show', ids[1]!])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/CORRUPT_DATA/)
    expect(r.stderr).toContain(bad)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('the site collects the other runs and reports the damaged one as a problem', async () => {
    const book = await Labbook.open({ repo: repo.dir })
    const data = await collectSite(book, { filesDir: files })
    expect(data.runs.map((r) => r.name)).toEqual(expect.arrayContaining(['good-1', 'good-2']))
    expect(data.problems.some((p) => p.message.includes(bad)) || data.runs.length === 3).toBe(true)
    await book.close()
  })

  it('labbook doctor reports it (exit 1, path and hint) and changes nothing', async () => {
    const tip = repo.git('rev-parse', 'labbook')
    const r = await cli(['doctor'])
    expect(r.code).toBe(1)
    expect(r.stderr + r.stdout).toContain(`damaged-run: ${bad}`)
    expect(r.stderr + r.stdout).toMatch(/hint: .*git log -p/)
    const j = await cli(['doctor', '--json'])
    expect(JSON.parse(j.stdout)).toEqual([expect.objectContaining({ kind: 'damaged-run', path: bad })])
    expect(repo.git('rev-parse', 'labbook')).toBe(tip)
  })
})
