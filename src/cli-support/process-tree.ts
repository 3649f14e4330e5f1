import { readdirSync, readFileSync } from 'node:fs'
import { execFile } from 'node:child_process'
import { delimiter, join } from 'node:path'
import { existsSync } from 'node:fs'

/** Linux's USER_HZ; the kernel has reported 100 to user space on every mainstream architecture for decades. */
const TICKS_PER_SECOND = 100

interface ProcStat {
  pid: number
  ppid: number
  /** utime + stime, in ticks. */
  cpuTicks: number
}

/** One sample of a process tree, as `system/*` metric values. */
export type SystemSample = Record<string, number>

/**
 * Samples the CPU and resident memory of a process and all its descendants from /proc, plus GPU utilisation and
 * memory from `nvidia-smi` when it is on the PATH, as MLflow, W&B and DVCLive record them. Returns metric values
 * keyed `system/...`; CPU % is over the time since the previous sample (100 = one core busy).
 */
export class ProcessTreeSampler {
  private lastTicks: number | undefined
  private lastTime = 0
  private readonly nvidiaSmi: string | undefined
  private gpuBusy = false

  constructor(readonly rootPid: number, options: { gpu?: boolean } = {}) {
    this.nvidiaSmi = options.gpu === false ? undefined : findOnPath('nvidia-smi')
  }

  /** Whether this machine exposes /proc (Linux); elsewhere sampling yields nothing. */
  static supported(): boolean {
    return existsSync('/proc/self/stat')
  }

  async sample(now = Date.now()): Promise<SystemSample> {
    const out: SystemSample = {}
    const tree = treeOf(this.rootPid)
    if (tree.length > 0) {
      let ticks = 0
      let rss = 0
      for (const p of tree) {
        ticks += p.cpuTicks
        rss += rssBytes(p.pid)
      }
      // A process that exited since the last sample takes its ticks with it; never report a negative load.
      if (this.lastTicks !== undefined && now > this.lastTime) {
        const pct = ((ticks - this.lastTicks) / TICKS_PER_SECOND / ((now - this.lastTime) / 1000)) * 100
        out['system/cpu_utilization_percentage'] = Math.max(0, round(pct))
      }
      this.lastTicks = ticks
      this.lastTime = now
      if (rss > 0) out['system/memory_rss_megabytes'] = round(rss / 1024 / 1024)
      out['system/process_count'] = tree.length
    }
    if (this.nvidiaSmi && !this.gpuBusy) Object.assign(out, await this.gpu())
    return out
  }

  private gpu(): Promise<SystemSample> {
    this.gpuBusy = true
    return new Promise((resolve) => {
      execFile(this.nvidiaSmi!, ['--query-gpu=index,utilization.gpu,memory.used', '--format=csv,noheader,nounits'], { timeout: 5000 }, (err, stdout) => {
        this.gpuBusy = false
        const out: SystemSample = {}
        if (!err) {
          for (const line of stdout.split('\n')) {
            const [i, util, mem] = line.split(',').map((s) => Number(s.trim()))
            if (line.trim() === '' || !Number.isInteger(i)) continue
            if (Number.isFinite(util)) out[`system/gpu_${i}_utilization_percentage`] = util!
            if (Number.isFinite(mem)) out[`system/gpu_${i}_memory_usage_megabytes`] = mem!
          }
        }
        resolve(out)
      })
    })
  }
}

/** The process and its descendants (from one pass over /proc). */
export function treeOf(rootPid: number): ProcStat[] {
  let names: string[]
  try {
    names = readdirSync('/proc')
  } catch {
    return []
  }
  const children = new Map<number, ProcStat[]>()
  let root: ProcStat | undefined
  for (const name of names) {
    const c = name.charCodeAt(0)
    if (c < 48 || c > 57) continue
    const st = readStat(Number(name))
    if (!st) continue
    if (st.pid === rootPid) root = st
    let list = children.get(st.ppid)
    if (!list) children.set(st.ppid, (list = []))
    list.push(st)
  }
  if (!root) return []
  const out: ProcStat[] = []
  const queue = [root]
  while (queue.length > 0) {
    const p = queue.pop()!
    out.push(p)
    for (const c of children.get(p.pid) ?? []) queue.push(c)
  }
  return out
}

function readStat(pid: number): ProcStat | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1')
  } catch {
    return undefined // exited between readdir and read
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const close = text.lastIndexOf(')')
  const f = text.slice(close + 2).split(' ')
  // f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  return { pid, ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]) }
}

function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1')
    const m = /VmRSS:\s+(\d+) kB/.exec(status)
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}

function findOnPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd)
  }
  return undefined
}

function round(x: number): number {
  return Math.round(x * 100) / 100
}
