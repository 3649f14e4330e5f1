// The server side of bench/server-logbatch.mjs, in its own process: `node --import tsx bench/server-process.mjs REPO`.
// Prints the URL on stdout; SIGTERM closes the server (committing open runs) and the book, then prints "closed".
import { Labbook } from '../src/index.ts'
import { serve } from '../src/server/index.ts'

const book = await Labbook.open({ repo: process.argv[2] })
const srv = await serve({ book, port: 0, log: (level, m) => process.stderr.write(`${level}: ${m}\n`) })
process.stdout.write(srv.url + '\n')
process.once('SIGTERM', async () => {
  await srv.close()
  await book.close()
  process.stdout.write('closed\n')
  process.exit(0)
})
