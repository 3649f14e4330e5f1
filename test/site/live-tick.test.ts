/**
 * The ticks the live channel pushes (src/site/browser/live-tick.ts): a page that follows them holds the same points
 * it would fetch, whether its refreshes take the ticks one by one or joined, and it knows when it missed some.
 */
import { describe, expect, it } from 'vitest'
import type { Series } from '../../src/site/browser/charts/series.js'
import { appendTail, encodeTail, joinChanges, joinTicks, tailLimit, type RunTick } from '../../src/site/browser/live-tick.js'

const cols = (n: number, value = (i: number) => 1 / (i + 1)) => ({
  step: Float64Array.from({ length: n }, (_, i) => i),
  time: Float64Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i),
  value: Float64Array.from({ length: n }, (_, i) => value(i)),
})
const series = (n: number): Series => {
  const c = cols(n)
  return { key: 'loss', total: n, step: [...c.step], time: [...c.time], value: [...c.value] }
}
const tick = (c: ReturnType<typeof cols>, from: number): RunTick => ({ run: { id: 'r' } as RunTick['run'], series: { loss: encodeTail(c, from, 1500) }, maxPoints: 1500 })

describe('live ticks', () => {
  it('a page following the ticks holds every point, taken one by one or joined, NaN and ±Infinity included', () => {
    const odd = (i: number) => (i === 12 ? NaN : i === 13 ? Infinity : i === 14 ? -Infinity : i === 15 ? -0 : i * 2)
    const all = cols(40, odd)
    const at = (n: number) => ({ step: all.step.subarray(0, n), time: all.time.subarray(0, n), value: all.value.subarray(0, n) })
    const ticks = [tick(at(20), 10), tick(at(30), 20), tick(at(40), 30)]
    const start: Series = { key: 'loss', total: 10, step: [...all.step.subarray(0, 10)], time: [...all.time.subarray(0, 10)], value: [...all.value.subarray(0, 10)] }
    let one: Series | undefined = start
    for (const t of ticks) one = appendTail(one!, t.series.loss!, 1500)
    const joined = appendTail(start, joinTicks(joinTicks(ticks[0]!, ticks[1]!), ticks[2]!).series.loss!, 1500)
    for (const s of [one!, joined!]) {
      expect(s.total).toBe(40)
      expect(s.step).toEqual([...all.step])
      expect(s.value.map((v) => Object.is(v, -0) ? '-0' : v)).toEqual([...all.value].map((v) => Object.is(v, -0) ? '-0' : v))
    }
  })

  it('missed points are a gap (the page fetches); a tick from before its fetch adds only what is newer; the same tick twice counts once', () => {
    const c = cols(50)
    const view = (n: number) => ({ step: c.step.subarray(0, n), time: c.time.subarray(0, n), value: c.value.subarray(0, n) })
    expect(appendTail(series(10), encodeTail(view(30), 20, 1500), 1500)).toBeUndefined()
    // fetched at 25 points; a tick made for 20 → 30 adds 25..29
    const s = appendTail(series(25), encodeTail(view(30), 20, 1500), 1500)!
    expect(s.step.slice(-6)).toEqual([24, 25, 26, 27, 28, 29])
    expect(s.total).toBe(30)
    // a tick wholly before the fetch: nothing
    expect(appendTail(series(25), encodeTail(view(22), 20, 1500), 1500)!.step).toHaveLength(25)
    // a tick following on that steps back (a point logged out of step order), at its start or inside: the page fetches
    const back = (steps: number[]) => ({ n: 25 + steps.length, from: 25, s: steps, t: steps.map(() => 0), v: steps.map(() => 5) })
    expect(appendTail(series(25), back([20]), 1500)).toBeUndefined()
    expect(appendTail(series(25), back([25, 26, 22, 27]), 1500)).toBeUndefined()
    expect(appendTail(series(25), back([25, 26, 27]), 1500)!.step.slice(-3)).toEqual([25, 26, 27])
    const t = tick(view(40), 30)
    expect(joinTicks(t, t).series.loss).toEqual(t.series.loss)
    // a later tick that does not follow on replaces the earlier: the page then sees the gap
    expect(joinTicks(tick(view(40), 30), tick(view(50), 45)).series.loss!.from).toBe(45)
  })

  it('metrics named like Object.prototype members are keys like any other when ticks are joined', () => {
    const c = cols(20)
    const view = (n: number) => ({ step: c.step.subarray(0, n), time: c.time.subarray(0, n), value: c.value.subarray(0, n) })
    // as the stream's JSON gives them: own keys; the earlier tick has only `constructor`, a later one both
    const t = (n: number, from: number, keys: string[]): RunTick => ({ run: { id: 'r' } as RunTick['run'], series: JSON.parse(`{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(encodeTail(view(n), from, 1500))}`).join(',')}}`), maxPoints: 1500 })
    const joined = joinTicks(t(10, 5, ['constructor']), t(20, 10, ['__proto__', 'constructor'])).series
    expect(Object.keys(joined).sort()).toEqual(['__proto__', 'constructor'])
    const tail = (k: string) => Object.getOwnPropertyDescriptor(joined, k)!.value as RunTick['series'][string]
    expect([tail('constructor').from, tail('constructor').n, tail('constructor').s.length]).toEqual([5, 20, 15])
    expect([tail('__proto__').from, tail('__proto__').n]).toEqual([10, 20])
  })

  it('a long tail comes thinned at the density of the drawn sample, every spike kept; the held series stays bounded', () => {
    expect(tailLimit(10, 1000, 1500)).toBe(10)
    expect(tailLimit(10_000, 100_000, 1500)).toBe(150)
    expect(tailLimit(5, 1_000_000, 1500)).toBe(2)
    const spiky = cols(100_000, (i) => (i === 95_123 ? 1e6 : i === 97_001 ? -1e6 : Math.sin(i / 100)))
    const tail = encodeTail(spiky, 90_000, 1500)
    expect(tail.s.length).toBe(tailLimit(10_000, 100_000, 1500))
    expect(tail.v).toContain(1e6)
    expect(tail.v).toContain(-1e6)
    let s = series(1000)
    s = { ...s, total: 90_000 }
    const out = appendTail(s, tail, 1500)!
    expect(out.total).toBe(100_000)
    // many ticks later the series held is thinned back: at most twice the drawn sample
    let held = out
    for (let k = 0; k < 40; k++) held = appendTail(held, { n: held.total + 100, from: held.total, s: Array.from({ length: 100 }, (_, i) => 200_000 + k * 100 + i), t: Array.from({ length: 100 }, () => 0), v: Array.from({ length: 100 }, (_, i) => i) }, 1500)!
    expect(held.value.length).toBeLessThanOrEqual(3000)
    expect(held.value).toContain(1e6)
  })

  it('changes merged between two refreshes: a run a later change names without a tick loses its earlier tick (the page fetches it)', () => {
    const c = cols(30)
    const view = (n: number) => ({ step: c.step.subarray(0, n), time: c.time.subarray(0, n), value: c.value.subarray(0, n) })
    const t1 = tick(view(20), 10), t2 = tick(view(30), 20)
    const ticked = { version: 'v1', tip: false, runs: ['r', 'q'], ticks: { r: t1, q: t1 } }
    // the ticks of one run joined, the runs of both named, the later version
    const both = joinChanges(ticked, { version: 'v2', tip: false, runs: ['r'], ticks: { r: t2 } })
    expect(both).toMatchObject({ version: 'v2', tip: false, runs: ['r', 'q'] })
    expect(both.ticks!.r!.series.loss).toMatchObject({ from: 10, n: 30 })
    expect(both.ticks!.q).toBe(t1)
    // r ended (its journal went with its last commit: no tick could be made): r is fetched, q still drawn from its tick
    const ended = joinChanges(ticked, { version: 'v3', tip: false, runs: ['r'] })
    expect(ended.ticks && Object.hasOwn(ended.ticks, 'r')).toBe(false)
    expect(ended.ticks!.q).toBe(t1)
    expect(joinChanges(joinChanges(undefined, { version: 'v1', tip: false, runs: ['r'], ticks: { r: t1 } }), { version: 'v2', tip: false, runs: ['r'] }).ticks).toBeUndefined()
    // the branch moved: every page refetches whatever ticks came
    expect(joinChanges(ticked, { version: 'v4', tip: true }).tip).toBe(true)
  })
})

