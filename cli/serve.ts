import { spawn } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { setPriority } from 'node:os'
import { join, resolve } from 'node:path'
import { defineCommand } from 'citty'
import { LiveSite, serve } from '../src/server/index.js'
import { parseInteger, usage } from './args.js'
import { openBook } from './book.js'
import { ctx, target } from './context.js'
import { withExamples } from './help.js'
import { say } from './output.js'

/** `labbook site build` in a child process at low priority, so an Astro build never stalls the API's event loop. */
function buildInChild(repo: string, branch: string) {
  return (out: string, rev: string, signal: AbortSignal) => new Promise<void>((done, fail) => {
    const args = [...process.execArgv, process.argv[1]!, '--repo', repo, '--branch', branch, 'site', 'build', '--out', out, '--rev', rev]
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], signal })
    try {
      if (p.pid) setPriority(p.pid, 10)
    } catch {
      // not allowed here: build at normal priority
    }
    let err = ''
    p.stderr.on('data', (d) => (err = (err + d).slice(-2000)))
    p.on('error', (e) => fail(signal.aborted ? new Error('site build cancelled') : e))
    p.on('exit', (code) => (code === 0 ? done() : fail(new Error(`labbook site build exited ${code}: ${err.trim().split('\n').pop() ?? ''}`))))
  })
}

/** The options `labbook serve` and `labbook ui` share. */
export const SERVER_ARGS = {
  host: { type: 'string', description: 'Address to bind (non-loopback needs --token or --insecure)', default: '127.0.0.1', valueHint: 'ADDR' },
  port: { type: 'string', alias: 'p', description: 'Port (0 picks a free one)', default: '5000', valueHint: 'PORT' },
  token: { type: 'string', description: 'Require this token (Bearer, or basic-auth password); default $LABBOOK_TOKEN', valueHint: 'TOKEN' },
  insecure: { type: 'boolean', description: 'Allow a non-loopback address without a token' },
  'link-head': { type: 'boolean', description: "Link runs whose client sends no git commit to this repository's HEAD and diff (off: nothing is added that the client did not send)" },
  'allowed-host': { type: 'string', description: 'Also answer requests whose Host is NAME (a reverse proxy\'s name; comma-separated; * for any)', valueHint: 'NAME' },
  site: { type: 'string', description: 'Serve this already built site under / instead of building one', valueHint: 'DIR' },
  'site-refresh': { type: 'string', description: 'Rebuild the site under / when the branch moved, checking every N seconds (0: no site)', default: '60', valueHint: 'SECONDS' },
} as const

type ServerArgs = { [K in keyof typeof SERVER_ARGS]?: (typeof SERVER_ARGS)[K]['type'] extends 'boolean' ? boolean : string }

/** Runs the server until SIGINT/SIGTERM: with MLflow's API (`serve`) or only the site and its live channel (`ui`). */
export async function runServer(args: ServerArgs, mode: 'serve' | 'ui'): Promise<void> {
  const { io } = ctx()
  const api = mode === 'serve'
  const port = parseInteger('port', args.port)
  if (port === undefined || port < 0 || port > 65535) throw usage('--port must be a number from 0 to 65535.')
  const refresh = parseInteger('site-refresh', args['site-refresh'])
  if (refresh === undefined || refresh < 0) throw usage('--site-refresh must be 0 or more seconds.')
  const token = args.token ?? io.env.LABBOOK_TOKEN ?? undefined
  const log = (level: string, message: string) => void io.stderr.write(`${level}: ${message}\n`)
  let siteDir: string | undefined
  if (args.site) {
    siteDir = resolve(io.cwd, args.site)
    if (!existsSync(siteDir)) throw usage(`No built site at ${siteDir}.`, 'Build one with `labbook site build`, or leave --site out to have serve build it.')
  }
  const book = await openBook()
  let live: LiveSite | undefined
  if (!siteDir && refresh > 0) {
    const dir = join(book.gitdir, 'labbook', 'serve-site')
    mkdirSync(dir, { recursive: true })
    live = new LiveSite({ dir, tip: () => book.tip(), build: buildInChild(target().repo, book.branch), interval: refresh * 1000, log })
  }
  const allowedHosts = args['allowed-host']?.split(',').map((h) => h.trim()).filter(Boolean)
  const srv = await serve({ book, host: args.host, port, token: token || undefined, insecure: args.insecure, allowedHosts, linkHead: args['link-head'] === true, api, site: siteDir ?? live, log })
    .catch(async (e: unknown) => {
      await book.close()
      throw e
    })
  live?.start()
  const site = siteDir ? `, site from ${siteDir}` : live ? `, site rebuilt every ${refresh} s while the branch moves` : ''
  if (api) {
    say(io, `labbook serves MLflow's REST API at ${srv.url} (branch ${book.branch}${token ? ', token required' : ''}${site})`)
    say(io, `  MLFLOW_TRACKING_URI=${srv.url}${token ? ' MLFLOW_TRACKING_TOKEN=…' : ''} python train.py`)
    say(io, 'Ctrl-C stops it; runs still open are committed (not ended).')
  } else {
    say(io, `labbook ui: runs of branch ${book.branch} at ${srv.url} (tables update live${token ? ', token required' : ''}${site})`)
    say(io, 'Ctrl-C stops it.')
  }
  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once('SIGINT', () => done('SIGINT'))
    process.once('SIGTERM', () => done('SIGTERM'))
  })
  say(io, `${signal}: stopping`)
  await srv.close()
  await live?.stop()
  await book.close()
}

export default withExamples(defineCommand({
  meta: { name: 'serve', description: "Serve MLflow's tracking REST API (unmodified MLflow clients log to this repo's labbook branch) and the site" },
  args: SERVER_ARGS,
  run: ({ args }) => runServer(args, 'serve'),
}), [
  'labbook serve',
  'MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python train.py',
  'labbook serve --port 8080 --token s3cret      # clients: MLFLOW_TRACKING_TOKEN=s3cret',
  'labbook serve --host 0.0.0.0 --token "$LABBOOK_TOKEN" --site-refresh 0',
])
