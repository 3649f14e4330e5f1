/** JSON has no NaN or ±Infinity: we spell them as the strings "NaN", "Infinity", "-Infinity". -0 stays -0. Browser-safe (the live ticks use it, src/site/browser/live-tick.ts). */
export function numberToJson(v: number): string {
  if (Number.isFinite(v)) return v === 0 && 1 / v < 0 ? '-0' : String(v)
  return Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"'
}

export function numberFromJson(v: unknown): number | undefined {
  if (typeof v === 'number') return v
  if (v === 'NaN') return NaN
  if (v === 'Infinity') return Infinity
  if (v === '-Infinity') return -Infinity
  return undefined
}

/**
 * A number as a value to hand to JSON.stringify, which writes NaN and ±Infinity as null and -0 as 0: those four as
 * the strings "NaN", "Infinity", "-Infinity", "-0"; any other number as itself. `numberFromJsonValue` reads it back.
 * For files only labbook reads (the series cache); input formats keep `numberFromJson`, which takes no "-0".
 */
export function numberToJsonValue(v: number): number | string {
  if (Number.isFinite(v)) return v === 0 && 1 / v < 0 ? '-0' : v
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'
}

/** The number `numberToJsonValue` wrote; undefined for anything else. */
export function numberFromJsonValue(v: unknown): number | undefined {
  return v === '-0' ? -0 : numberFromJson(v)
}

/** A JSON.stringify replacer for data whose numbers may be non-finite (output of `labbook ls --json` and friends). */
export function nonFiniteReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'
  return v
}

/**
 * Whether `v` (plain JSON data) holds a NaN or ±Infinity anywhere: only then does JSON.stringify need
 * nonFiniteReplacer, whose call per key costs more than this walk (V8 serialises without a replacer natively).
 * @example hasNonFinite({ a: [1, NaN] }) // true
 */
export function hasNonFinite(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isFinite(v)
  if (typeof v !== 'object' || v === null) return false
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (hasNonFinite(v[i])) return true
    return false
  }
  for (const k in v) if (hasNonFinite((v as Record<string, unknown>)[k])) return true
  return false
}
