import { describe as group, expect, it } from 'vitest'
import { describe, tCdf, tQuantile, welch } from '../../src/judge/stats.js'

/*
 * Reference values, produced independently of src/judge/stats.ts (the Welch block below also has scipy's own outputs):
 * P(T ≤ t) = 1/2 + 1/2 · ∫₀^atan(t/√ν) cos^(ν−1)θ dθ / ∫₀^(π/2) cos^(ν−1)θ dθ   (substitute x = √ν·tanθ in the t density),
 * each integral by Simpson's rule with 200,000 intervals, quantiles by 60 bisections of that CDF. `referenceCdf` below is
 * that method, kept in the test so the literals can be re-derived; the literals were printed by it to 12 digits.
 * The integer-ν quantiles agree with the NIST/SEMATECH e-Handbook table 1.3.6.7.2 (12.706, 4.303, 2.776, 2.262, 2.045).
 */
function simpson(f: (x: number) => number, a: number, b: number, n = 20_000): number {
  const h = (b - a) / n
  let s = f(a) + f(b)
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * f(a + i * h)
  return (s * h) / 3
}
function referenceCdf(t: number, nu: number): number {
  const f = (th: number) => Math.cos(th) ** (nu - 1)
  const part = simpson(f, 0, Math.atan(Math.abs(t) / Math.sqrt(nu))) / simpson(f, 0, Math.PI / 2)
  return t >= 0 ? 0.5 + 0.5 * part : 0.5 - 0.5 * part
}

const QUANTILE_975: [number, number][] = [
  [1, 12.7062047362], [2, 4.30265272975], [4, 2.77644510520], [9, 2.26215716280], [29, 2.04522964213],
  [3.5, 2.94008863798], [24.98852929023142, 2.05958649136],
]

group('Student t', () => {
  it('gives the 0.975 quantiles of the reference integration', () => {
    for (const [nu, q] of QUANTILE_975) expect(tQuantile(0.975, nu)).toBeCloseTo(q, 9)
    expect(tQuantile(0.025, 4)).toBeCloseTo(-2.7764451052, 9)
    expect(tQuantile(0.5, 7)).toBe(0)
    expect(tQuantile(0.975, 1e7)).toBeCloseTo(1.959964, 5) // the normal limit
  })
  it('matches the reference CDF (integration kept in this file) at fractional ν', () => {
    expect(tCdf(2, 5)).toBeCloseTo(0.949030260585, 10)
    expect(tCdf(1, 3)).toBeCloseTo(0.804498890522, 10)
    expect(tCdf(2.45535639828601, 24.98852929023142)).toBeCloseTo(0.989310999269, 10)
    for (const [t, nu] of [[0.7, 2.3], [-1.3, 6.6], [3.1, 11]] as const) expect(tCdf(t, nu)).toBeCloseTo(referenceCdf(t, nu), 8)
  })
  it('returns NaN for impossible arguments', () => {
    expect(tQuantile(1, 3)).toBeNaN()
    expect(tQuantile(0.9, 0)).toBeNaN()
    expect(tCdf(NaN, 3)).toBeNaN()
  })
})

group('describe', () => {
  it('gives n, mean, sample std, min, max and the t interval of the mean', () => {
    const s = describe([1, 2, 3])!
    expect(s).toMatchObject({ n: 3, mean: 2, std: 1, min: 1, max: 3 })
    // mean ± t(0.975, 2) · 1/√3 = 2 ± 4.30265272975 / 1.7320508075688772
    expect(s.ci![0]).toBeCloseTo(2 - 4.30265272975 / Math.sqrt(3), 9)
    expect(s.ci![1]).toBeCloseTo(2 + 4.30265272975 / Math.sqrt(3), 9)
  })
  it('has no interval for one value and nothing for none', () => {
    expect(describe([0.5])).toEqual({ n: 1, mean: 0.5, std: 0, min: 0.5, max: 0.5 })
    expect(describe([])).toBeUndefined()
  })
})

