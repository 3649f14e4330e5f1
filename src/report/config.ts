/** Reads the goals part of `labbook.config.yaml` from a code repository (Node side; goals.ts stays browser-safe). */
import { CONFIG_FILE } from '../format/config.js'
import { loadConfig } from '../format/config-file.js'
import type { GoalConfig } from './goals.js'

export { CONFIG_FILE }

/**
 * The metric goals and primary metrics configured in `<repo>/labbook.config.yaml`; `{}` when there is no such file.
 * @example const goals = await loadGoalConfig(book.repo)
 */
export async function loadGoalConfig(repo: string): Promise<GoalConfig> {
  const { metrics, primary } = loadConfig(repo)
  return { ...(metrics && { metrics }), ...(primary && { primary }) }
}
