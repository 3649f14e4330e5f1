import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { defineCommand } from 'citty'
import { serve } from '../src/server/index.js'
import { parseInteger, usage } from './args.js'
import { openBook } from './book.js'
import { ctx } from './context.js'
import { withExamples } from './help.js'
import { say } from './output.js'

export default withExamples(defineCommand({
  meta: { name: 'serve', description: "Serve MLflow's tracking REST API, so unmodified MLflow clients log to this repo's labbook branch" },
  args: {
    host: { type: 'string', description: 'Address to bind (non-loopback needs --token or --insecure)', default: '127.0.0.1', valueHint: 'ADDR' },
    port: { type: 'string', alias: 'p', description: 'Port (0 picks a free one)', default: '5000', valueHint: 'PORT' },
    token: { type: 'string', description: 'Require this token (Bearer, or basic-auth password); default $LABBOOK_TOKEN', valueHint: 'TOKEN' },
    insecure: { type: 'boolean', description: 'Allow a non-loopback address without a token' },
    site: { type: 'string', description: 'Serve this built site under / (default: <repo>/_site when it exists)', valueHint: 'DIR' },
  },
  async run({ args }) {
    const { io } = ctx()
    const port = parseInteger('port', args.port)
    if (port === undefined || port < 0 || port > 65535) throw usage('--port must be a number from 0 to 65535.')
    const token = args.token ?? io.env.LABBOOK_TOKEN ?? undefined
    const book = await openBook()
    let siteDir = args.site ? resolve(io.cwd, args.site) : join(book.repo, '_site')
    if (!existsSync(siteDir)) {
      if (args.site) throw usage(`No built site at ${siteDir}.`, 'Build one with `labbook site build`.')
      siteDir = ''
    }
    const srv = await serve({
      book, host: args.host, port, token: token || undefined, insecure: args.insecure, siteDir: siteDir || undefined,
      log: (level, message) => io.stderr.write(`${level}: ${message}\n`),
    }).catch(async (e: unknown) => {
      await book.close()
      throw e
    })
    say(io, `labbook serves MLflow's REST API at ${srv.url} (branch ${book.branch}${token ? ', token required' : ''}${siteDir ? `, site from ${siteDir}` : ''})`)
    say(io, `  MLFLOW_TRACKING_URI=${srv.url}${token ? ' MLFLOW_TRACKING_TOKEN=…' : ''} python train.py`)
    say(io, 'Ctrl-C stops it; runs still open are committed (not ended).')
    const signal = await new Promise<NodeJS.Signals>((done) => {
      process.once('SIGINT', () => done('SIGINT'))
      process.once('SIGTERM', () => done('SIGTERM'))
    })
    say(io, `${signal}: stopping`)
    await srv.close()
    await book.close()
  },
}), [
  'labbook serve',
  'MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python train.py',
  'labbook serve --port 8080 --token s3cret      # clients: MLFLOW_TRACKING_TOKEN=s3cret',
  'labbook serve --host 0.0.0.0 --token "$LABBOOK_TOKEN"',
])
