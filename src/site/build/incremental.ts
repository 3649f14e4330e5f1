/**
 * Incremental site builds: the previous output is the cache. A run's output (its page, its data files, its
 * artifacts) depends only on the run's files on the branch (its git tree id) and a few things around it (its
 * experiment's name, its parent's and children's names, the site title, the build settings); a build reuses the
 * output of every run whose key is unchanged and renders the rest. RUNNING runs are always rebuilt. The cache is the
 * output folder's own manifest (`.labbook-cache.json`): losing it (or the folder) only costs time.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { copyFile, cp, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

export const CACHE_FILE = '.labbook-cache.json'
const CACHE_VERSION = 1

export interface BuildCache {
  version: number
  /** Hash of the code that makes pages (site template, library, Astro version) and the build settings. */
  generation: string
  /** Run id → key of everything its output was made from. */
  runs: Record<string, string>
  /** Run id → files and bytes of its output (runOutputs): a reused run's share of the site's size, not walked again. */
  sizes?: Record<string, [number, number]>
}

/** The folders and files that belong to one run in the output. */
export function runOutputs(id: string): string[] {
  return [`runs/${id}`, `data/runs/${id}.json`, `data/runs/${id}`, `artifacts/${id}`]
}

/** Hash of every file under the given folders (sorted by path), plus extra strings: a change to the code that makes pages rebuilds every page. */
export async function generationOf(dirs: string[], extra: unknown): Promise<string> {
  const h = createHash('sha256').update(JSON.stringify(extra))
  for (const dir of dirs) {
    if (!existsSync(dir)) continue
    const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort()
    for (const f of files) h.update(f.slice(dir.length)).update('\0').update(await readFile(f)).update('\0')
  }
  return h.digest('hex').slice(0, 32)
}

/** The previous build's manifest, when it was made by the same code and settings; runs whose page is gone are left out. */
export async function readCache(out: string, generation: string): Promise<BuildCache | undefined> {
  let c: BuildCache
  try {
    c = JSON.parse(await readFile(join(out, CACHE_FILE), 'utf8')) as BuildCache
  } catch {
    return undefined
  }
  if (c.version !== CACHE_VERSION || c.generation !== generation || !c.runs || typeof c.runs !== 'object') return undefined
  const runs: Record<string, string> = {}
  for (const [id, key] of Object.entries(c.runs)) if (typeof key === 'string' && existsSync(join(out, 'runs', id, 'index.html'))) runs[id] = key
  const sizes: Record<string, [number, number]> = {}
  for (const [id, s] of Object.entries(c.sizes ?? {})) if (runs[id] && Array.isArray(s) && s.length === 2 && s.every((x) => Number.isSafeInteger(x) && x >= 0)) sizes[id] = s
  return { ...c, runs, sizes }
}

/** Versions of the packages that render pages (from their package.json files), for the generation hash. */
export function packageVersions(modulesDir: string, names: string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {}
  for (const n of names) {
    try { out[n] = (JSON.parse(readFileSync(join(modulesDir, n, 'package.json'), 'utf8')) as { version?: string }).version ?? null } catch { out[n] = null }
  }
  return out
}

export async function writeCache(out: string, generation: string, runs: Record<string, string>, sizes?: Record<string, [number, number]>): Promise<void> {
  await writeFile(join(out, CACHE_FILE), JSON.stringify({ version: CACHE_VERSION, generation, runs, ...(sizes ? { sizes } : {}) } satisfies BuildCache))
}

