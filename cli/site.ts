import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { defineCommand } from 'citty'
import { buildSite, SITE_MARKER, type SiteBuildProgress } from '../src/site/build/index.js'
import { previewSite } from '../src/site/build/preview.js'
import { fmtBytes } from '../src/site/browser/display.js'
import { ensureRenderer } from '../src/site/build/renderer.js'
import { withBook } from './book.js'
import { parseInteger, usage } from './args.js'
import { ctx, target } from './context.js'
import { withExamples } from './help.js'
import { out, say, toJson } from './output.js'

const build = withExamples(defineCommand({
  meta: { name: 'build', description: 'Build the static comparison site from the labbook branch (any revision)' },
  args: {
    out: { type: 'string', alias: 'o', description: 'Output folder, emptied first (default: _site at the repository root)', valueHint: 'DIR' },
    base: { type: 'string', description: 'URL path the site is served under, e.g. /my-repo/ for GitHub Pages', default: '/', valueHint: 'PATH' },
    rev: { type: 'string', description: 'Revision of the branch to show (commit, labbook~3, origin/labbook)', valueHint: 'REF' },
    title: { type: 'string', description: 'Title in the header (default: the repository folder name)', valueHint: 'TEXT' },
    force: { type: 'boolean', description: 'Replace a non-empty output folder that is not an earlier site' },
    'max-artifact-mb': { type: 'string', description: 'Copy artifacts up to this many MiB into the site (default 20); larger ones are linked on the LFS host or listed', valueHint: 'MB' },
    full: { type: 'boolean', description: 'Render every run page again (default: reuse unchanged runs from the previous build in the folder)' },
    json: { type: 'boolean', description: 'Print the result as JSON' },
  },
  async run({ args }) {
    const c = ctx()
    const { repo, branch } = target()
    // Progress on a terminal only: quiet with --json, in CI logs and when piped.
    const showProgress = !args.json && c.io.stderr.isTTY === true
    const maxMb = parseInteger('max-artifact-mb', args['max-artifact-mb'])
    if (maxMb !== undefined && maxMb < 0) throw usage(`--max-artifact-mb must be 0 or more, got ${maxMb}.`)
    const res = await buildSite({
      repo, branch, rev: args.rev, out: args.out ? resolve(c.io.cwd, args.out) : join(repo, '_site'), base: args.base, title: args.title, force: args.force, incremental: !args.full,
      logLevel: c.verbose ? 'info' : 'error', maxArtifactBytes: maxMb === undefined ? undefined : maxMb * 1024 * 1024,
      onProgress: showProgress ? (p) => say(c.io, progressLine(p)) : undefined,
    })
    if (args.json) return out(c.io, toJson(res))
    for (const p of res.problems) say(c.io, `warning: ${p.message}`)
    say(c.io, `Built ${plural(res.experiments, 'experiment')}, ${plural(res.runs, 'run')} into ${res.out} (${res.files} files, ${fmtBytes(res.bytes)}${res.reused ? `; ${res.reused} unchanged runs reused` : ''}) in ${(res.timings.totalMs / 1000).toFixed(1)} s.`)
    say(c.io, `Preview it with: labbook site preview${args.out ? ` --dir ${args.out}` : ''}`)
  },
}), [
  'labbook site build',
  'labbook site build --out _site --base /my-repo/      # GitHub Pages project site',
  'labbook site build --rev labbook~10 --out /tmp/old-site',
])

const preview = withExamples(defineCommand({
  meta: { name: 'preview', description: 'Serve a built site on 127.0.0.1 (under the base it was built for)' },
  args: {
    dir: { type: 'string', description: 'The built site (default: _site at the repository root)', valueHint: 'DIR' },
    port: { type: 'string', alias: 'p', description: 'Port (0 picks a free one)', default: '4321', valueHint: 'PORT' },
    base: { type: 'string', description: 'URL path (default: the one the site was built with)', valueHint: 'PATH' },
  },
  async run({ args }) {
    const { io } = ctx()
    const port = parseInteger('port', args.port)
    if (port === undefined || port < 0 || port > 65535) throw usage('--port must be a number from 0 to 65535.')
    const dir = args.dir ? resolve(io.cwd, args.dir) : join(target().repo, '_site')
    let base = args.base
    const marker = join(dir, SITE_MARKER)
    if (!base && existsSync(marker)) {
      try { base = (JSON.parse(readFileSync(marker, 'utf8')) as { base?: string }).base } catch { /* an older marker: serve at / */ }
    }
    const srv = await previewSite({ dir, base, port })
    say(io, `Serving ${dir} at ${srv.url}`)
    say(io, 'Ctrl-C stops it.')
    await new Promise<void>((done) => {
      process.once('SIGINT', () => done())
      process.once('SIGTERM', () => done())
    })
    await srv.close()
  },
}), [
  'labbook site preview',
  'labbook site preview --dir _site --port 8080',
])

const renderer = withExamples(defineCommand({
  meta: { name: 'renderer', description: 'Compile the live pages `labbook serve` / `labbook ui` render per request (done on their first start; cached)' },
  args: {
    dir: { type: 'string', description: 'Cache folder (default: .git/labbook/live-site)', valueHint: 'DIR' },
  },
  async run({ args }) {
    const c = ctx()
    const dir = args.dir ? resolve(c.io.cwd, args.dir) : join(await withBook(async (b) => b.gitdir, { recover: false }), 'labbook', 'live-site')
    const started = Date.now()
    const folder = await ensureRenderer(dir, { logLevel: c.verbose ? 'info' : 'error' })
    out(c.io, folder + '\n')
    say(c.io, `Live pages ready in ${((Date.now() - started) / 1000).toFixed(1)} s.`)
  },
}), [
  'labbook site renderer',
])

export default withExamples(defineCommand({
  meta: { name: 'site', description: 'Build or preview the static comparison site (GitHub Pages ready)' },
  subCommands: { build, preview, renderer },
}), [
  'labbook site build --base /my-repo/ && labbook site preview',
])

function progressLine(p: SiteBuildProgress): string {
  const t = `${(p.elapsedMs / 1000).toFixed(1)} s`
  if (p.phase === 'collect') return 'labbook: collecting runs…'
  if (p.phase === 'render') return `labbook: collected ${plural(p.runs ?? 0, 'run')} in ${plural(p.experiments ?? 0, 'experiment')} (${t}); rendering pages…`
  return `labbook: pages rendered (${t}); writing files…`
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`
}
