/** Every error labbook raises on purpose carries one of these codes; names never change. */
export type ErrorCode =
  | 'NOT_A_GIT_REPO'
  | 'BRANCH_MISSING'
  | 'FORMAT_TOO_NEW'
  | 'CORRUPT_DATA'
  | 'RUN_NOT_FOUND'
  | 'RUN_AMBIGUOUS'
  | 'RUN_EXISTS'
  | 'RUN_LOCKED'
  | 'RUN_NOT_ACTIVE'
  | 'RUN_ENDED'
  | 'EXPERIMENT_NOT_FOUND'
  | 'EXPERIMENT_EXISTS'
  | 'INVALID_KEY'
  | 'INVALID_VALUE'
  | 'INVALID_ID'
  | 'INVALID_STATUS'
  | 'INVALID_ARGUMENT'
  | 'INVALID_FILTER'
  | 'PARAM_CHANGED'
  | 'VALUE_TOO_LONG'
  | 'PATH_ESCAPE'
  | 'ARTIFACT_NOT_FOUND'
  | 'LOCK_TIMEOUT'
  | 'GIT_FAILED'
  | 'IO_FAILED'
  | 'USAGE'

/** The one error class of labbook: a stable `code`, a message (what happened and why) and a hint (what to do). */
export class LabbookError extends Error {
  override name = 'LabbookError'
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    readonly data: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

export function isLabbookError(e: unknown, code?: ErrorCode): e is LabbookError {
  return e instanceof LabbookError && (code === undefined || e.code === code)
}
