/** Locates the Astro project (`site/`) and the library folder the pages import as `labbook-lib`, from source or from an install. */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LabbookError } from '../../errors.js'

const here = dirname(fileURLToPath(import.meta.url))

/** The package root: the nearest folder up from this file whose package.json is labbook's. */
export function packageRoot(): string {
  for (let d = here; ; d = dirname(d)) {
    const pj = join(d, 'package.json')
    if (existsSync(pj)) {
      try { if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'labbook') return d } catch { /* keep looking */ }
    }
    if (dirname(d) === d) throw new LabbookError('IO_FAILED', `Could not find labbook's package.json above ${here}.`, 'Reinstall labbook.')
  }
}

/** The Astro project shipped in the package. */
export function siteTemplateDir(): string {
  const d = join(packageRoot(), 'site')
  if (!existsSync(join(d, 'src', 'pages'))) throw new LabbookError('IO_FAILED', `The site template is missing at ${d}.`, 'Reinstall labbook; the package ships site/.')
  return d
}

/** `src/` when running from source (tsx, vitest), `dist/src/` when installed: the folder above `site/build/` here. */
export function libDir(): string {
  return resolve(here, '..', '..')
}

/** The node_modules folder that holds astro (hoisted in a user's project, or nested under labbook). */
export function modulesDir(): string {
  const req = createRequire(import.meta.url)
  return dirname(dirname(req.resolve('astro/package.json')))
}