group('welch', () => {
  // Wikipedia "Welch's t-test", example 1 (A1 vs A2): t = 2.46, ν ≈ 25.0, p = 0.021 (the page gives 3 digits);
  // the finer values below are the formulas evaluated by hand in this test and the reference integration above.
  const A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
  const A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
  it('reproduces the published example', () => {
    const d = welch(describe(A1)!, describe(A2)!)
    expect(d.diff).toBeCloseTo(2.1666666667, 9)
    expect(d.df).toBeCloseTo(24.98852929023142, 9)
    expect(d.diff / d.se).toBeCloseTo(2.46, 2)
    expect(2 * (1 - tCdf(d.diff / d.se, d.df))).toBeCloseTo(0.021, 3)
    expect(2 * (1 - referenceCdf(d.diff / d.se, d.df))).toBeCloseTo(2 * (1 - 0.989310999269), 8)
    // CI = diff ± t(0.975, ν)·se with t from the reference table above
    expect(d.ci![0]).toBeCloseTo(d.diff - 2.05958649136 * d.se, 8)
    expect(d.ci![1]).toBeCloseTo(d.diff + 2.05958649136 * d.se, 8)
  })
  // scipy 1.17.1's Welch test, printed once and written here as literals:
  //   python3 -c "from scipy import stats; A1=[...]; A2=[...]; r=stats.ttest_ind(A2, A1, equal_var=False);
  //     ci=r.confidence_interval(0.95); print(r.statistic, r.pvalue, r.df, ci.low, ci.high)"
  // and for the t quantiles: python3 -c "from scipy import stats; print(stats.t.ppf(0.975, 24.98852929023142))"
  it("matches scipy's ttest_ind(equal_var=False): statistic, df, p-value and the 95% interval", () => {
    const d = welch(describe(A1)!, describe(A2)!)
    expect(d.diff / d.se).toBeCloseTo(2.455356398286006, 10)
    expect(d.df).toBeCloseTo(24.988529290231416, 10)
    expect(2 * (1 - tCdf(d.diff / d.se, d.df))).toBeCloseTo(0.021378001462866992, 9)
    expect(d.ci![0]).toBeCloseTo(0.3492370661924069, 9)
    expect(d.ci![1]).toBeCloseTo(3.984096267140929, 9)
    expect(tQuantile(0.975, 24.98852929023142)).toBeCloseTo(2.0595864913656254, 9)
    for (const [nu, q] of [[1, 12.706204736174694], [2, 4.302652729749462], [4, 2.7764451051977934], [9, 2.262157162798205], [29, 2.045229642132703], [3.5, 2.9400886379827282]] as const) {
      expect(tQuantile(0.975, nu)).toBeCloseTo(q, 9)
    }
  })
  // The end-to-end fixture (test/judge/faces.test.ts): 5 seeds of config A vs 5 of B (within noise) and of C (worse).
  //   python3 -c "from scipy import stats; A=[0.800,0.810,0.790,0.805,0.795]; B=[0.802,0.812,0.792,0.798,0.803];
  //     C=[0.700,0.705,0.695,0.702,0.698]; [print(r.statistic, r.pvalue, r.df, r.confidence_interval(0.95))
  //     for r in (stats.ttest_ind(X, A, equal_var=False) for X in (B, C))]"
  it("matches scipy on the end-to-end test's seeds: B's interval crosses zero, C's does not", () => {
    const A = [0.800, 0.810, 0.790, 0.805, 0.795], B = [0.802, 0.812, 0.792, 0.798, 0.803], C = [0.700, 0.705, 0.695, 0.702, 0.698]
    const b = welch(describe(A)!, describe(B)!), c = welch(describe(A)!, describe(C)!)
    expect(b.diff / b.se).toBeCloseTo(0.29028405455721334, 9)
    expect(b.df).toBeCloseTo(7.955480987958575, 9)
    expect(b.ci![0]).toBeCloseTo(-0.009732382612766722, 9)
    expect(b.ci![1]).toBeCloseTo(0.012532382612766636, 9)
    expect(c.diff / c.se).toBeCloseTo(-25.482359571881304, 8)
    expect(c.df).toBeCloseTo(5.761204907081258, 9)
    expect(c.ci![0]).toBeCloseTo(-0.10969968366393713, 9)
    expect(c.ci![1]).toBeCloseTo(-0.09030031633606327, 9)
  })
  it('has no interval when a side has one run, and a point interval when nothing varies', () => {
    expect(welch({ n: 1, mean: 1, std: 0 }, { n: 5, mean: 2, std: 1 }).ci).toBeUndefined()
    expect(welch({ n: 3, mean: 1, std: 0 }, { n: 3, mean: 2, std: 0 })).toMatchObject({ diff: 1, se: 0, ci: [1, 1] })
  })
})
