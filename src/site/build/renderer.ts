/**
 * The live renderer: the site's own pages (`site/src/pages`) compiled once with Astro's `output: 'server'` and a
 * 20-line adapter of our own (`site/src/live/entry.ts`, Astro's `App` class), so `labbook serve` / `labbook ui` render
 * them per request from the branch plus the journals of runs in progress. No data goes into this build: it depends
 * only on the template and the library, so it is built once per labbook version (first use) and cached.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { LabbookError } from '../../errors.js'
import { astroConfig, hideViteEnv, prepareWork } from './index.js'
import { libDir, siteTemplateDir } from './template.js'
import { importExternal } from '../../external-import.js'

/** What `site/src/live/entry.ts` exports once built (see there). */
export interface Renderer {
  /** Renders the page at `url` (absolute) with `ctx` as the site's data. */
  render(url: string, ctx: unknown): Promise<{ status: number; headers: Array<[string, string]>; body: string }>
  /** The built client assets (`_astro/…`), served as static files. */
  clientDir: string
}

const BUILT = 'renderer.json'

/** A key of everything the renderer is compiled from: the template's files and the library's (name, size, mtime), server code aside. */
export async function rendererKey(base = '/'): Promise<string> {
  const h = createHash('sha256')
  if (base !== '/') h.update(`base\0${base}\n`) // the live server's key ('/') stays what it was
  for (const root of [join(siteTemplateDir(), 'src'), libDir()]) {
    // the server's own code is not in the pages' bundle: changing it needs no new renderer
    const entries = (await readdir(root, { withFileTypes: true, recursive: true })).filter((e) => e.isFile() && !e.parentPath.startsWith(join(libDir(), 'server'))).map((e) => join(e.parentPath, e.name)).sort()
    for (const f of entries) {
      const s = await stat(f)
      h.update(`${f}\0${s.size}\0${s.mtimeMs}\n`)
    }
  }
  return h.digest('hex').slice(0, 16)
}

/**
 * The renderer folder for the current template and library under `dir` (`<gitdir>/labbook/live-site`), built if
 * missing (tens of seconds: Astro and Vite compile every page once). Older builds are removed. `base`: the URL path the
 * pages are served under (the live server's is `/`; an incremental static build's is its `--base`). `prepared`: `dir`
 * already holds the template (prepareWork ran: a static build's work folder, whose path the islands' ids hash).
 * @example const folder = await ensureRenderer(join(gitdir, 'labbook', 'live-site'))
 */
export async function ensureRenderer(dir: string, o: { logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent'; base?: string; prepared?: boolean } = {}): Promise<string> {
  const base = o.base ?? '/'
  const key = await rendererKey(base)
  const out = join(dir, `r-${key}`)
  if (existsSync(join(out, BUILT))) return out
  // The build goes inside the work folder: the server bundle imports astro, react… through its node_modules link.
  const work = dir
  if (!o.prepared) await prepareWork(work)
  const tmp = join(dir, `tmp-${process.pid}-${Date.now()}`)
  process.env.ASTRO_TELEMETRY_DISABLED = '1'
  const cwd = process.cwd()
  let moved = false
  try { process.chdir(work); moved = true } catch { /* worker threads cannot chdir */ }
  const restore = hideViteEnv()
  try {
    const { build } = await importExternal<typeof import('astro')>('astro')
    // no data file: pages get their data per request (Astro.locals.labbook, see site-data.ts)
    const config = await astroConfig(work, tmp, base, o.logLevel ?? 'error', null)
    const entry = join(work, 'src', 'live', 'entry.ts')
    await build({
      ...config,
      output: 'server',
      build: { ...config.build, server: join(tmp, 'server'), client: join(tmp, 'client') },
      adapter: {
        name: 'labbook-live',
        hooks: {
          'astro:config:done': ({ setAdapter }) => setAdapter({
            name: 'labbook-live',
            serverEntrypoint: entry,
            exports: ['render'],
            adapterFeatures: { buildOutput: 'server', edgeMiddleware: false },
            supportedAstroFeatures: { serverOutput: 'stable', staticOutput: 'stable', hybridOutput: 'stable', sharpImageService: 'stable' },
          }),
        },
      },
    })
    await writeFile(join(tmp, BUILT), JSON.stringify({ key, builtAt: new Date().toISOString() }) + '\n')
    await rm(out, { recursive: true, force: true })
    await rename(tmp, out)
  } catch (e) {
    await rm(tmp, { recursive: true, force: true })
    throw new LabbookError('IO_FAILED', `Astro could not build the live pages: ${(e as Error).message}`, 'Run with --verbose for details; report it if it persists.', {}, { cause: e })
  } finally {
    if (moved) process.chdir(cwd)
    restore()
  }
  for (const d of await readdir(dir)) if (d.startsWith('r-') && d !== `r-${key}`) await rm(join(dir, d), { recursive: true, force: true })
  return out
}

/** Loads a built renderer into this process. */
export async function loadRenderer(folder: string): Promise<Renderer> {
  const server = join(folder, 'server')
  const file = (await readdir(server)).find((f) => f === 'entry.mjs')
  if (!file || !existsSync(join(folder, BUILT))) throw new LabbookError('IO_FAILED', `No live renderer in ${folder}.`, 'It is rebuilt on the next start of labbook serve / ui.')
  const mod = await importExternal<{ render: Renderer['render'] }>(pathToFileURL(join(server, file)).href)
  return { render: mod.render, clientDir: join(folder, 'client') }
}
