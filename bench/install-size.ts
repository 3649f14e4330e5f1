/** What an install put in node_modules: its packages (nested ones too) and bytes on disk (`du -sb`). */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

export function installedPackages(nodeModules: string): { count: number; bytes: number; names: string[] } {
  const names: string[] = []
  const walk = (dir: string) => {
    if (!existsSync(dir)) return
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue
      if (e.name.startsWith('@')) {
        for (const s of readdirSync(join(dir, e.name), { withFileTypes: true })) {
          if (!s.isDirectory()) continue
          names.push(`${e.name}/${s.name}`)
          walk(join(dir, e.name, s.name, 'node_modules'))
        }
      } else {
        names.push(e.name)
        walk(join(dir, e.name, 'node_modules'))
      }
    }
  }
  walk(nodeModules)
  const bytes = Number(execFileSync('du', ['-sb', nodeModules], { encoding: 'utf8' }).split('\t')[0])
  return { count: names.length, bytes, names: names.sort() }
}
