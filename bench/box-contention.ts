/**
 * What a busy neighbour costs a process on this machine: the CPU time one fixed piece of work takes (a 2 MB array
 * walked, as a server's working set), with the other cores idle and with each of them busy with the same work in
 * another process. On virtual machines whose cores share caches or a physical core, the second can be higher: every
 * CPU-second of serve then buys less when a browser runs beside it, whatever serve does (here 0.86-1.11x, and the
 * work alone varied up to 2x within one run: the host's own load). bench/live.ts prints it beside
 * serve's CPU per point, so the part of that rise that is the machine's can be told from the part that is ours.
 * @example const { ratio } = await boxContention() // 1.10: work costs 10% more CPU with the other core busy
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { cpus } from 'node:os'

const SIZE = 1 << 18
const WALK = `let x = 0; for (let r = 0; r < 300; r++) for (let i = 0; i < a.length; i++) { a[i] = a[i] * 0.5 + (i & 7); x += a[i] }`
const work = new Function('a', `${WALK}; return x`) as (a: Float64Array) => number

function cpuMsOf(a: Float64Array): number {
  const c0 = process.cpuUsage()
  work(a)
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / 1000
}

const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1]!

/** CPU ms of the work alone and beside busy neighbours (medians of `rounds`, alternating), their ratio, and each one's range. */
export async function boxContention(rounds = 9): Promise<{ alone: number; busy: number; ratio: number; spread: string }> {
  const a = new Float64Array(SIZE)
  for (let k = 0; k < 3; k++) cpuMsOf(a) // compiled before it counts
  const alone: number[] = [], busy: number[] = []
  for (let k = 0; k < rounds; k++) {
    alone.push(cpuMsOf(a))
    const hogs: ChildProcess[] = Array.from({ length: Math.max(1, cpus().length - 1) }, () =>
      spawn(process.execPath, ['-e', `const a = new Float64Array(${SIZE}); const end = Date.now() + 10000; while (Date.now() < end) { ${WALK} }`], { stdio: 'ignore' }))
    await new Promise((r) => setTimeout(r, 300))
    busy.push(cpuMsOf(a))
    for (const h of hogs) h.kill()
    await Promise.all(hogs.map((h) => new Promise((r) => h.once('exit', r))))
  }
  const m = { alone: median(alone), busy: median(busy) }
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} ms`
  return { ...m, ratio: m.busy / m.alone, spread: `alone ${range(alone)}, beside them ${range(busy)}` }
}
