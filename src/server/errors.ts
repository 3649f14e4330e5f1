import { LabbookError, type ErrorCode } from '../errors.js'

/** MLflow's error codes we answer with (mlflow/protos/databricks.proto), and their HTTP status. */
export type MlflowErrorCode =
  | 'INVALID_PARAMETER_VALUE'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'BAD_REQUEST'
  | 'ENDPOINT_NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'REQUEST_LIMIT_EXCEEDED'
  | 'TEMPORARILY_UNAVAILABLE'
  | 'NOT_IMPLEMENTED'
  | 'INTERNAL_ERROR'

const STATUS: Record<MlflowErrorCode, number> = {
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  RESOURCE_ALREADY_EXISTS: 400,
  BAD_REQUEST: 400,
  ENDPOINT_NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  REQUEST_LIMIT_EXCEEDED: 413,
  TEMPORARILY_UNAVAILABLE: 503,
  NOT_IMPLEMENTED: 501,
  INTERNAL_ERROR: 500,
}

/** An error the server answers as MLflow does: `{"error_code", "message"}` with the code's HTTP status. */
export class ApiError extends Error {
  override name = 'ApiError'
  readonly status: number
  constructor(readonly errorCode: MlflowErrorCode, message: string, status?: number, options?: ErrorOptions) {
    super(message, options)
    this.status = status ?? STATUS[errorCode]
  }
}

export function invalid(message: string): ApiError {
  return new ApiError('INVALID_PARAMETER_VALUE', message)
}

export function notFound(message: string): ApiError {
  return new ApiError('RESOURCE_DOES_NOT_EXIST', message)
}

/**
 * The one place labbook's error codes become MLflow's. MLflow's client retries 5xx for minutes,
 * so everything a client can cause maps to a 4xx; only our own failures (git, disk) are 5xx.
 */
const FROM_LABBOOK: Partial<Record<ErrorCode, MlflowErrorCode>> = {
  RUN_EXISTS: 'RESOURCE_ALREADY_EXISTS',
  RUN_NOT_FOUND: 'RESOURCE_DOES_NOT_EXIST',
  EXPERIMENT_NOT_FOUND: 'RESOURCE_DOES_NOT_EXIST',
  ARTIFACT_NOT_FOUND: 'RESOURCE_DOES_NOT_EXIST',
  EXPERIMENT_EXISTS: 'RESOURCE_ALREADY_EXISTS',
  RUN_AMBIGUOUS: 'INVALID_PARAMETER_VALUE',
  RUN_NOT_ACTIVE: 'INVALID_PARAMETER_VALUE',
  RUN_ENDED: 'INVALID_PARAMETER_VALUE',
  INVALID_KEY: 'INVALID_PARAMETER_VALUE',
  INVALID_VALUE: 'INVALID_PARAMETER_VALUE',
  INVALID_ID: 'INVALID_PARAMETER_VALUE',
  INVALID_STATUS: 'INVALID_PARAMETER_VALUE',
  INVALID_ARGUMENT: 'INVALID_PARAMETER_VALUE',
  INVALID_FILTER: 'INVALID_PARAMETER_VALUE',
  PARAM_CHANGED: 'INVALID_PARAMETER_VALUE',
  VALUE_TOO_LONG: 'INVALID_PARAMETER_VALUE',
  PATH_ESCAPE: 'INVALID_PARAMETER_VALUE',
  USAGE: 'INVALID_PARAMETER_VALUE',
  LOCK_TIMEOUT: 'TEMPORARILY_UNAVAILABLE',
  NOT_A_GIT_REPO: 'INTERNAL_ERROR',
  BRANCH_MISSING: 'INTERNAL_ERROR',
  FORMAT_TOO_NEW: 'INTERNAL_ERROR',
  CORRUPT_DATA: 'INTERNAL_ERROR',
  GIT_FAILED: 'INTERNAL_ERROR',
  IO_FAILED: 'INTERNAL_ERROR',
}

/** Any thrown value as an ApiError; unknown errors are our bugs, so 500. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e
  if (e instanceof LabbookError) {
    const code = FROM_LABBOOK[e.code] ?? guess(e.code)
    return new ApiError(code, e.hint ? `${e.message} ${e.hint}` : e.message, undefined, { cause: e })
  }
  const message = e instanceof Error ? e.message : String(e)
  return new ApiError('INTERNAL_ERROR', `Internal error: ${message}`, undefined, { cause: e })
}

/** Codes added to the core after this table: judged by their name, so a new client mistake is still a 4xx. */
function guess(code: string): MlflowErrorCode {
  if (code.endsWith('_NOT_FOUND')) return 'RESOURCE_DOES_NOT_EXIST'
  if (code.endsWith('_EXISTS')) return 'RESOURCE_ALREADY_EXISTS'
  if (code.startsWith('INVALID_') || code.endsWith('_TOO_LONG') || code.endsWith('_CHANGED')) return 'INVALID_PARAMETER_VALUE'
  return 'INTERNAL_ERROR'
}
