import type { ParamValue } from './run.js'

/** JSON's number grammar: what `{"lr": 1e-3}` in a `$LABBOOK_METRICS` line reads as a number. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/

/**
 * The one rule for a param typed as text (`-p lr=1e-3`, `labbook log param`): what JSON would read as a number is
 * that number (`1e-3` and `0.001` are the same param), `true`/`false` are booleans, anything else stays text as
 * typed (`007`, `1_000`, `0x10`, ` 1`). Browser-safe.
 * @example paramFromText('1e-3') // 0.001
 */
export function paramFromText(text: string): ParamValue {
  if (text === 'true') return true
  if (text === 'false') return false
  if (JSON_NUMBER.test(text)) {
    const n = Number(text)
    if (Number.isFinite(n)) return n
  }
  return text
}

/**
 * Whether two values are the same param: equal values, or a text that reads by `paramFromText` as the other
 * (`"0.001"` logged by a script and `0.001` from `-p lr=1e-3`). MLflow keeps params as strings, so it never sees
 * these as a change either.
 */
export function sameParam(a: ParamValue, b: ParamValue): boolean {
  if (Object.is(a, b) || a === b) return true
  const na = typeof a === 'string' ? paramFromText(a) : a
  const nb = typeof b === 'string' ? paramFromText(b) : b
  return Object.is(na, nb) || na === nb
}
