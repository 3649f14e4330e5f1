// The server side of bench/server-logbatch.mjs, in its own process: `node --import tsx bench/server-process.mjs REPO`.
// Prints the URL on stdout; SIGTERM prints the event-loop delay seen while serving, closes the server (committing open runs) and the book, then prints "closed".
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Labbook } from '../src/index.ts'
import { serve } from '../src/server/index.ts'

const book = await Labbook.open({ repo: process.argv[2] })
const srv = await serve({ book, port: 0, log: (level, m) => process.stderr.write(`${level}: ${m}\n`) })
const loop = monitorEventLoopDelay({ resolution: 5 })
loop.enable()
process.stdout.write(srv.url + '\n')
process.once('SIGTERM', async () => {
  loop.disable()
  const ms = (ns) => +(ns / 1e6).toFixed(1)
  process.stdout.write(`loop ${JSON.stringify({ p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) })}\n`)
  await srv.close()
  await book.close()
  process.stdout.write('closed\n')
  process.exit(0)
})
