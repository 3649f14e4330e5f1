/** Headless Debian chromium through playwright-core (never a downloaded browser). */
import { statfsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/**
 * Playwright passes `--disable-dev-shm-usage` (for containers whose /dev/shm is 64 MB), and Chromium then keeps the
 * memory its processes share (tiles, bitmaps, fetch bodies) in files under /tmp: on a disk. With 20 live pages
 * redrawing that was 4.6-4.9 MB/s of writes (bench/live.ts prints what Chromium wrote). It did not measurably slow
 * serve's journal (docs/benchmarks.md, session 15), but a desktop browser keeps it in /dev/shm, and so does ours
 * where /dev/shm has room for it.
 */
const SHM_ROOM = 1 << 30
function shmHasRoom(): boolean {
  // LABBOOK_CHROMIUM_SHM=tmp: Playwright's way (to measure one against the other)
  if (process.env.LABBOOK_CHROMIUM_SHM === 'tmp') return false
  try {
    const s = statfsSync('/dev/shm')
    return s.bavail * s.bsize >= SHM_ROOM
  } catch { return false }
}

/** `args`: more command-line switches, after CHROMIUM_ARGS. */
export function launchChromium(args: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.LABBOOK_CHROMIUM ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, ...args],
    ...(shmHasRoom() ? { ignoreDefaultArgs: ['--disable-dev-shm-usage'] } : {}),
  })
}
