/** Locates the Astro project (`site/`) and the library folder the pages import as `labbook-lib`, from source or from an install. */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { LabbookError } from '../../errors.js'
import { packageRoot } from '../../package-files.js'

// Where the package and the library are is package-files.ts's question (source, compiled or bundled).
export { libDir, packageRoot } from '../../package-files.js'

/** The Astro project shipped in the package. */
export function siteTemplateDir(): string {
  const d = join(packageRoot(), 'site')
  if (!existsSync(join(d, 'src', 'pages'))) throw new LabbookError('IO_FAILED', `The site template is missing at ${d}.`, 'Reinstall labbook; the package ships site/.')
  return d
}

/** The node_modules folder that holds astro (hoisted in a user's project, or nested under labbook). */
export function modulesDir(): string {
  const req = createRequire(import.meta.url)
  return dirname(dirname(req.resolve('astro/package.json')))
}
