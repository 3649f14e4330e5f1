// bench/live-snapshots.ts (issue 15): what serve does for N open run pages: snapshots made per second (each = every journal read + the tip + the
// site's summaries) while N runs log, the pages refreshing as live-channel.ts does (shared event stream, at most one
// refresh a second per page, the run JSON then the series, naming the event's version). Run from a checkout:
//   node --import tsx bench/live-snapshots.ts [PAGES=20] [SECONDS=15]   (run it from two checkouts, alternating, to A/B)
import http from 'node:http'
const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '')
const N = Number(process.argv[2] ?? 20), SECONDS = Number(process.argv[3] ?? 15)
const { Labbook } = await import(`${root}/src/index.js`)
const { serve } = await import(`${root}/src/server/index.js`)
const { gitRepo } = await import(`${root}/test/helpers/git-repo.js`)
const { testRenderer } = await import(`${root}/test/helpers/renderer.js`)
const { readEvents } = await import(`${root}/test/helpers/sse.js`)
const repo = gitRepo()
const book = await Labbook.open({ repo: repo.dir })
let snapshots = 0
const srv = await serve({ book, port: 0, site: { renderer: testRenderer(), source: book, snapshot: () => { snapshots++; return book.snapshot() }, title: 'x' } })
const runs = await Promise.all(Array.from({ length: N }, (_, i) => book.startRun({ experiment: 'b', name: `r${i}` })))
let step = 0
const log = setInterval(() => { for (const r of runs) { for (let k = 0; k < 20; k++) r.logMetric('loss', Math.random(), { step }); r.flush() } step++ }, 20)
const agent = new http.Agent({ keepAlive: true, maxSockets: 6 })
const get = (path: string) => new Promise<void>((res) => { http.get(`${srv.url}${path}`, { agent }, (r) => { r.resume(); r.on('end', () => res()) }).on('error', () => res()) })
// the pages: one shared stream; each page's own GAP phase
let version = ''
const pages = runs.map((r, i) => ({ id: r.id, last: -1e9 + i, pending: false, busy: false, timer: undefined as NodeJS.Timeout | undefined, refreshes: 0 }))
const fire = async (p: typeof pages[0]) => {
  p.timer = undefined
  if (p.busy) return
  p.busy = true; p.last = performance.now(); p.pending = false; p.refreshes++
  const v = encodeURIComponent(version)
  await get(`/data/runs/${p.id}.json?v=${v}`)
  await get(`/data/runs/${p.id}/m/0.json?v=${v}`)
  p.busy = false
  if (p.pending) schedule(p)
}
const schedule = (p: typeof pages[0]) => { if (!p.timer) p.timer = setTimeout(() => void fire(p), Math.max(0, p.last + 1000 - performance.now())) }
let events = 0
readEvents(`${srv.url}/live/events`, (_name: string, data: unknown) => {
  events++
  version = (data as { version: string }).version
  for (const p of pages) { p.pending = true; schedule(p) }
})
// pages start at random phases
await new Promise((r) => setTimeout(r, 3000))
const s0 = snapshots, e0 = events, r0 = pages.reduce((a, p) => a + p.refreshes, 0), c0 = process.cpuUsage(), t0 = performance.now()
await new Promise((r) => setTimeout(r, SECONDS * 1000))
const wall = (performance.now() - t0) / 1000, cpu = process.cpuUsage(c0)
const refreshes = pages.reduce((a, p) => a + p.refreshes, 0) - r0
console.log(`${root}: ${N} pages, ${SECONDS} s: ${((snapshots - s0) / wall).toFixed(2)} snapshots/s, ${((events - e0) / wall).toFixed(2)} events/s, ${(refreshes / wall).toFixed(1)} page refreshes/s; process CPU ${((cpu.user + cpu.system) / 1000 / wall / 10).toFixed(0)}% of a core (loggers, serve and page clients together), ${step} steps`)
clearInterval(log)
for (const r of runs) await r.end('FINISHED')
agent.destroy()
await srv.close(); await book.close(); repo.cleanup()
process.exit(0)
