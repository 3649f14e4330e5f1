import { spawn } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { setPriority } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { defineCommand } from 'citty'
import { serve, type LiveSiteOptions } from '../src/server/index.js'
import { loadRenderer, type Renderer } from '../src/site/build/renderer.js'
import { loadConfig } from '../src/format/config-file.js'
import { parseInteger, usage } from './args.js'
import { openBook } from './book.js'
import { ctx, target } from './context.js'
import { withExamples } from './help.js'
import { say } from './output.js'

/**
 * The live renderer (`labbook site renderer`), compiled in a child process at low priority the first time this
 * labbook version serves pages (an Astro build must not stall the API's event loop); then loaded here.
 */
async function rendererInChild(repo: string, dir: string, log: (level: string, m: string) => void): Promise<Renderer> {
  const { rendererKey } = await import('../src/site/build/renderer.js')
  const folder = join(dir, `r-${await rendererKey()}`)
  if (!existsSync(join(folder, 'renderer.json'))) {
    log('info', 'preparing the live pages (first start of this labbook version; Astro compiles them once)')
    const started = Date.now()
    await new Promise<void>((done, fail) => {
      const args = [...process.execArgv, process.argv[1]!, '--repo', repo, 'site', 'renderer', '--dir', dir]
      const p = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
      try {
        if (p.pid) setPriority(p.pid, 10)
      } catch {
        // not allowed here: build at normal priority
      }
      let err = ''
      p.stderr.on('data', (d) => (err = (err + d).slice(-2000)))
      p.on('error', fail)
      p.on('exit', (code) => (code === 0 ? done() : fail(new Error(`labbook site renderer exited ${code}: ${err.trim().split('\n').pop() ?? ''}`))))
    })
    log('info', `live pages ready in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  }
  return loadRenderer(folder)
}

/** The options `labbook serve` and `labbook ui` share. */
export const SERVER_ARGS = {
  host: { type: 'string', description: 'Address to bind (non-loopback needs --token or --insecure)', default: '127.0.0.1', valueHint: 'ADDR' },
  port: { type: 'string', alias: 'p', description: 'Port (0 picks a free one)', default: '5000', valueHint: 'PORT' },
  token: { type: 'string', description: 'Require this token (Bearer, or basic-auth password); default $LABBOOK_TOKEN', valueHint: 'TOKEN' },
  insecure: { type: 'boolean', description: 'Allow a non-loopback address without a token' },
  'link-head': { type: 'boolean', description: "Link runs whose client sends no git commit to this repository's HEAD and diff (off: nothing is added that the client did not send)" },
  'allowed-host': { type: 'string', description: 'Also answer requests whose Host is NAME (a reverse proxy\'s name; comma-separated; * for any)', valueHint: 'NAME' },
  site: { type: 'string', description: 'Serve this already built site under / instead of the live pages', valueHint: 'DIR' },
  'api-only': { type: 'boolean', description: 'No site under /: only the MLflow API (serve)' },
  'site-refresh': { type: 'string', description: 'Deprecated, no effect: pages are rendered per request (0 still means no site, as --api-only)', valueHint: 'SECONDS' },
} as const

type ServerArgs = { [K in keyof typeof SERVER_ARGS]?: (typeof SERVER_ARGS)[K]['type'] extends 'boolean' ? boolean : string }

/** Runs the server until SIGINT/SIGTERM: with MLflow's API (`serve`) or only the site and its live channel (`ui`). */
export async function runServer(args: ServerArgs, mode: 'serve' | 'ui'): Promise<void> {
  const { io } = ctx()
  const api = mode === 'serve'
  const port = parseInteger('port', args.port)
  if (port === undefined || port < 0 || port > 65535) throw usage('--port must be a number from 0 to 65535.')
  const refresh = args['site-refresh'] === undefined ? undefined : parseInteger('site-refresh', args['site-refresh'])
  if (refresh !== undefined && refresh > 0) say(io, 'warning: --site-refresh is deprecated and has no effect: pages are rendered per request from the branch and the runs in progress.')
  const noSite = args['api-only'] === true || refresh === 0
  const token = args.token ?? io.env.LABBOOK_TOKEN ?? undefined
  const log = (level: string, message: string) => void io.stderr.write(`${level}: ${message}\n`)
  let siteDir: string | undefined
  if (args.site) {
    siteDir = resolve(io.cwd, args.site)
    if (!existsSync(siteDir)) throw usage(`No built site at ${siteDir}.`, 'Build one with `labbook site build`, or leave --site out to have serve build it.')
  }
  const book = await openBook()
  let live: LiveSiteOptions | undefined
  if (!siteDir && !noSite) {
    const dir = join(book.gitdir, 'labbook', 'live-site')
    mkdirSync(dir, { recursive: true })
    const renderer = rendererInChild(target().repo, dir, log)
    renderer.catch((e: Error) => log('warn', `the live pages could not be prepared: ${e.message}`))
    live = { renderer, source: book, snapshot: () => book.snapshot(), title: basename(book.repo), judge: loadConfig(book.repo) }
  }
  const allowedHosts = args['allowed-host']?.split(',').map((h) => h.trim()).filter(Boolean)
  const srv = await serve({ book, host: args.host, port, token: token || undefined, insecure: args.insecure, allowedHosts, linkHead: args['link-head'] === true, api, site: siteDir ?? live, log })
    .catch(async (e: unknown) => {
      await book.close()
      throw e
    })
  const site = siteDir ? `, site from ${siteDir}` : live ? ', live pages' : ''
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
  'labbook serve --host 0.0.0.0 --token "$LABBOOK_TOKEN" --api-only',
])
