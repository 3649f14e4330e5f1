import type { Lifecycle } from './run.js'

export interface Experiment {
  id: string
  name: string
  lifecycle: Lifecycle
  createdAt: number
  updatedAt?: number
  description?: string
  tags: Record<string, string>
}

export const DEFAULT_EXPERIMENT_NAME = 'Default'
/** MLflow clients address the default experiment as "0"; we keep that id. */
export const DEFAULT_EXPERIMENT_ID = '0'
