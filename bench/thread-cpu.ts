// CPU of processes' threads from /proc (Linux), for the live benches (bench/live.ts, bench/live-page-cost.ts).
import { readdirSync, readFileSync } from 'node:fs'

/** CPU ms of every thread of `pids`: "pid/tid" → the thread's name (trailing digits dropped) and its CPU ms. */
export function threadCpu(pids: Iterable<number>): Map<string, { name: string; ms: number }> {
  const out = new Map<string, { name: string; ms: number }>()
  for (const pid of pids) {
    let tids: string[] = []
    try { tids = readdirSync(`/proc/${pid}/task`) } catch { continue }
    for (const tid of tids) {
      try {
        const t = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
        const f = t.slice(t.lastIndexOf(')') + 2).split(' ')
        out.set(`${pid}/${tid}`, { name: t.slice(t.indexOf('(') + 1, t.lastIndexOf(')')).replace(/\d+$/, ''), ms: (Number(f[11]) + Number(f[12])) * 10 })
      } catch { /* gone */ }
    }
  }
  return out
}

/** Cores per thread name since `before` over `wall` ms, the `top` busiest names: "name 0.012, …". */
export function threadCores(before: Map<string, { name: string; ms: number }>, now: Map<string, { name: string; ms: number }>, wall: number, top = 8): string {
  const by = new Map<string, number>()
  for (const [k, t] of now) by.set(t.name, (by.get(t.name) ?? 0) + t.ms - (before.get(k)?.ms ?? 0))
  return [...by].filter(([, ms]) => ms > 0).sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, ms]) => `${k} ${(ms / wall).toFixed(3)}`).join(', ')
}
