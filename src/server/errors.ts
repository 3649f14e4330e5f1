import { ERRORS, LabbookError, MLFLOW_STATUS, type MlflowErrorCode } from '../errors.js'

export type { MlflowErrorCode }

/** An error the server answers as MLflow does: `{"error_code", "message"}` with the code's HTTP status. */
export class ApiError extends Error {
  override name = 'ApiError'
  readonly status: number
  constructor(readonly errorCode: MlflowErrorCode, message: string, status?: number, options?: ErrorOptions) {
    super(message, options)
    this.status = status ?? MLFLOW_STATUS[errorCode]
  }
}

export function invalid(message: string): ApiError {
  return new ApiError('INVALID_PARAMETER_VALUE', message)
}

export function notFound(message: string): ApiError {
  return new ApiError('RESOURCE_DOES_NOT_EXIST', message)
}

/**
 * Any thrown value as an ApiError. labbook's codes become MLflow's through the catalog (src/errors.ts), the one
 * place that mapping is written; anything else is our bug, so a 500.
 */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e
  if (e instanceof LabbookError) {
    const info = ERRORS[e.code] ?? { mlflow: 'INTERNAL_ERROR' as const } // a code outside the catalog only arrives through a cast: our bug
    return new ApiError(info.mlflow, e.hint ? `${e.message} ${e.hint}` : e.message, info.status, { cause: e })
  }
  const message = e instanceof Error ? e.message : String(e)
  return new ApiError('INTERNAL_ERROR', `Internal error: ${message}`, undefined, { cause: e })
}
