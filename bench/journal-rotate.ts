// A run journal's rotation to a new base (src/track/journal.ts Journal.rotate, after a commit that added points): the
// event loop's time per rotation and the wall time until it resolves, for 300 journals of 1,000 points, each rotated
// with a 10-point carry, 3 rounds, while 4 other files are fdatasynced in a loop (the ext4 journal busy, as under a
// server's concurrent acknowledgements). The reference, in the same run on the same files: the previous way, on the
// event loop (empty the segment, rename it to the new base, write the carry back: a kill between the first and the
// last step lost the carry).
//   npx tsx bench/journal-rotate.ts [--journals 300] [--rounds 3]
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { encodePoint } from '../src/format/jsonl.ts'
import { Journal } from '../src/track/journal.ts'

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : d
}
const JOURNALS = arg('journals', 300)
const ROUNDS = arg('rounds', 3)
const points = (from: number, n: number) => Array.from({ length: n }, (_, k) => encodePoint('loss', 1 / (from + k + 1), from + k, 1.7e12 + from + k)).join('')
const body = points(0, 1000)
const carry = points(1000, 10)
const dir = fs.mkdtempSync(join(os.tmpdir(), 'labbook-journal-rotate-'))

let busy = true
const noise = Array.from({ length: 4 }, (_, k) => (async () => {
  const fd = fs.openSync(join(dir, `noise-${k}`), 'a')
  while (busy) {
    fs.writeSync(fd, 'x'.repeat(4096))
    await new Promise((r) => fs.fdatasync(fd, r))
  }
  fs.closeSync(fd)
})())

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const q = (f: number) => s[Math.floor(f * (s.length - 1))]!
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length }
}
const fmt = (x: ReturnType<typeof stats>) => `p50 ${x.p50.toFixed(3)}  p90 ${x.p90.toFixed(3)}  p99 ${x.p99.toFixed(3)}  mean ${x.mean.toFixed(3)}`
const ms = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6

/** Journal.rotate: event-loop ms of the call, wall ms until it resolves. */
async function now(): Promise<{ loop: number[]; wall: number[] }> {
  const journals = Array.from({ length: JOURNALS }, (_, i) => {
    const j = new Journal(join(dir, 'now'), `r${i}`)
    j.open({ runId: `r${i}`, experiment: 'e', branch: 'labbook' }, 0)
    return j
  })
  for (const j of journals) j.append(body, false)
  await Promise.all(journals.map((j) => j.durable()))
  const loop: number[] = [], wall: number[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    for (const j of journals) {
      j.append(carry, false)
      const t = process.hrtime.bigint()
      const p = j.rotate(round * 1000, carry)
      loop.push(ms(t))
      await p
      wall.push(ms(t))
      await j.durable()
      j.append(body, false)
    }
  }
  for (const j of journals) await j.remove()
  return { loop, wall }
}

/** The previous way on plain segment files: ftruncate, rename, write the carry back, all on the event loop. */
async function before(): Promise<{ loop: number[] }> {
  const root = join(dir, 'before')
  fs.mkdirSync(root)
  const files = Array.from({ length: JOURNALS }, (_, i) => {
    const path = join(root, `${i}-${'0'.repeat(12)}.jsonl`)
    const fd = fs.openSync(path, 'a')
    fs.writeSync(fd, body)
    fs.fdatasyncSync(fd)
    return { fd, path }
  })
  const loop: number[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, f] of files.entries()) {
      fs.writeSync(f.fd, carry)
      const t = process.hrtime.bigint()
      fs.ftruncateSync(f.fd, 0)
      const next = join(root, `${i}-${String(round * 1000).padStart(12, '0')}.jsonl`)
      fs.renameSync(f.path, next)
      f.path = next
      fs.writeSync(f.fd, carry)
      loop.push(ms(t))
      await new Promise((r) => fs.fdatasync(f.fd, r))
      fs.writeSync(f.fd, body)
    }
  }
  for (const f of files) fs.closeSync(f.fd)
  return { loop }
}

console.log(`journal rotation to a new base: ${JOURNALS} journals x ${ROUNDS} rounds, 1,000 points each, a 10-point carry, 4 files fdatasynced alongside`)
const ref = await before()
const cur = await now()
busy = false
await Promise.all(noise)
fs.rmSync(dir, { recursive: true, force: true })
const a = stats(cur.loop), b = stats(ref.loop)
console.log(`  Journal.rotate, event loop ms:        ${fmt(a)}`)
console.log(`  Journal.rotate, until resolved ms:    ${fmt(stats(cur.wall))}  (in the thread pool: the carry fdatasynced before the rename)`)
console.log(`  reference, the previous way, ms:      ${fmt(b)}  (ftruncate, rename, write, on the event loop)`)
console.log(`  event loop per rotation: ${(a.mean / b.mean).toFixed(2)}x the previous way (mean), ${(a.p99 / b.p99).toFixed(2)}x at p99`)
