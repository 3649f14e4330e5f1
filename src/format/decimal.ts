/**
 * JSON number text to a double, read from bytes with no string made: the number scan of metric chunks
 * (src/format/jsonl.ts). A million-point history is mostly 16-17 digit values (what `String(v)` writes for a
 * double), which `Number(text)` reads ~10× slower than this, counting the string it needs. The result is always
 * the correctly rounded double, the one `JSON.parse` gives:
 * - up to 2^53 with a power of ten up to 10^22: one exact operation, correctly rounded (Clinger's fast path);
 * - up to 19 digits divided by a power of ten up to 10^22: the quotient in double-double arithmetic (error under
 *   2^-45 of a unit in the last place), rounded once; when that is too near a halfway point to be sure (about one
 *   value in 10^7, and every exact tie such as 9007199254740993), and for anything else (more digits, larger
 *   exponents), `Number` of the text decides.
 * test/format/decimal.test.ts compares it with `JSON.parse` (property test).
 */

const POW10 = Array.from({ length: 23 }, (_, i) => Math.pow(10, i))
const TWO53 = 9007199254740992
/** Veltkamp's splitter for doubles: 2^27 + 1. */
const SPLIT = 134217729
const F64 = new Float64Array(1)
const U32 = new Uint32Array(F64.buffer)
/** The bit tricks below read the double's high word at index 1 (little-endian); elsewhere every hard case goes to Number. */
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Where the last `scanDecimal` stopped: the index after the number, or 0 when it failed. */
export let decimalEnd = 0

/**
 * The JSON number (strict grammar) at buf[at, limit), its value, and `decimalEnd` after it; NaN with
 * `decimalEnd = 0` when the bytes are not one (the caller reads the line another way).
 * @example scanDecimal(Buffer.from('0.30000000000000004,'), 0, 20) // 0.30000000000000004, decimalEnd 19
 */
export function scanDecimal(buf: Buffer, at: number, limit: number): number {
  decimalEnd = 0
  let j = at
  const neg = buf[j] === 45
  if (neg) j++
  const first = j
  // the significant digits as hi (the first 15: exact) and lo (the next 4, nLo of them); `more` past 19
  let hi = 0, lo = 0, nLo = 0, sig = 0, frac = 0, more = false
  for (; j < limit; j++) {
    const d = buf[j]! - 48
    if (d < 0 || d > 9) break
    if (sig < 15) { hi = hi * 10 + d; if (hi !== 0) sig++ } else if (sig < 19) { lo = lo * 10 + d; nLo++; sig++ } else more = true
  }
  if (j === first || (buf[first] === 48 && j - first > 1)) return NaN
  if (buf[j] === 46) {
    const f0 = ++j
    for (; j < limit; j++) {
      const d = buf[j]! - 48
      if (d < 0 || d > 9) break
      if (sig < 15) { hi = hi * 10 + d; if (hi !== 0) sig++ } else if (sig < 19) { lo = lo * 10 + d; nLo++; sig++ } else more = true
    }
    if (j === f0) return NaN
    frac = j - f0
  }
  let e = 0
  if (buf[j] === 101 || buf[j] === 69) {
    j++
    const eneg = buf[j] === 45
    if (eneg || buf[j] === 43) j++
    const e0 = j
    for (; j < limit; j++) {
      const d = buf[j]! - 48
      if (d < 0 || d > 9) break
      if (e < 100_000) e = e * 10 + d
    }
    if (j === e0) return NaN
    if (eneg) e = -e
  }
  decimalEnd = j
  const e10 = e - frac
  let v = NaN
  if (!more) {
    const m = nLo === 0 ? hi : hi * POW10[nLo]! + lo
    if (m < TWO53) {
      // m exact, 10^|e10| exact: one operation rounds correctly
      if (e10 === 0) v = m
      else if (e10 < 0 && e10 >= -22) v = m / POW10[-e10]!
      else if (e10 > 0 && e10 <= 22) v = m * POW10[e10]!
    } else if (e10 < 0 && e10 >= -22) {
      v = divide(hi, lo, nLo, POW10[-e10]!)
    }
  }
  if (v !== v) v = Number(buf.toString('latin1', neg ? at + 1 : at, j))
  return neg ? -v : v
}

/** The low part of a * b (a * b = p + result exactly), Dekker's product with Veltkamp's split. */
function productError(a: number, b: number, p: number): number {
  let c = SPLIT * a
  const ah = c - (c - a), al = a - ah
  c = SPLIT * b
  const bh = c - (c - b), bl = b - bh
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl
}

/**
 * (hi · 10^nLo + lo) / P correctly rounded, for a numerator in [2^53, 10^19) and P = 10^k exact; NaN when the
 * double-double quotient lies too near a halfway point between two doubles to round it with certainty.
 */
function divide(hi: number, lo: number, nLo: number, P: number): number {
  if (!LITTLE) return NaN
  // the numerator M exactly as MH + ML (M < 2^64: ML is a small integer)
  const a = hi * POW10[nLo]!
  const aErr = productError(hi, POW10[nLo]!, a)
  const MH = a + lo
  const bb = MH - a
  const ML = ((a - (MH - bb)) + (lo - bb)) + aErr
  // q within ~2 ulp of M/P; the remainder R = M - q·P almost exactly (q·P = p + pErr exactly; MH - p is exact)
  const q = MH / P
  const p = q * P
  const R = ((MH - p) - productError(q, P, p)) + ML
  const d = R / P
  const res = q + d
  // how far q + d lies from res, against the half-gaps to res's neighbours (the lower one is half as wide at a power of two)
  const tail = d - (res - q)
  F64[0] = res
  const hiWord = U32[1]!, loWord = U32[0]!
  const exp = hiWord >>> 20
  if (exp <= 52 || exp >= 2047) return NaN
  U32[1] = (exp - 52) << 20
  U32[0] = 0
  const ulp = F64[0]
  const up = ulp / 2
  const down = (hiWord & 0xfffff) === 0 && loWord === 0 ? ulp / 4 : up
  const margin = ulp * 2 ** -24
  if (tail >= up - margin || -tail >= down - margin) return NaN
  return res
}
