/**
 * Incremental site builds: the previous output is the cache. A run's output (its page, its data files, its
 * artifacts) depends only on the run's files on the branch (its git tree id) and a few things around it (its
 * experiment's name, its parent's and children's names, the site title, the build settings); a build reuses the
 * output of every run whose key is unchanged and renders the rest. RUNNING runs are always rebuilt. The cache is the
 * output folder's own manifest (`.labbook-cache.json`): losing it (or the folder) only costs time.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { copyFile, link, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

export const CACHE_FILE = '.labbook-cache.json'
const CACHE_VERSION = 1

export interface BuildCache {
  version: number
  /** Hash of the code that makes pages (site template, library, Astro version) and the build settings. */
  generation: string
  /** Run id → key of everything its output was made from. */
  runs: Record<string, string>
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
  return { ...c, runs }
}

/** Versions of the packages that render pages (from their package.json files), for the generation hash. */
export function packageVersions(modulesDir: string, names: string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {}
  for (const n of names) {
    try { out[n] = (JSON.parse(readFileSync(join(modulesDir, n, 'package.json'), 'utf8')) as { version?: string }).version ?? null } catch { out[n] = null }
  }
  return out
}

export async function writeCache(out: string, generation: string, runs: Record<string, string>): Promise<void> {
  await writeFile(join(out, CACHE_FILE), JSON.stringify({ version: CACHE_VERSION, generation, runs } satisfies BuildCache))
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
