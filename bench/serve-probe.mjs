// Preloaded into `labbook serve` by bench/live.ts (node --import): once a second, one line on stderr with what the
// event loop and the journal's fdatasyncs did in that second, so the bench can say where a log call's time went:
//   probe <loop delay p50> <p99> <max> <fdatasyncs> <their mean ms> <max ms> <event loop utilization>
// Measurement only: fs.fdatasync is wrapped to time each call until its callback; nothing else changes.
import fs from 'node:fs'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'

// Off until the bench sends SIGUSR2 (after the idle measurement: the delay monitor's 5 ms timer is itself CPU).
process.on('SIGUSR2', () => {
  if (fs.fdatasync !== fdatasync) return
  const h = monitorEventLoopDelay({ resolution: 5 })
  h.enable()
  fs.fdatasync = function (fd, cb) {
    const t = performance.now()
    return fdatasync.call(fs, fd, (err) => {
      const d = performance.now() - t
      syncs++; syncMs += d; syncMax = Math.max(syncMax, d)
      cb(err)
    })
  }
  let elu = performance.eventLoopUtilization()
  setInterval(() => {
    const now = performance.eventLoopUtilization()
    const busy = performance.eventLoopUtilization(now, elu).utilization
    elu = now
    process.stderr.write(`probe ${ms(h.percentile(50))} ${ms(h.percentile(99))} ${ms(h.max)} ${syncs} ${(syncs ? syncMs / syncs : 0).toFixed(1)} ${syncMax.toFixed(1)} ${busy.toFixed(3)}\n`)
    h.reset(); syncs = 0; syncMs = 0; syncMax = 0
  }, 1000).unref()
})
let syncs = 0, syncMs = 0, syncMax = 0
const fdatasync = fs.fdatasync
const ms = (ns) => (ns / 1e6).toFixed(1)