/** Hard-links (or copies, across file systems) a file or folder tree from the previous output into the new one. */
export async function linkTree(from: string, to: string): Promise<number> {
  const st = await readdir(from, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOTDIR' ? null : Promise.reject(e)))
  if (st === null) {
    await mkdir(dirname(to), { recursive: true })
    await linkFile(from, to)
    return 1
  }
  let n = 0
  await mkdir(to, { recursive: true })
  for (const e of st) {
    if (e.isDirectory()) n += await linkTree(join(from, e.name), join(to, e.name))
    else if (e.isFile()) { await linkFile(join(from, e.name), join(to, e.name)); n++ }
  }
  return n
}

async function linkFile(from: string, to: string): Promise<void> {
  try {
    await link(from, to)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return // rendered in this build: the new file wins
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw e
    await copyFile(from, to)
  }
}

/**
 * Every page a build of `data` writes (address under the base → file in the output), read from the template's page
 * files as the static build's `getStaticPaths` enumerate them: the summary pages, one per experiment and model, and
 * the run pages rendered in this build (not reused, not drawn by the shell). `undefined` when a page takes a
 * parameter this does not know (a new page in the template): the caller then builds with Astro.
 */
export async function pagesOf(pagesDir: string, data: { experiments: Array<{ id: string }>; models: Array<{ slug: string }>; runs: Array<{ id: string }>; reused?: string[]; shells?: string[] }): Promise<Array<{ url: string; file: string }> | undefined> {
  const skip = new Set([...(data.reused ?? []), ...(data.shells ?? [])])
  const params: Record<string, string[]> = {
    'experiments/[id]': data.experiments.map((e) => e.id),
    'models/[slug]': data.models.map((m) => m.slug),
    'runs/[id]': data.runs.filter((r) => !skip.has(r.id)).map((r) => r.id),
  }
  const out: Array<{ url: string; file: string }> = []
  for (const e of await readdir(pagesDir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('.astro')) continue
    const route = join(e.parentPath, e.name).slice(pagesDir.length + 1).replace(/\\/g, '/').replace(/\.astro$/, '')
    if (route === '404') { out.push({ url: '404', file: '404.html' }); continue }
    const dir = route === 'index' ? '' : route.replace(/\/index$/, '')
    if (!dir.includes('[')) { out.push({ url: dir ? `${dir}/` : '', file: dir ? `${dir}/index.html` : 'index.html' }); continue }
    const values = params[dir]
    if (!values) return undefined
    const at = dir.indexOf('[')
    for (const v of values) out.push({ url: `${dir.slice(0, at)}${v}/`, file: `${dir.slice(0, at)}${v}/index.html` })
  }
  return out
}

/**
 * Empties an earlier output of everything a build writes anew, keeping the `keep` runs' outputs (runOutputs), the
 * client bundle (`_astro/`) and the folder's own files: what is left is what an incremental build reuses, in place.
 */
export async function pruneOutput(out: string, keep: ReadonlySet<string>, pageDirs: Iterable<string>): Promise<void> {
  const within = async (dir: string, drop: (name: string) => boolean) => {
    const entries = await readdir(join(out, dir)).catch(() => [] as string[])
    await Promise.all(entries.filter(drop).map((n) => rm(join(out, dir, n), { recursive: true, force: true })))
  }
  await within('runs', (n) => !keep.has(n))
  await within('artifacts', (n) => !keep.has(n))
  await within('data', (n) => n !== 'runs')
  await within('data/runs', (n) => !keep.has(n.replace(/\.json$/, '')))
  for (const d of pageDirs) if (d !== 'runs') await rm(join(out, d), { recursive: true, force: true })
}

/** Moves a folder's contents into another, folder by folder (a file replaces a file); `from` ends up empty. */
export async function moveInto(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true })
  for (const e of await readdir(from, { withFileTypes: true })) {
    const src = join(from, e.name), dst = join(to, e.name)
    const there = await stat(dst).catch(() => null)
    if (there?.isDirectory() && e.isDirectory()) await moveInto(src, dst)
    else await move(src, dst)
  }
}

/** Renames a file or folder over another (which is removed first), copying across file systems. */
export async function move(from: string, to: string): Promise<void> {
  await rm(to, { recursive: true, force: true })
  await mkdir(dirname(to), { recursive: true })
  try {
    await rename(from, to)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e
    await cp(from, to, { recursive: true })
    await rm(from, { recursive: true, force: true })
  }
}

/** Files and bytes of one output entry (a file or a folder tree); nothing when it is missing. */
async function measureTree(path: string): Promise<[number, number]> {
  const st = await stat(path).catch(() => null)
  if (!st) return [0, 0]
  if (!st.isDirectory()) return [1, st.size]
  let files = 0, bytes = 0
  for (const e of await readdir(path, { withFileTypes: true })) {
    const [f, b] = await measureTree(join(path, e.name))
    files += f; bytes += b
  }
  return [files, bytes]
}

/**
 * Files and bytes of an output, with each run's share (its runOutputs) kept apart: `ledger` holds the shares of runs
 * whose output was reused as it was (the previous build's cache), so they are not walked again.
 */
export async function measureOutput(out: string, runIds: Iterable<string>, ledger: Record<string, [number, number]> = {}): Promise<{ files: number; bytes: number; sizes: Record<string, [number, number]> }> {
  const sizes: Record<string, [number, number]> = {}
  const skip = new Set<string>()
  let files = 0, bytes = 0
  for (const id of runIds) {
    for (const p of runOutputs(id)) skip.add(p)
    let s = ledger[id]
    if (!s) {
      s = [0, 0]
      for (const p of runOutputs(id)) { const [f, b] = await measureTree(join(out, p)); s[0] += f; s[1] += b }
    }
    sizes[id] = s
    files += s[0]; bytes += s[1]
  }
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(out, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name
      if (skip.has(p)) continue
      if (e.isDirectory()) await walk(p)
      else if (e.isFile()) { files++; bytes += (await stat(join(out, p))).size }
    }
  }
  await walk('')
  return { files, bytes, sizes }
}
