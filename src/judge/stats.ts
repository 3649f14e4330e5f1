/**
 * The statistics behind every verdict, in plain arithmetic (no dependency): summary of a sample, Student t quantiles,
 * the 95% confidence interval of a mean, and Welch's interval for the difference of two means. Browser-safe.
 */

/** n, mean, standard deviation (n − 1 in the denominator), min, max, and the 95% CI of the mean (Student t). */
export interface SampleStats {
  n: number
  mean: number
  /** Sample standard deviation (Bessel-corrected); 0 when n = 1. */
  std: number
  min: number
  max: number
  /** 95% confidence interval of the mean: mean ± t(0.975, n−1) · std/√n. Absent when n < 2 (one value says nothing about noise). */
  ci?: [number, number]
}

/**
 * The statistics of a single value: itself as mean, min and max, std 0, no interval (`describe([v])`, without the array).
 * @example describeOne(0.9) // { n: 1, mean: 0.9, std: 0, min: 0.9, max: 0.9 }
 */
export function describeOne(v: number): SampleStats {
  return { n: 1, mean: v, std: 0, min: v, max: v }
}

/**
 * Summary of a sample of finite numbers; undefined for an empty sample.
 * @example describe([1, 2, 3]) // { n: 3, mean: 2, std: 1, min: 1, max: 3, ci: [-0.484…, 4.484…] }
 */
export function describe(values: readonly number[]): SampleStats | undefined {
  const n = values.length
  if (n === 0) return undefined
  if (n === 1) return describeOne(values[0]!)
  let sum = 0, min = Infinity, max = -Infinity
  for (const v of values) { sum += v; if (v < min) min = v; if (v > max) max = v }
  const mean = sum / n
  let ss = 0
  for (const v of values) ss += (v - mean) * (v - mean)
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : 0
  const out: SampleStats = { n, mean, std, min, max }
  if (n > 1) {
    const half = tQuantile(0.975, n - 1) * std / Math.sqrt(n)
    out.ci = [mean - half, mean + half]
  }
  return out
}

/** The difference of two means (b − a) with Welch's 95% interval. */
export interface Difference {
  /** mean(b) − mean(a). */
  diff: number
  /** Standard error of the difference: √(s²a/na + s²b/nb). */
  se: number
  /** Welch–Satterthwaite degrees of freedom (Infinity when both samples have no spread). */
  df: number
  /** 95% interval of the difference; absent when a side has n < 2. */
  ci?: [number, number]
}

/**
 * Welch's difference of means, b − a, with its 95% confidence interval (unequal variances allowed).
 * @example welch({ n: 5, mean: 1, std: 0.1 }, { n: 5, mean: 1.2, std: 0.1 }).ci // [0.054…, 0.345…]
 */
export function welch(a: Pick<SampleStats, 'n' | 'mean' | 'std'>, b: Pick<SampleStats, 'n' | 'mean' | 'std'>, level = 0.95): Difference {
  const diff = b.mean - a.mean
  if (a.n < 2 || b.n < 2) return { diff, se: NaN, df: NaN }
  const va = (a.std * a.std) / a.n, vb = (b.std * b.std) / b.n
  const se = Math.sqrt(va + vb)
  if (se === 0) return { diff, se: 0, df: Infinity, ci: [diff, diff] }
  const df = (va + vb) ** 2 / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1))
  const half = tQuantile(1 - (1 - level) / 2, df) * se
  return { diff, se, df, ci: [diff - half, diff + half] }
}

// ------------------------------------------------------------------ Student t

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: ~15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x)
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7]
  x -= 1
  let a = c[0]!
  const t = x + 7.5
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i)
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a)
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const TINY = 1e-300
  let c = 1, d = 1 - ((a + b) * x) / (a + 1)
  if (Math.abs(d) < TINY) d = TINY
  d = 1 / d
  let h = d
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2))
    d = 1 + aa * d; if (Math.abs(d) < TINY) d = TINY
    c = 1 + aa / c; if (Math.abs(c) < TINY) c = TINY
    d = 1 / d; h *= d * c
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))
    d = 1 + aa * d; if (Math.abs(d) < TINY) d = TINY
    c = 1 + aa / c; if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    const del = d * c
    h *= del
    if (Math.abs(del - 1) < 1e-15) break
  }
  return h
}

/** Regularized incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x))
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b
}

/**
 * P(T ≤ t) for Student's t with `df` degrees of freedom (df may be fractional, as Welch's is).
 * @example tCdf(2.776445, 4) // ≈ 0.975
 */
export function tCdf(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN
  if (df > 1e5) return normalCdf(t)
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5)
  return t >= 0 ? 1 - tail : tail
}

/** Standard normal CDF (erfc by Numerical Recipes' Chebyshev fit, relative error < 1.2e-7): the t limit for df > 1e5. */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2
  const t = 1 / (1 + 0.5 * x)
  const erfc = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
    t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
  return z >= 0 ? 1 - erfc / 2 : erfc / 2
}

const quantileCache = new Map<string, number>()

/**
 * The p-quantile of Student's t with `df` degrees of freedom, 0 < p < 1 (bisection on `tCdf`, to ~1e-12).
 * @example tQuantile(0.975, 4) // 2.7764451…
 */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) return NaN
  if (p === 0.5) return 0
  if (p < 0.5) return -tQuantile(1 - p, df)
  const id = `${p}:${df}`
  const hit = quantileCache.get(id)
  if (hit !== undefined) return hit
    let lo = 0, hi = 1
  while (tCdf(hi, df) < p) { lo = hi; hi *= 2; if (hi > 1e12) break }
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2
    if (tCdf(mid, df) < p) lo = mid
    else hi = mid
  }
  const q = (lo + hi) / 2
  if (quantileCache.size > 10_000) quantileCache.clear()
  quantileCache.set(id, q)
  return q
}
