/** Reads `labbook.config.yaml` from a code repository once per process (re-read only when the file changes). Node only. */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fail } from '../errors.js'
import { CONFIG_FILE, parseConfig, type LabbookConfig } from './config.js'

const cache = new Map<string, { stamp: string; config: LabbookConfig }>()

/**
 * The project's settings from `<repo>/labbook.config.yaml`; `{}` when there is no such file.
 * @example const { branch, metrics } = loadConfig(book.repo)
 */
export function loadConfig(repo: string): LabbookConfig {
  const file = join(repo, CONFIG_FILE)
  let stamp: string
  try {
    const st = statSync(file)
    stamp = `${st.mtimeMs}:${st.size}:${st.ino}`
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return {}
    throw fail('IO_FAILED', `Could not read ${file}: ${(e as Error).message}.`, { data: { file }, cause: e })
  }
  const hit = cache.get(file)
  if (hit?.stamp === stamp) return hit.config
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw fail('IO_FAILED', `Could not read ${file}: ${(e as Error).message}.`, { data: { file }, cause: e })
  }
  const config = parseConfig(text, file)
  cache.set(file, { stamp, config })
  return config
}
