// Preloaded into `labbook serve` by bench/live.ts (node --import): once a second, one line on stderr with what the
// event loop and the journal's fdatasyncs did in that second, so the bench can say where a log call's time went:
//   probe <loop delay p50> <p99> <max> <fdatasyncs> <their mean ms> <max ms>
// Measurement only: fs.fdatasync is wrapped to time each call until its callback; nothing else changes.
import fs from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'

const h = monitorEventLoopDelay({ resolution: 5 })
h.enable()
let syncs = 0, syncMs = 0, syncMax = 0
const fdatasync = fs.fdatasync
fs.fdatasync = function (fd, cb) {
  const t = performance.now()
  return fdatasync.call(fs, fd, (err) => {
    const d = performance.now() - t
    syncs++; syncMs += d; syncMax = Math.max(syncMax, d)
    cb(err)
  })
}
const ms = (ns) => (ns / 1e6).toFixed(1)
setInterval(() => {
  process.stderr.write(`probe ${ms(h.percentile(50))} ${ms(h.percentile(99))} ${ms(h.max)} ${syncs} ${(syncs ? syncMs / syncs : 0).toFixed(1)} ${syncMax.toFixed(1)}\n`)
  h.reset(); syncs = 0; syncMs = 0; syncMax = 0
}, 1000).unref()
