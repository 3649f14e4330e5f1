/**
 * Moving Git LFS objects between this clone and a remote, through the real `git-lfs` client (it brings the user's
 * credentials, LFS endpoints and every host's transfer protocol, including a local-path remote's standalone file
 * transfer). git-lfs writes `lfs.repositoryformatversion` into the config of the repository it runs in, so it runs in
 * a private bare repository under .git/labbook/lfs-git that includes the user's config (remotes, lfs.url, credential
 * helpers) and whose `lfs` folder is a link to the real .git/lfs: the user's config stays byte-identical.
 */
import fs from 'node:fs'
import { join, resolve } from 'node:path'
import { LabbookError } from '../errors.js'
import { decodeLfsPointer, encodeLfsPointer, LFS_POINTER_MAX, type LfsPointer } from '../format/lfs-pointer.js'
import { ARTIFACTS_DIR } from '../model/layout.js'
import { runGit, runGitSync } from './git.js'
import { hasLfsObject } from './lfs-store.js'
import { isTreeMode, type ObjectStore } from './objects.js'

let available: boolean | undefined

/** Whether `git lfs` runs on this machine (checked once per process). */
export function lfsAvailable(): boolean {
  if (available === undefined) {
    try {
      const r = runGitSync(['lfs', 'version'], { timeout: 10_000 })
      available = r.code === 0 && /git-lfs\//.test(r.stdout)
    } catch {
      available = false // no git at all
    }
  }
  return available
}

/** @internal tests simulate a machine without git-lfs. */
export function resetLfsAvailable(): void {
  available = undefined
}

export function lfsMissing(what: string): LabbookError {
  return new LabbookError('LFS_MISSING', `git-lfs is not installed, and ${what}.`,
    'Install Git LFS: `apt-get install git-lfs` (Debian/Ubuntu), `brew install git-lfs` (macOS) or see https://git-lfs.com; no `git lfs install` is needed for labbook.')
}

