import fs from 'node:fs'
import os from 'node:os'

/** A process as recorded by whoever took a lock or opened a journal. */
export interface ProcessId {
  pid: number
  host: string
  /** Start time (from /proc), so a reused pid is not mistaken for the original process. */
  started: string
}

/** The 22nd field of /proc/<pid>/stat (start time in clock ticks since boot), or undefined off Linux. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields[19]
  } catch {
    return undefined
  }
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
  const started = processStartTime(p.pid)
  if (zombie(p.pid)) return false
  return !(p.started && started && started !== p.started)
}

/** A killed process its parent has not reaped yet still answers kill(pid, 0); /proc says Z. */
function zombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat[stat.lastIndexOf(')') + 2] === 'Z'
  } catch {
    return false
  }
}

/**
 * Crash tests only: `LABBOOK_TEST_CRASH_AT=<point>` makes this process SIGKILL itself there, so a test can stop a
 * real writer between two given steps (test/track/journal-pool.test.ts).
 */
export function testCrashPoint(point: string): void {
  if (process.env.LABBOOK_TEST_CRASH_AT === point) process.kill(process.pid, 'SIGKILL')
}
