/**
 * The site stack (Astro, React, Observable Plot, linkedom) is an optional peer dependency: `npm install labbook`
 * leaves it out, so a machine that only logs gets a small install. The site build checks for it first and answers
 * SITE_DEPS_MISSING with the exact command. The list and versions are package.json's `peerDependencies`.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fail } from '../../errors.js'
import { packageRoot } from './template.js'

/** The site stack as `name@version`, from labbook's package.json. */
export function siteDependencies(): string[] {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { peerDependencies?: Record<string, string> }
  return Object.entries(pkg.peerDependencies ?? {}).map(([name, range]) => `${name}@${range}`)
}

/** The npm command that installs the site stack. */
export function siteInstallCommand(deps = siteDependencies()): string {
  return `npm install ${deps.join(' ')}`
}

/** Throws SITE_DEPS_MISSING, naming the missing packages and the install command, unless every one resolves from here. */
export function requireSiteDeps(): void {
  const deps = siteDependencies()
  const req = createRequire(import.meta.url)
  const missing = deps.map((d) => d.slice(0, d.lastIndexOf('@'))).filter((name) => {
    try {
      req.resolve(`${name}/package.json`)
      return false
    } catch (e) {
      // a package whose exports hide package.json is installed all the same
      return (e as NodeJS.ErrnoException).code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED'
    }
  })
  if (missing.length === 0) return
  throw fail('SITE_DEPS_MISSING', `Building the site needs ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not installed (the light install leaves the site stack out).`, {
    hint: `Install the site stack where you build the site: \`${siteInstallCommand(deps)}\``,
    data: { missing, command: siteInstallCommand(deps) },
  })
}
