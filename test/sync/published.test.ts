// Per-host refs and the site's LFS links (src/sync/published.ts): the Pages workflow pulls (one merge commit made
// on the runner, on no host) and builds; a large artifact must link at a commit the remote has. Real clones, a bare
// remote, the real git-lfs (standalone file transfer), the site's real collector.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { ARTIFACTS_DIR, runDir } from '../../src/model/layout.js'
import { collectSite } from '../../src/site/build/collect.js'
import { openSiteSource } from '../../src/site/build/open.js'
import { pull, push } from '../../src/sync/remote.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

let root = ''
let origin: TestRepo | undefined
afterEach(() => {
  origin?.cleanup()
  if (root) fs.rmSync(root, { recursive: true, force: true })
  root = ''
})

const GITHUB = 'https://github.com/acme/vision.git'
const LINK = /^https:\/\/media\.githubusercontent\.com\/media\/acme\/vision\/([0-9a-f]{40})\/(runs\/.+)$/

describe('LFS links of a site built from a pulled merge of host refs', () => {
  it('link at the last commit that changed the file on a host ref the remote has, never at the local merge', async () => {
    origin = gitRepo()
    root = fs.mkdtempSync(join(os.tmpdir(), 'labbook-published-'))
    const bare = join(root, 'remote.git')
    execFileSync('git', ['clone', '-q', '--bare', origin.dir, bare])
    const onRemote = (...args: string[]) => execFileSync('git', ['--git-dir', bare, ...args], { encoding: 'utf8' }).trim()

    // Two machines. Their code remote is GitHub (what the runs record and the links name); they sync through `hub`.
    const machine = async (id: string) => {
      const dir = join(root, id)
      execFileSync('git', ['clone', '-q', bare, dir])
      const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim()
      git('remote', 'set-url', 'origin', GITHUB)
      git('remote', 'add', 'hub', bare)
      git('config', 'user.name', id); git('config', 'user.email', `${id}@example.com`); git('config', 'labbook.hostId', id)
      return { dir, git, book: await Labbook.open({ repo: dir, artifactThreshold: 1000 }) }
    }
    const a = await machine('box-a'), b = await machine('box-b')
    const logBig = async (m: typeof a, name: string) => {
      fs.mkdirSync(join(root, name))
      const file = join(root, name, 'model.bin')
      fs.writeFileSync(file, randomBytes(4096))
      const run = await m.book.startRun({ name, experiment: 'e' })
      await run.logArtifact(file)
      await run.end()
      return run.id
    }
    const bigA = await logBig(a, 'big-a')
    expect((await push(a.book, 'hub', { mode: 'hosts' })).lfsObjects).toBe(1)
    await (await a.book.startRun({ name: 'later-a', experiment: 'e' })).end() // the host ref moves past the artifact's commit
    await push(a.book, 'hub', { mode: 'hosts' })
    const bigB = await logBig(b, 'big-b')
    await push(b.book, 'hub', { mode: 'hosts' })

    // The Pages workflow: a fresh clone, `labbook pull` (one merge commit of the host refs), then the site's data.
    const ci = join(root, 'ci')
    execFileSync('git', ['clone', '-q', bare, ci])
    const ciBook = await Labbook.open({ repo: ci })
    expect(await pull(ciBook)).toMatchObject({ branch: 'merged', hosts: 2 })
    await ciBook.close()
    const collect = async (previous?: Record<string, string>, withPublished = true) => {
      const opened = await openSiteSource({ repo: ci })
      try {
        const data = await collectSite(opened.source, {
          filesDir: fs.mkdtempSync(join(root, 'files-')), rev: opened.rev, commit: opened.commit, maxArtifactBytes: 100,
          trees: await opened.source.runTrees?.(), previous, published: withPublished ? opened.published : undefined,
        })
        return { data, commit: opened.commit! }
      } finally {
        await opened.close()
      }
    }
    const first = await collect()
    const merge = first.commit
    expect(() => onRemote('cat-file', '-e', `${merge}^{commit}`)).toThrow() // the local merge is on no host
    for (const [id, host] of [[bigA, 'box-a'], [bigB, 'box-b']] as const) {
      const href = first.data.details[id]!.artifacts.find((x) => x.path === 'model.bin')!.remoteHref!
      const [, commit, path] = LINK.exec(href)!
      expect(path).toBe(`${runDir(id)}/${ARTIFACTS_DIR}/model.bin`)
      // On the remote, an ancestor of the host's ref; there the file is the very pointer the site was built from.
      expect(execFileSync('git', ['--git-dir', bare, 'merge-base', '--is-ancestor', commit!, `refs/labbook/hosts/${host}`]).length).toBe(0)
      expect(onRemote('rev-parse', `${commit}:${path}`)).toBe(execFileSync('git', ['rev-parse', `${merge}:${path}`], { cwd: ci, encoding: 'utf8' }).trim())
      // The last commit that changed it there (stable while the host pushes more), not the ref's tip.
      expect(commit).toBe(onRemote('log', '-1', '--format=%H', `refs/labbook/hosts/${host}`, '--', path!))
      expect(first.data.runKeys![id]).toMatch(new RegExp(`@${commit}$`))
    }
    expect(onRemote('rev-parse', 'refs/labbook/hosts/box-a')).not.toBe(LINK.exec(first.data.details[bigA]!.artifacts[0]!.remoteHref!)![1])
    // Without the remote's commits (the previous way) the link named the local merge: a 404 on the host.
    const before = await collect(undefined, false)
    expect(LINK.exec(before.data.details[bigA]!.artifacts[0]!.remoteHref!)![1]).toBe(merge)

    // B pushes again; the next build is another local merge. A's run keeps its link, so its output is reused.
    await (await b.book.startRun({ name: 'later-b', experiment: 'e' })).end()
    await push(b.book, 'hub', { mode: 'hosts' })
    const ciBook2 = await Labbook.open({ repo: ci })
    expect(await pull(ciBook2)).toMatchObject({ branch: 'merged' })
    await ciBook2.close()
    const second = await collect(first.data.runKeys)
    expect(second.commit).not.toBe(merge)
    expect(second.data.reused).toEqual(expect.arrayContaining([bigA, bigB]))
    await a.book.close(); await b.book.close()
    expect(execFileSync('git', ['--git-dir', join(ci, '.git'), 'fsck', '--strict', '--no-dangling'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toBe('')
  }, 120_000)
})
