/**
 * Incremental site builds (issue 17): a build into the folder of an earlier one reuses the output of every run whose
 * git tree (and what its page shows around it) did not change, renders the rest through the compiled pages (no Astro
 * build) into that folder, and the result is the same bytes as a full build of the same revision. Two small Astro
 * builds and one compile of the pages on one real temp repository.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildSite, type SiteBuildResult } from '../../src/site/build/index.js'
import { CACHE_FILE } from '../../src/site/build/incremental.js'
import { Labbook } from '../../src/track/labbook.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'
import { populateSiteRepo } from '../helpers/site-repo.js'

let repo: TestRepo
let ids: string[]
let evilId: string
let newId: string
let first: SiteBuildResult, incremental: SiteBuildResult, afterCacheLoss: SiteBuildResult
let userState: string
// The first build goes into a folder whose parents do not exist yet (`--out a/b/c` on a fresh checkout).
const outA = () => join(`${repo.dir}-site-a`, 'deep', 'out')
const outC = () => `${repo.dir}-site-c`

/** Every file of a built site, by path; the build stamp (time of the build) in page footers is cut out. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue
    const file = join(e.parentPath, e.name)
    let text = readFileSync(file).toString('latin1')
    if (e.name.endsWith('.html')) text = text.replace(/<footer>Built from .*?<\/footer>/s, '<footer>STAMP</footer>')
    out.set(relative(dir, file), text)
  }
  return out
}

beforeAll(async () => {
  repo = gitRepo()
  const made = await populateSiteRepo(repo.dir, { runs: 5, steps: 40, evil: true })
  ids = made.ids
  evilId = made.evilId!
  userState = repo.userState()
  first = await buildSite({ repo: repo.dir, out: outA(), title: 'inc' })
  // A push: two runs described anew (their trees change; one is the run whose every field is hostile, so its page
  // goes through the compiled pages), one deleted, one added.
  const book = await Labbook.open({ repo: repo.dir })
  try {
    await book.setRunDescription(ids[2]!, 'Described **after** the first build.')
    await book.setRunDescription(evilId, 'Described again: <script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">')
    await book.deleteRun(ids[3]!)
    const run = await (await book.experiment('mnist-cnn')).startRun({ name: 'run-new', params: { lr: 0.5 }, startTime: 1_767_225_600_000 + 50 * 600_000 })
    for (let s = 0; s < 40; s++) run.logMetric('loss', 1 / (s + 1), { step: s, timestamp: 1_767_225_600_000 + 50 * 600_000 + s * 1000 })
    await run.end('FINISHED', { endTime: 1_767_225_600_000 + 50 * 600_000 + 40_000 })
    newId = run.id
  } finally {
    await book.close()
  }
  incremental = await buildSite({ repo: repo.dir, out: outA(), title: 'inc' })
  // The cache lost: a copy of the same output without its manifest builds in full, and must come out the same.
  cpSync(outA(), outC(), { recursive: true })
  rmSync(join(outC(), CACHE_FILE))
  afterCacheLoss = await buildSite({ repo: repo.dir, out: outC(), title: 'inc' })
}, 600_000)

afterAll(() => {
  for (const d of [`${repo.dir}-site-a`, outC()]) rmSync(d, { recursive: true, force: true })
  repo?.cleanup()
})

describe('incremental site build', () => {
  it('renders only what changed: the two described runs and the new one; the three untouched runs are reused', () => {
    expect(first.reused).toBe(0)
    expect(incremental.runs).toBe(6)
    expect(incremental.reused).toBe(3)
    expect(afterCacheLoss.reused).toBe(0)
    // the second build rendered its pages into the first's folder through the compiled pages; the others ran Astro
    expect([first.inPlace, incremental.inPlace, afterCacheLoss.inPlace]).toEqual([false, true, false])
    // sizes: the reused runs' share comes from the manifest's ledger, and adds up to what walking every file gives
    expect([incremental.files, incremental.bytes]).toEqual([afterCacheLoss.files, afterCacheLoss.bytes])
    expect(repo.userState()).toBe(userState)
  })

  it('the changed run is rebuilt, the deleted run is gone, the new run is there', () => {
    expect(readFileSync(join(outA(), 'runs', ids[2]!, 'index.html'), 'utf8')).toContain('Described <strong>after</strong> the first build.')
    const evil = readFileSync(join(outA(), 'runs', evilId, 'index.html'), 'utf8')
    expect(evil).toContain('Described again: &lt;script&gt;')
    expect(evil).not.toMatch(/<script>window|<img src=x/)
    expect(existsSync(join(outA(), 'runs', ids[3]!))).toBe(false)
    expect(existsSync(join(outA(), 'data', 'runs', `${ids[3]}.json`))).toBe(false)
    expect(existsSync(join(outA(), 'data', 'runs', ids[3]!))).toBe(false)
    expect(readFileSync(join(outA(), 'data', 'experiments', JSON.parse(readFileSync(join(outA(), 'data', 'runs', `${newId}.json`), 'utf8')).experiment, 'runs.json'), 'utf8')).not.toContain(ids[3]!)
    expect(existsSync(join(outA(), 'runs', newId, 'index.html'))).toBe(true)
  })

  it('byte-equals a full build of the same revision (every file; page footers differ only in the build time)', () => {
    const inc = snapshot(outA()), full = snapshot(outC())
    expect([...inc.keys()].sort()).toEqual([...full.keys()].sort())
    const differ = [...inc.keys()].filter((k) => inc.get(k) !== full.get(k))
    expect(differ).toEqual([])
    // Reused run pages carry no build stamp, so they stay true across revisions.
    expect(readFileSync(join(outA(), 'runs', ids[0]!, 'index.html'), 'utf8')).toContain('<footer>Built by labbook.</footer>')
  })
})
