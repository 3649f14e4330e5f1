import { describe, expect, it } from 'vitest'
import { LabbookError } from '../../src/errors.js'
import { toApiError } from '../../src/server/errors.js'
import { authorized, isLoopback } from '../../src/server/guard.js'
import { decodePageToken, encodePageToken, Fields, parseDouble, parseInt64, parseJsonBody, parseRunStatus } from '../../src/server/protocol.js'
import { parseProxyPath } from '../../src/server/routes/artifacts.js'
import { artifactPath as safeArtifactPath } from '../../src/model/path.js'
import { sampleSteps } from '../../src/server/routes/metrics.js'

describe('proto3 JSON in and out', () => {
  it('parses bare NaN/Infinity tokens only outside strings', () => {
    expect(parseJsonBody('{"v": NaN, "w": -Infinity, "s": "NaN is not Infinity"}')).toEqual({ v: 'NaN', w: '-Infinity', s: 'NaN is not Infinity' })
    expect(parseJsonBody('{"s": "quote \\" NaN"}')).toEqual({ s: 'quote " NaN' })
    expect(() => parseJsonBody('{"v": NaNa}')).toThrow(/Malformed JSON/)
  })

  it('reads int64 as numbers or strings and doubles as numbers or proto3 strings', () => {
    expect(parseInt64('1795663176775', 't')).toBe(1795663176775)
    expect(parseInt64(-3, 's')).toBe(-3)
    expect(() => parseInt64('12a', 't')).toThrow()
    expect(() => parseInt64(2 ** 60, 't')).toThrow()
    expect(parseDouble('-Infinity', 'v')).toBe(-Infinity)
    expect(parseDouble('0.5', 'v')).toBe(0.5)
    expect(Number.isNaN(parseDouble('NaN', 'v'))).toBe(true)
    expect(() => parseDouble('', 'v')).toThrow()
    expect(() => parseDouble(true, 'v')).toThrow()
  })

  it('statuses by name or number; fields from body over query; repeated query params as lists', () => {
    expect(parseRunStatus(3)).toBe('FINISHED')
    expect(parseRunStatus('KILLED')).toBe('KILLED')
    expect(parseRunStatus('SCHEDULED')).toBe('RUNNING')
    expect(() => parseRunStatus('DONE')).toThrow()
    const f = new Fields({ run_id: 'b' }, new URLSearchParams('run_id=a&run_ids=x&run_ids=y'))
    expect(f.requiredStr('run_id')).toBe('b')
    expect(f.strList('run_ids')).toEqual(['x', 'y'])
    expect(() => new Fields({}, new URLSearchParams()).requiredStr('run_id', 'run_uuid')).toThrow(/run_id/)
  })

  it('page tokens round-trip and bad ones are a 400', () => {
    expect(decodePageToken(encodePageToken(1234))).toBe(1234)
    expect(() => decodePageToken('garbage!')).toThrow()
    try {
      decodePageToken(Buffer.from('{"offset":-1}').toString('base64'))
    } catch (e) {
      expect(toApiError(e).status).toBe(400)
    }
  })
})

describe('the error table', () => {
  it('maps client mistakes to 4xx and our failures to 5xx', () => {
    expect(toApiError(new LabbookError('RUN_NOT_FOUND', 'x'))).toMatchObject({ status: 404, errorCode: 'RESOURCE_DOES_NOT_EXIST' })
    expect(toApiError(new LabbookError('PARAM_CHANGED', 'x'))).toMatchObject({ status: 400, errorCode: 'INVALID_PARAMETER_VALUE' })
    expect(toApiError(new LabbookError('RUN_EXISTS', 'x'))).toMatchObject({ status: 400, errorCode: 'RESOURCE_ALREADY_EXISTS' })
    expect(toApiError(new LabbookError('LOCK_TIMEOUT', 'x'))).toMatchObject({ status: 503 })
    expect(toApiError(new LabbookError('GIT_FAILED', 'x'))).toMatchObject({ status: 500 })
    expect(toApiError(new TypeError('boom'))).toMatchObject({ status: 500, errorCode: 'INTERNAL_ERROR' })
    // every code has its mapping in the catalog (test/errors.test.ts); one outside it can only come through a cast
    expect(toApiError(new LabbookError('NOT_A_CODE' as never, 'x')).status).toBe(500)
  })
})

describe('auth and addresses', () => {
  it('accepts Bearer and basic auth with the token as password, nothing else', () => {
    expect(authorized('Bearer t0k', 't0k')).toBe(true)
    expect(authorized('bearer t0k', 't0k')).toBe(true)
    expect(authorized('Bearer t0', 't0k')).toBe(false)
    expect(authorized('Basic ' + Buffer.from('u:t0k').toString('base64'), 't0k')).toBe(true)
    expect(authorized('Basic ' + Buffer.from('u:p:t0k').toString('base64'), 't0k')).toBe(false)
    expect(authorized('Basic ' + Buffer.from('t0k').toString('base64'), 't0k')).toBe(false)
    expect(authorized('Token t0k', 't0k')).toBe(false)
    expect(authorized(undefined, 't0k')).toBe(false)
  })

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopback(h), h).toBe(true)
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) expect(isLoopback(h), h).toBe(false)
  })
})

describe('artifact paths', () => {
  it('refuses escapes and maps proxy paths to runs and logged models', () => {
    // the one artifact-path rule (src/model/path.ts) decides; these must stay refused
    for (const p of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a/./b', 'C:/x', 'a\0b']) expect(() => safeArtifactPath(p), p).toThrow()
    expect(safeArtifactPath('a/b c/d.txt')).toBe('a/b c/d.txt')
    expect(parseProxyPath('1/abc/artifacts/model/MLmodel')).toEqual({ experimentId: '1', runId: 'abc', path: 'model/MLmodel' })
    expect(parseProxyPath('1/models/m-run1-0123abcd/artifacts/w.bin')).toEqual({ experimentId: '1', runId: 'run1', path: 'models/m-run1-0123abcd/w.bin' })
    expect(() => parseProxyPath('1/abc/elsewhere/x')).toThrow()
  })
})

describe('bulk-interval sampling', () => {
  it('keeps the first and last step and spreads the rest', () => {
    const steps = Array.from({ length: 1000 }, (_, i) => i * 2)
    const s = sampleSteps(steps, 5)
    expect(s).toEqual([0, 500, 1000, 1498, 1998])
    expect(sampleSteps([1, 2, 3], 10)).toEqual([1, 2, 3])
  })
})
