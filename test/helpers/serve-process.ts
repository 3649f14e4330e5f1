// `labbook serve`'s server in a process of its own, for RSS measurements: `node --import tsx serve-process.ts REPO`.
// Prints "url <http://…>" once listening; `buffer RUN PATH` instead reads the artifact whole (the buffered reference)
// and prints "rss-growth <bytes>".
import { Labbook } from '../../src/index.js'
import { serve } from '../../src/server/index.js'

const [repo, mode, run, path] = process.argv.slice(2)
const book = await Labbook.open({ repo: repo! })
if (mode === 'buffer') {
  const before = process.memoryUsage().rss
  const bytes = await book.readArtifact(run!, path!)
  const after = process.memoryUsage().rss
  console.log(`rss-growth ${after - before} ${bytes.length}`)
  await book.close()
} else {
  const srv = await serve({ book, port: 0 })
  console.log(`url ${srv.url}`)
  process.on('SIGTERM', () => void srv.close().then(() => book.close()).then(() => process.exit(0)))
}
