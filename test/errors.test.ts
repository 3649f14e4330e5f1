import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERRORS, LabbookError, MLFLOW_STATUS, fail, type ErrorCode } from '../src/errors.js'
import { errorsMarkdown } from '../src/errors-doc.js'
import { toApiError } from '../src/server/errors.js'

const codes = Object.keys(ERRORS) as ErrorCode[]

describe('the error catalog', () => {
  it('gives every code a title, a hint, an MLflow code with an HTTP status and an exit code', () => {
    expect(codes.length).toBeGreaterThan(20)
    for (const code of codes) {
      const e = ERRORS[code]
      expect(e.title, code).toMatch(/\S/)
      expect(e.hint, code).toMatch(/\S.*[.)`]$/)
      expect(MLFLOW_STATUS[e.mlflow], code).toBeTypeOf('number')
      expect([1, 2], code).toContain(e.exit)
    }
  })

  it('maps every code through the server to its catalog entry; only our own failures are 5xx', () => {
    // A client's mistake must not be a 5xx: MLflow's client retries those for minutes.
    const clientMistake = /^(RUN_|EXPERIMENT_|INVALID_|USAGE$|PARAM_|VALUE_|PATH_|ARTIFACT_)/
    for (const code of codes) {
      const api = toApiError(new LabbookError(code, 'x.'))
      expect(api.errorCode, code).toBe(ERRORS[code].mlflow)
      expect(api.status, code).toBe(ERRORS[code].status ?? MLFLOW_STATUS[ERRORS[code].mlflow])
      if (clientMistake.test(code)) expect(api.status, code).toBeLessThan(500)
    }
    const locked = toApiError(fail('RUN_LOCKED', 'Run r is being written by process 1.'))
    expect([locked.errorCode, locked.status]).toEqual(['INVALID_STATE', 409])
  })

  it('fills in the catalog hint when a throw site has none, and keeps a specific one', () => {
    expect(new LabbookError('RUN_NOT_FOUND', 'No run "x".').hint).toBe(ERRORS.RUN_NOT_FOUND.hint)
    const e = fail('IO_FAILED', 'Cannot read f.', { hint: 'Check f.', data: { f: 1 }, cause: new Error('EACCES') })
    expect(e).toMatchObject({ code: 'IO_FAILED', hint: 'Check f.', data: { f: 1 } })
    expect((e.cause as Error).message).toBe('EACCES')
  })

  it('docs/errors.md is generated from the catalog (npm run docs:errors)', () => {
    expect(readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')).toBe(errorsMarkdown())
  })
})
