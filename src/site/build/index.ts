/** `labbook site build`: reads a revision of the branch through the library and renders the Astro site to static files. */
import { DRAWN_POINTS } from '../../model/minmax.js'
import { chmod, cp, lstat, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { LabbookError } from '../../errors.js'
import { readCodeHistory } from './code-commits.js'
import { withScriptHashes } from './csp.js'
import { loadConfig } from '../../format/config-file.js'
import type { JudgeConfig } from '../../judge/index.js'
import type { Problem, SiteData } from '../browser/snapshot.js'
import type { SiteSource } from './source.js'
import { libDir, modulesDir, siteTemplateDir } from './template.js'
import { CACHE_FILE, generationOf, linkTree, measureOutput, move, moveInto, packageVersions, pagesOf, pruneOutput, readCache, runOutputs, writeCache } from './incremental.js'
import { openSiteSource } from './open.js'
import { loadSiteData, siteDataPlugin, writeSiteData, type SiteContext } from './site-data.js'
import { ensureRenderer, loadRenderer } from './renderer.js'
import { requireSiteDeps } from './deps.js'
import { escapeHtml } from './markdown.js'
import { importExternal } from '../../external-import.js'

export interface SiteBuildOptions {
  /** The user's repository (any folder inside it). @default process.cwd() */
  repo?: string
  /** The labbook branch. @default 'labbook' */
  branch?: string
  /** Any revision of the branch (a commit, a tag, `labbook~3`). @default the branch tip */
  rev?: string
  /** Output folder; emptied first, so it must be new, empty or an earlier site. @default '<repo>/_site' */
  out?: string
  /** URL path the site is served under, e.g. `/my-repo/` for a GitHub Pages project site. @default '/' */
  base?: string
  /** Shown in the header. @default the repository folder name */
  title?: string
  /** Read from this instead of the repository (tests, benchmarks). */
  source?: SiteSource
  /** Writable scratch folder for the Astro project copy. @default '<gitdir>/labbook/site-work', or a temp folder */
  workDir?: string
  /** Points per line in drawn series. @default 1500 */
  maxPoints?: number
  /** Artifacts up to this size are copied into the site; larger ones are linked on the remote's LFS host or listed. @default 20 MB */
  maxArtifactBytes?: number
  /** Overwrite a non-empty output folder that is not an earlier site. @default false */
  force?: boolean
  /**
   * Reuse the output of runs that did not change since the build in `out` (keyed by the run's git tree id; see
   * `.labbook-cache.json` in the output). `false` renders every page. @default true
   */
  incremental?: boolean
  /**
   * Runs whose page is rendered at build time: the newest 100 of each experiment (the ones its no-JS table links), at
   * most this many. The others' pages are copies of the run-page shell, drawn in the browser. @default 1000
   */
  fullPages?: number
  /** Goals, primary metrics and seed params. @default labbook.config.yaml of the repository */
  judge?: JudgeConfig
  /** Astro's log level. @default 'warn' */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent'
  /** Called as each phase starts, with what is known so far and the time since the build began. */
  onProgress?: (p: SiteBuildProgress) => void
}

/** Where a build is: collecting runs from the branch, rendering pages (Astro), writing the output folder. */
export interface SiteBuildProgress {
  phase: 'collect' | 'render' | 'write'
  /** Known from the render phase on. */
  runs?: number
  experiments?: number
  elapsedMs: number
}

export interface SiteBuildResult {
  out: string
  base: string
  experiments: number
  runs: number
  problems: Problem[]
  /** Runs whose output was taken from the previous build (incremental); the others were rendered. */
  reused: number
  /** The changed pages were rendered into the previous output through the compiled pages, with no Astro build (see refreshInPlace). */
  inPlace: boolean
  files: number
  bytes: number
  /** `astroMs`: rendering pages (an Astro build, or in place: compiling the pages when not yet compiled, then rendering them), of which `compileMs` compiling. */
  timings: { collectMs: number; astroMs: number; compileMs?: number; totalMs: number }
}

export const SITE_MARKER = '.labbook-site'
const MARKER = SITE_MARKER
let queue: Promise<unknown> = Promise.resolve()

/**
 * Builds the static site. Only one build runs at a time in a process (Astro builds are heavy, and they chdir).
 * @example await buildSite({ repo: '.', out: '_site', base: '/my-repo/' })
 */
export function buildSite(o: SiteBuildOptions = {}): Promise<SiteBuildResult> {
  const run = queue.then(() => buildOnce(o))
  queue = run.catch(() => undefined)
  return run
}

export function normalizeBase(base: string | undefined): string {
  let b = (base ?? '/').trim()
  if (!b.startsWith('/')) b = '/' + b
  if (!b.endsWith('/')) b += '/'
  if (!/^\/([\w.~-]+\/)*$/.test(b)) throw new LabbookError('USAGE', `--base "${base}" is not a URL path.`, 'Use something like /my-repo/ (letters, digits, . _ ~ - between slashes).')
  return b
}

async function buildOnce(o: SiteBuildOptions): Promise<SiteBuildResult> {
  const t0 = performance.now()
  requireSiteDeps() // the site stack is an optional peer dependency (deps.ts): say so before any work
  const base = normalizeBase(o.base)
  const opened = o.source ? null : await openSiteSource({ repo: o.repo, branch: o.branch, rev: o.rev })
  try {
    const repoRoot = opened?.repo ?? resolve(o.repo ?? process.cwd())
    const out = resolve(repoRoot, o.out ?? '_site')
    await checkOut(out, repoRoot, o.force ?? false)
    const work = resolve(o.workDir ?? (opened ? join(opened.gitdir, 'labbook', 'site-work') : join(tmpdir(), `labbook-site-${process.pid}`)))
    await prepareWork(work)
    const filesDir = join(work, 'files')
    const source = o.source ?? opened!.source
    const maxArtifactBytes = o.maxArtifactBytes ?? 20 * 1024 * 1024
    // Everything that makes pages: a change to any of it renders every page again.
    const generation = await generationOf([join(work, 'src'), libDir()], { base, maxPoints: o.maxPoints ?? DRAWN_POINTS, maxArtifactBytes, deps: packageVersions(modulesDir(), ['astro', '@astrojs/react', 'react', 'react-dom', '@observablehq/plot', 'linkedom']) })
    const previous = o.incremental === false ? undefined : await readCache(out, generation)
    const trees = (await source.runTrees?.()) ?? new Map<string, string>()
    const progress = (p: Omit<SiteBuildProgress, 'elapsedMs'>) => o.onProgress?.({ ...p, elapsedMs: Math.round(performance.now() - t0) })
    progress({ phase: 'collect' })
    const ctx = await loadSiteData(source, {
      filesDir,
      title: o.title ?? repoRoot.split(/[\\/]/).pop() ?? 'labbook',
      rev: o.rev ?? opened?.rev ?? 'labbook',
      commit: opened?.commit ?? null,
      maxPoints: o.maxPoints,
      judge: o.judge ?? loadConfig(repoRoot),
      ...(opened ? { codeHistory: (ids: string[]) => readCodeHistory(opened.gitdir, ids) } : {}),
      maxArtifactBytes,
      trees,
      previous: previous?.runs,
      fullPages: o.fullPages,
      published: opened?.published,
    })
    const { data } = ctx
    const t1 = performance.now()
    progress({ phase: 'render', runs: data.runs.length, experiments: data.experiments.length })
    // Same code and settings as the build in `out`: render only the pages whose data changed, into it, through the
    // pages compiled once for this template (no Astro build); else build every page with Astro into a new folder.
    const compiled = { ms: 0 }
    const inPlace = previous !== undefined && (await refreshInPlace(compiled, out, work, base, ctx, o.logLevel ?? 'warn', () => progress({ phase: 'write', runs: data.runs.length, experiments: data.experiments.length })))
    const t2 = inPlace ? inPlace : await buildAside(out, work, base, ctx, filesDir, o.logLevel ?? 'warn', () => progress({ phase: 'write', runs: data.runs.length, experiments: data.experiments.length }))
    await writeFile(join(out, MARKER), JSON.stringify({ builtBy: 'labbook site build', rev: data.rev, commit: data.commit, base }) + '\n')
    await writeFile(join(out, '.nojekyll'), '')
    // Inside the repository the site ignores itself (as a Python venv does), so `git status` and `git add .` pass it by.
    const inRepo = relative(repoRoot, out)
    if (inRepo && !inRepo.startsWith('..') && !isAbsolute(inRepo)) await writeFile(join(out, '.gitignore'), '# Written by labbook site build: this folder is build output.\n*\n')
    // Sizes: a reused run's share comes from the previous build's ledger, so 10,000 reused runs cost no stat each.
    const reused = new Set(data.reused ?? [])
    const ledger = Object.fromEntries(Object.entries(previous?.sizes ?? {}).filter(([id]) => reused.has(id)))
    const { files, bytes, sizes } = await measureOutput(out, data.runs.map((r) => r.id), ledger)
    // Written last: an output without its manifest (a build killed half way) gets a full build next time.
    await writeCache(out, generation, data.runKeys ?? {}, sizes)
    return {
      out, base, experiments: data.experiments.length, runs: data.runs.length, problems: data.problems, reused: data.reused?.length ?? 0, inPlace: inPlace !== false, files, bytes,
      timings: { collectMs: Math.round(t1 - t0), astroMs: Math.round(t2 - t1), ...(inPlace ? { compileMs: Math.round(compiled.ms) } : {}), totalMs: Math.round(performance.now() - t0) },
    }
  } finally {
    await opened?.close()
  }
}

/** A build into a new folder with Astro, then swapped for `out` (which stays whole until then). Returns when rendering ended. */
async function buildAside(out: string, work: string, base: string, ctx: SiteContext, filesDir: string, logLevel: NonNullable<SiteBuildOptions['logLevel']>, writing: () => void): Promise<number> {
  const { data } = ctx
  const built = join(work, 'dist')
  await rm(built, { recursive: true, force: true })
  await runAstro(work, built, base, data, filesDir, logLevel)
  await hashInlineScripts(built)
  await copyShell(built, data)
  const rendered = performance.now()
  writing()
  for (const d of await readdir(filesDir)) await move(join(filesDir, d), join(built, d))
  // Reused runs: their page, data files and artifacts, hard-linked from the previous output (which stays whole
  // until the swap below, so a failed build loses nothing).
  for (const id of data.reused ?? []) for (const p of runOutputs(id)) if (existsSync(join(out, p))) await linkTree(join(out, p), join(built, p))
  await rm(out, { recursive: true, force: true })
  await move(built, out)
  return rendered
}

/**
 * The incremental build proper: the pages whose data changed (the summary pages, every experiment and model page, the
 * run pages not reused) rendered through the site's pages compiled once per template and base (the same renderer
 * `labbook serve` uses, src/site/build/renderer.ts; built on first need, tens of seconds, kept in the work folder as
 * `r-<key>`),
 * then written into `out` over the previous build; reused runs' files stay where they are. The pages are rendered
 * before `out` is touched; from then until the manifest is written again, `out` has none, so a build killed half
 * way is followed by a full one. Returns when rendering ended, or `false` (nothing touched) when the compiled
 * pages' client bundle is not the one `out` links, or the template has a page this does not know how to list.
 */
async function refreshInPlace(compiled: { ms: number }, out: string, work: string, base: string, ctx: SiteContext, logLevel: NonNullable<SiteBuildOptions['logLevel']>, writing: () => void): Promise<number | false> {
  const { data } = ctx
  const pages = await pagesOf(join(work, 'src', 'pages'), data)
  if (!pages) return false
  // Compiled in the work folder itself: an island's id hashes its source's path, which must be the static build's.
  const c0 = performance.now()
  const folder = await ensureRenderer(work, { base, prepared: true, logLevel: logLevel === 'warn' ? 'error' : logLevel })
  compiled.ms = performance.now() - c0
  // The compiled pages link their client bundle by name: it must be the one in `out` (it is, for the same template).
  const client = join(folder, 'client', '_astro')
  const bundle = (await readdir(client)).sort().join('\n')
  if (bundle !== (await readdir(join(out, '_astro')).catch(() => [])).sort().join('\n')) return false
  const renderer = await loadRenderer(folder)
  const html = new Map<string, string>()
  const restore = hideViteEnv()
  try {
    for (const p of pages) {
      const r = await renderer.render(`http://labbook.localhost${base}${p.url}`, ctx)
      if (r.status !== 200 && !(p.url === '404' && r.status === 404)) throw new LabbookError('IO_FAILED', `The page ${base}${p.url} rendered with status ${r.status}.`, 'Build with --full; report it if it persists.')
      html.set(p.file, withScriptHashes(r.body))
    }
  } finally {
    restore()
  }
  const rendered = performance.now()
  writing()
  await rm(join(out, CACHE_FILE), { force: true })
  const reused = new Set(data.reused ?? [])
  await pruneOutput(out, reused, new Set(pages.map((p) => p.file.split('/')[0]!).filter((d) => !d.endsWith('.html'))))
  await moveInto(ctx.filesDir, out)
  for (const [file, body] of html) {
    await mkdir(join(out, file, '..'), { recursive: true })
    await writeFile(join(out, file), body)
  }
  await copyShell(out, data, (data.shells ?? []).filter((id) => !reused.has(id)))
  return rendered
}

/**
 * Astro's server build reads unknown import.meta.env keys from process.env at render time; test runners (vitest) put
 * BASE_URL, MODE… there, which would override the base. Hidden while Astro builds or renders; returns the undo.
 */
export function hideViteEnv(): () => void {
  const saved: Record<string, string | undefined> = {}
  for (const k of ['BASE_URL', 'MODE', 'DEV', 'PROD', 'SSR', 'SITE', 'ASSETS_PREFIX']) { saved[k] = process.env[k]; delete process.env[k] }
  // React picks its dev or prod build from NODE_ENV at first import; Astro's CLI sets it, a programmatic build must too.
  process.env.NODE_ENV = 'production'
  return () => { for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v }
}

async function checkOut(out: string, repoRoot: string, force: boolean): Promise<void> {
  const rel = relative(out, repoRoot)
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
    throw new LabbookError('USAGE', `The output folder ${out} contains the repository; building there would delete it.`, 'Pass --out with a folder of its own, e.g. --out _site.')
  }
  if (!existsSync(out)) return
  const entries = await readdir(out)
  if (entries.length && !entries.includes(MARKER) && !force) {
    throw new LabbookError('USAGE', `The output folder ${out} is not empty and was not made by labbook site build; it would be emptied.`, 'Choose a new folder with --out, or pass --force to replace its contents.')
  }
}

