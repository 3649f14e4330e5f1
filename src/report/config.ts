/** Reads the goals part of `labbook.config.yaml` from a code repository (Node side; goals.ts stays browser-safe). */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { LabbookError } from '../errors.js'
import { type GoalConfig, parseGoalConfig } from './goals.js'

export const CONFIG_FILE = 'labbook.config.yaml'

/**
 * The metric goals and primary metrics configured in `<repo>/labbook.config.yaml`; `{}` when there is no such file.
 * @example const goals = await loadGoalConfig(book.repo)
 */
export async function loadGoalConfig(repo: string): Promise<GoalConfig> {
  const file = join(repo, CONFIG_FILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new LabbookError('IO_FAILED', `Could not read ${file}: ${(e as Error).message}.`, undefined, { file }, { cause: e })
  }
  let value: unknown
  try {
    value = parseYaml(text)
  } catch (e) {
    throw new LabbookError('INVALID_VALUE', `${file} is not valid YAML: ${(e as Error).message}`, `Fix or remove ${CONFIG_FILE}.`, { file }, { cause: e })
  }
  return parseGoalConfig(value, file)
}