/** The private repository git-lfs runs in (recreated whenever .git/labbook was deleted). */
export function lfsHelperDir(gitdir: string): string {
  const abs = resolve(gitdir)
  const dir = join(abs, 'labbook', 'lfs-git')
  if (fs.existsSync(join(dir, 'config')) && fs.existsSync(join(dir, 'lfs'))) return dir
  fs.mkdirSync(join(abs, 'lfs'), { recursive: true })
  for (const d of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags']) fs.mkdirSync(join(dir, d), { recursive: true })
  fs.writeFileSync(join(dir, 'HEAD'), 'ref: refs/heads/main\n')
  // The user's config comes after ours, so their object format, remotes and lfs.* settings win.
  const config = `[core]\n\trepositoryformatversion = 0\n\tbare = true\n[include]\n\tpath = ${JSON.stringify(join(abs, 'config')).slice(1, -1)}\n` +
    `[core]\n\tbare = true\n[lfs]\n\trepositoryformatversion = 0\n`
  fs.writeFileSync(join(dir, 'config.tmp'), config)
  fs.renameSync(join(dir, 'config.tmp'), join(dir, 'config'))
  try { fs.rmSync(join(dir, 'lfs'), { force: true }) } catch { /* not there */ }
  try {
    fs.symlinkSync(join(abs, 'lfs'), join(dir, 'lfs'), 'dir')
  } catch (caught) {
    const e = caught as NodeJS.ErrnoException
    if (e.code !== 'EEXIST') throw new LabbookError('IO_FAILED', `Cannot link ${join(dir, 'lfs')} to .git/lfs: ${e.message}`, 'Check permissions of .git/labbook.', {}, { cause: e })
  }
  return dir
}

/** A remote as git-lfs arguments: a name as is, a URL through a temporary remote defined on the command line. */
function remoteConfig(remote: string): { name: string; config: string[] } {
  if (/^[\w.-]+$/.test(remote) && !remote.startsWith('.')) return { name: remote, config: [] }
  const url = /^[a-z][\w+.-]*:\/\//i.test(remote) || /^[^/]+@[^/]+:/.test(remote) ? remote : 'file://' + resolve(remote)
  return { name: 'labbook-lfs-url', config: ['-c', `remote.labbook-lfs-url.url=${url}`] }
}

interface LfsRun { code: number; stderr: string }

/** git-lfs through the one door to git, in the private repository (GIT_DIR), its stdout discarded. */
function runLfs(gitdir: string, config: string[], args: string[], input?: string): Promise<LfsRun> {
  const helper = lfsHelperDir(gitdir)
  return runGit(['-c', 'lfs.transfer.maxretries=2', ...config, 'lfs', ...args], {
    cwd: helper, input, discardStdout: true,
    env: { GIT_DIR: helper, GIT_WORK_TREE: undefined, GIT_LFS_SKIP_SMUDGE: undefined },
  })
}

function lastLines(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !/^(Downloading|Uploading|Errors logged|Use `git lfs logs)/.test(l)).slice(-2).join(' ')
}

/** git's answer when the `git-lfs` binary is not on PATH. */
const NO_LFS = /'lfs' is not a git command|git-lfs: (command )?not found|cannot run git-lfs/i

/**
 * Uploads LFS objects to a remote's LFS store (`git lfs push --object-id`, one batch per 500 objects); objects the
 * remote already has are skipped by git-lfs. Resolves only when every object is there. No `git lfs version` probe
 * first: a machine without git-lfs is recognised from git's own answer, so a push costs no extra process.
 */
export async function pushLfsObjects(gitdir: string, remote: string, objects: LfsPointer[]): Promise<void> {
  if (objects.length === 0) return
  const missing = () => lfsMissing(`${objects.length} large artifact${objects.length === 1 ? '' : 's'} must be uploaded before the branch can be pushed`)
  if (available === false) throw missing()
  for (const o of objects) {
    if (!hasLfsObject(gitdir, o)) await fetchLfsObject(gitdir, o)
  }
  const { name, config } = remoteConfig(remote)
  const oids = [...new Set(objects.map((o) => o.oid))]
  for (let i = 0; i < oids.length; i += 500) {
    const r = await runLfs(gitdir, config, ['push', '--object-id', name, ...oids.slice(i, i + 500)])
    if (r.code !== 0 && NO_LFS.test(r.stderr)) {
      available = false
      throw missing()
    }
    if (r.code !== 0) {
      throw new LabbookError('LFS_FAILED', `git lfs push to ${remote} failed: ${lastLines(r.stderr)}`,
        'Check that the remote accepts Git LFS objects (GitHub, GitLab, Gitea, Bitbucket and local paths do) and that you may push there; then run `labbook push` again.', { remote })
    }
    available = true
  }
}

/** Remotes to try for an object, in order: git-lfs's default (remote.lfsdefault, origin, the only one), then the rest. */
function remoteNames(gitdir: string): string[] {
  const r = runGitSync(['remote'], { gitdir, timeout: 10_000 })
  return r.code === 0 ? r.stdout.split('\n').map((s) => s.trim()).filter(Boolean) : []
}

/**
 * Downloads one object into .git/lfs/objects by its oid (`git lfs smudge` of its pointer, which verifies the sha256),
 * trying `preferred` first, then git-lfs's default remote, then every other remote.
 */
export async function fetchLfsObject(gitdir: string, p: LfsPointer, preferred?: string): Promise<void> {
  if (hasLfsObject(gitdir, p)) return
  if (!lfsAvailable()) throw lfsMissing(`the content of a large artifact (sha256 ${p.oid.slice(0, 12)}…) must be downloaded`)
  const attempts: Array<string[]> = []
  if (preferred) {
    const { name, config } = remoteConfig(preferred)
    attempts.push([...config, '-c', `remote.lfsdefault=${name}`])
  }
  attempts.push([])
  for (const name of remoteNames(gitdir)) attempts.push(['-c', `remote.lfsdefault=${name}`])
  let last = ''
  for (const config of attempts) {
    const r = await runLfs(gitdir, config, ['smudge'], encodeLfsPointer(p))
    if (r.code === 0 && hasLfsObject(gitdir, p)) return
    last = lastLines(r.stderr) || last
    if (hasLfsObject(gitdir, p)) return
  }
  throw new LabbookError('ARTIFACT_NOT_FOUND', `The content of a large artifact (sha256 ${p.oid}, ${p.size} bytes) is not in this clone, and no remote's LFS store gave it${last ? `: ${last}` : ''}.`,
    'It reaches a remote with `labbook push` from the machine that logged it; then `labbook artifact get` here downloads it.', { sha256: p.oid })
}

/**
 * The LFS pointers in commits reachable from `tip` but not from `exclude` (what a push of `tip` sends): blobs under
 * an `artifacts/` folder small enough to be pointers, listed by one `git rev-list --objects` whose filter drops
 * trees and larger blobs, then read in-process.
 */
export async function lfsPointersToPush(gitdir: string, objects: ObjectStore, tip: string, exclude: string[]): Promise<LfsPointer[]> {
  if (await noArtifactChanges(objects, tip, exclude)) return []
  const list = await runGit(['rev-list', '--objects', `--filter=combine:object:type=blob+blob:limit=${LFS_POINTER_MAX}`, tip, '--not', ...exclude, '--'], { gitdir })
  if (list.code !== 0) throw new LabbookError('GIT_FAILED', `git rev-list failed: ${list.stderr.trim()}`, 'Run `git fsck` on the repository.')
  const out = new Map<string, LfsPointer>()
  // Only files inside a run's artifacts/ can be pointers (git prints each object once, with the first path it met).
  for (const line of list.stdout.split('\n')) {
    const space = line.indexOf(' ')
    if (space < 0 || !line.includes(`/${ARTIFACTS_DIR}/`, space)) continue
    const blob = await objects.readBlob(line.slice(0, space))
    if (blob.length < 40) continue
    const p = decodeLfsPointer(blob)
    if (p) out.set(p.oid, p)
  }
  return [...out.values()]
}

/** How far `noArtifactChanges` walks before it leaves the question to `git rev-list`. */
const CHAIN_MAX = 64

/**
 * True when `tip` reaches one of `known` through at most CHAIN_MAX single-parent commits none of which changes an
 * `artifacts` folder: then nothing a push of `tip` over `known` sends can be an LFS pointer (a pointer among the
 * sent objects sits under an `artifacts/` folder of some sent commit, which is not its parent's: the walk would
 * have seen that folder change), and the push needs no `git rev-list`. The steady state of a machine that logs runs
 * and pushes; a merge, a root or a longer chain answers false (the rev-list decides, as before). Reads trees
 * in-process, only where a commit differs from its parent.
 */
async function noArtifactChanges(objects: ObjectStore, tip: string, known: string[]): Promise<boolean> {
  const stops = new Set(known)
  let commit = tip
  for (let i = 0; i <= CHAIN_MAX; i++) {
    if (stops.has(commit)) return true
    const c = await objects.readCommit(commit)
    if (c.parents.length !== 1) return false
    const parent = await objects.readCommit(c.parents[0]!)
    if (await touchesArtifacts(objects, c.tree, parent.tree)) return false
    commit = c.parents[0]!
  }
  return false
}

/** Whether tree `now` differs from `before` (null: absent) inside, or at, a folder named `artifacts`. */
async function touchesArtifacts(objects: ObjectStore, now: string, before: string | null): Promise<boolean> {
  if (now === before) return false
  const old = new Map(before ? (await objects.readTree(before)).map((e) => [e.name, e]) : [])
  for (const e of await objects.readTree(now)) {
    const o = old.get(e.name)
    if (o?.oid === e.oid || !isTreeMode(e.mode)) continue
    if (e.name === ARTIFACTS_DIR) return true
    if (await touchesArtifacts(objects, e.oid, o && isTreeMode(o.mode) ? o.oid : null)) return true
  }
  return false
}