/** Copies the site template into the writable work dir `work` and links the node_modules labbook runs with. */
export async function prepareWork(work: string): Promise<void> {
  const template = siteTemplateDir()
  await mkdir(work, { recursive: true })
  await rm(join(work, 'src'), { recursive: true, force: true })
  await rm(join(work, 'files'), { recursive: true, force: true })
  await cp(join(template, 'src'), join(work, 'src'), { recursive: true })
  if (existsSync(join(template, 'public'))) await cp(join(template, 'public'), join(work, 'public'), { recursive: true, force: true })
  // An installed package may be read-only; the copies must not be, or the next build cannot replace them.
  await makeWritable(join(work, 'src'))
  await writeFile(join(work, 'package.json'), JSON.stringify({ name: 'labbook-site-work', private: true, type: 'module' }) + '\n')
  // Our own tsconfig, so esbuild never picks up the user's (the work dir sits inside their repository).
  await writeFile(join(work, 'tsconfig.json'), JSON.stringify({ extends: 'astro/tsconfigs/strict', compilerOptions: { jsx: 'react-jsx', jsxImportSource: 'react' } }) + '\n')
  // Vite resolves astro, react and plot from the site root: point it at the node_modules labbook was installed with.
  const link = join(work, 'node_modules')
  const target = modulesDir()
  const st = await lstat(link).catch(() => null)
  if (st && !st.isSymbolicLink()) await rm(link, { recursive: true, force: true })
  else if (st) await rm(link)
  await symlink(target, link, 'junction')
}

