import fs from 'node:fs'
import os from 'node:os'

/** A process as recorded by whoever took a lock or opened a journal. */
export interface ProcessId {
  pid: number
  host: string
  /** Start time (from /proc), so a reused pid is not mistaken for the original process. */
  started: string
}

/** Fields 3 (state) and 22 (start time in clock ticks since boot) of /proc/<pid>/stat, or undefined off Linux. */
function procStat(pid: number): { state: string; started: string } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command name (field 2) may hold spaces and parentheses: fields start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { state: fields[0]!, started: fields[19]! }
  } catch {
    return undefined
  }
}

/** The 22nd field of /proc/<pid>/stat (start time in clock ticks since boot), or undefined off Linux. */
export function processStartTime(pid: number): string | undefined {
  return procStat(pid)?.started
}

let self: ProcessId | undefined

/** This process (read once: every lock and journal records it). */
export function thisProcess(): ProcessId {
  if (self?.pid !== process.pid) self = { pid: process.pid, host: os.hostname(), started: processStartTime(process.pid) ?? '' }
  return { ...self }
}

/** Whether the process is still running. A process on another host cannot be checked and counts as alive. */
export function processAlive(p: ProcessId): boolean {
  if (p.host !== os.hostname()) return true
  try {
    process.kill(p.pid, 0)
  } catch (caught) {
    const e = caught as NodeJS.ErrnoException
    if (e.code === 'ESRCH') return false
  }
  const stat = procStat(p.pid)
  // a killed process its parent has not reaped yet still answers kill(pid, 0); /proc says Z
  if (stat?.state === 'Z') return false
  return !(p.started && stat && stat.started !== p.started)
}

/**
 * Crash tests only: `LABBOOK_TEST_CRASH_AT=<point>` makes this process SIGKILL itself there, so a test can stop a
 * real writer between two given steps (test/track/journal-pool.test.ts); a test's own process may also set
 * `testPoints.at`, called at each point (to exit there, as a script's `process.exit()` would).
 */
export function testCrashPoint(point: string): void {
  if (process.env.LABBOOK_TEST_CRASH_AT === point) process.kill(process.pid, 'SIGKILL')
  testPoints.at?.(point)
}

/** Crash tests only: what testCrashPoint also calls at each point, in this process. */
export const testPoints: { at?: (point: string) => void } = {}
