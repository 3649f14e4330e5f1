/**
 * Where labbook's own files are: the package root (package.json, templates/, site/), the library folder the site
 * imports, and the scripts that run in a process or thread of their own. The one module that asks `import.meta.url`
 * where the code sits, because that differs by how labbook runs:
 *   - from source (tsx, vitest):  this file is src/package-files.ts
 *   - compiled (tsc):             dist/src/package-files.js
 *   - bundled (the published bin, `npm run build`): one of the files in dist/bundle/, which esbuild builds with
 *     LABBOOK_BUNDLE defined (cli/bundle.mjs, `npm run build:bundle`); every file of the bundle sits in that one folder.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LabbookError } from './errors.js'

/** Defined (true) by esbuild in the bundle only; unbound elsewhere, hence `typeof`. */
declare const LABBOOK_BUNDLE: boolean | undefined

const here = dirname(fileURLToPath(import.meta.url))
const bundled = typeof LABBOOK_BUNDLE !== 'undefined' && LABBOOK_BUNDLE

let root: string | undefined

/** The package root: the nearest folder up from this code whose package.json is labbook's. */
export function packageRoot(): string {
  if (root) return root
  for (let d = here; ; d = dirname(d)) {
    const pj = join(d, 'package.json')
    if (existsSync(pj)) {
      try { if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'labbook') return (root = d) } catch { /* keep looking */ }
    }
    if (dirname(d) === d) throw new LabbookError('IO_FAILED', `Could not find labbook's package.json above ${here}.`, 'Reinstall labbook.')
  }
}

/** labbook's version, from its package.json ('0.0.0' if it cannot be read). */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
}

/**
 * The library folder the site's pages import as `labbook-lib`: `src/` from source, `dist/src/` compiled or bundled
 * (the bundle ships beside it; the pages import the library's own modules, not the bundle's chunks).
 */
export function libDir(): string {
  return bundled ? join(packageRoot(), 'dist', 'src') : here
}

/** Scripts run apart from the caller: `pack` in a detached process, `metrics-worker` and `commit-worker` in worker threads. */
const SCRIPTS = { pack: 'store/pack-main.js', 'metrics-worker': 'cli-support/metrics-worker.js', 'commit-worker': 'track/commit-worker.js' } as const

/**
 * The file of one of those scripts: an entry of its own in the bundle, else the compiled module. From source it
 * names a `.js` file that does not exist (the callers then do without: no background packing, the in-process tailer).
 */
export function scriptPath(name: keyof typeof SCRIPTS): string {
  return bundled ? join(here, `${name}.js`) : join(here, SCRIPTS[name])
}

/** From the TypeScript sources (tsx, vitest): the `.ts` file of one of those scripts; undefined compiled or bundled. */
export function sourceScript(name: keyof typeof SCRIPTS): string | undefined {
  if (bundled || !import.meta.url.endsWith('.ts')) return undefined
  const file = join(here, SCRIPTS[name].replace(/\.js$/, '.ts'))
  return existsSync(file) ? file : undefined
}