async function runAstro(work: string, out: string, base: string, data: SiteData, filesDir: string, logLevel: NonNullable<SiteBuildOptions['logLevel']>): Promise<void> {
  process.env.ASTRO_TELEMETRY_DISABLED = '1'
  // Astro puts its temporary server build under <cwd>/.astro when outDir is outside cwd: keep cwd in the work dir.
  const cwd = process.cwd()
  let moved = false
  try { process.chdir(work); moved = true } catch { /* worker threads cannot chdir: Astro then uses <cwd>/.astro */ }
  const { build } = await importExternal<typeof import('astro')>('astro')
  // The pages' data goes through a file named by the virtual module `labbook:site-data` (see site-data.ts).
  const dataFile = join(work, 'site-data.json')
  writeSiteData(dataFile, { data, filesDir })
  const restore = hideViteEnv()
  try {
    await build(await astroConfig(work, out, base, logLevel, dataFile))
  } catch (e) {
    throw new LabbookError('IO_FAILED', `Astro could not build the site: ${(e as Error).message}`, 'Run with --verbose for details; report it if it persists.', {}, { cause: e })
  } finally {
    await rm(dataFile, { force: true })
    if (moved) process.chdir(cwd)
    restore()
  }
}

/** The Astro configuration of the static build; the live renderer (src/server/live-pages.ts) adds its adapter to it. */
export async function astroConfig(work: string, out: string, base: string, logLevel: NonNullable<SiteBuildOptions['logLevel']>, dataFile: string | null) {
  const react = (await importExternal<typeof import('@astrojs/react')>('@astrojs/react')).default
  return {
    root: work,
    configFile: false as const,
    outDir: out,
    base,
    cacheDir: join(work, '.astro-cache'),
    logLevel,
    trailingSlash: 'ignore' as const,
    build: { format: 'directory' as const },
    devToolbar: { enabled: false },
    integrations: [react()],
    vite: {
      cacheDir: join(work, '.vite'),
      logLevel: logLevel === 'debug' || logLevel === 'info' ? ('info' as const) : ('error' as const),
      plugins: [siteDataPlugin(dataFile)],
      ssr: { noExternal: ['@astrojs/react'] },
      resolve: { alias: { 'labbook-lib': libDir() } },
      build: { chunkSizeWarningLimit: 2000 },
    },
  }
}

/**
 * Runs drawn by the run-page shell (`data.shells`) get a copy of it at `runs/<id>/index.html`, with their name in the
 * title: their address works on any static host (no rewrites, no 404 page tricks) at about 1.2 KB a run.
 */
async function copyShell(built: string, data: SiteData, ids = data.shells ?? []): Promise<void> {
  if (!ids.length) return
  const shell = await readFile(join(built, 'runs', 'index.html'), 'utf8')
  const at = shell.indexOf('<title>') + '<title>'.length, end = shell.indexOf('</title>', at)
  if (at < '<title>'.length || end < 0) throw new LabbookError('IO_FAILED', 'The run-page shell (runs/index.html) has no <title>.', 'Report it: the site template is broken.')
  const byId = new Map(data.runs.map((r) => [r.id, r]))
  let next = 0
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < ids.length) {
      const id = ids[next++]!
      const r = byId.get(id)!
      await mkdir(join(built, 'runs', id), { recursive: true })
      await writeFile(join(built, 'runs', id, 'index.html'), shell.slice(0, at) + escapeHtml(`${r.name || id.slice(0, 8)} · ${data.title}`) + shell.slice(end))
    }
  }))
}

/** Every page's CSP lists the hashes of its own inline scripts (no 'unsafe-inline'). */
async function hashInlineScripts(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.html')) continue
    const file = join(e.parentPath, e.name)
    const html = await readFile(file, 'utf8')
    const out = withScriptHashes(html)
    if (out !== html) await writeFile(file, out)
  }
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755)
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    await chmod(join(e.parentPath, e.name), e.isDirectory() ? 0o755 : 0o644)
  }
}

