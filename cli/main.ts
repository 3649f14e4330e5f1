#!/usr/bin/env node
/**
 * The `labbook` command. Each subcommand is one file holding a citty `defineCommand` (its args, help text and
 * `run`), loaded lazily from the table below so `labbook ls` loads only ls. main.ts owns the rest: global
 * options, strict parsing (parse.ts, on node:util.parseArgs: unknown commands and options answer in one line with a
 * did-you-mean), help output to the injected streams, the error format and exit codes (0 ok, 1 failed operation,
 * 2 bad usage; src/errors.ts says which code is which), and it alone sets `process.exitCode`.
 */
import { realpathSync } from 'node:fs'
import { constants } from 'node:os'
import { pathToFileURL } from 'node:url'
import { renderUsage, type ArgsDef } from 'citty'
import { ERRORS, isLabbookError } from '../src/errors.js'
import { closest } from '../src/model/suggest.js'
import { packageVersion } from '../src/package-files.js'
import { beforeDashes, usage } from './args.js'
import { parseCommandArgs } from './parse.js'
import { soleInvocation, withContext, type CliContext } from './context.js'
import { processIO, type CliIO } from './io.js'
import { colorsFor, printError, say } from './output.js'
import { examplesOf, type AnyCommand } from './help.js'

type Loader = () => Promise<AnyCommand>
const load = (p: Promise<{ default: AnyCommand }>) => p.then((m) => m.default)

/** Our subcommands, one file each, imported only when used. */
const COMMANDS: Record<string, Loader> = {
  init: () => load(import('./init.js')),
  run: () => load(import('./run.js')),
  log: () => load(import('./log.js')),
  ls: () => load(import('./ls.js')),
  show: () => load(import('./show.js')),
  experiments: () => load(import('./experiments.js')),
  rm: () => load(import('./rm.js')),
  restore: () => load(import('./restore.js')),
  rename: () => load(import('./rename.js')),
  recover: () => load(import('./recover.js')),
  doctor: () => load(import('./doctor.js')),
  compare: () => load(import('./compare.js')),
  export: () => load(import('./export.js')),
  gc: () => load(import('./gc.js')),
  models: () => load(import('./models.js')),
  site: () => load(import('./site.js')),
  serve: () => load(import('./serve.js')),
  ui: () => load(import('./ui.js')),
  import: () => load(import('./import.js')),
  push: () => load(import('./push.js')),
  pull: () => load(import('./pull.js')),
  report: () => load(import('./report.js')),
  reproduce: () => load(import('./reproduce.js')),
  artifact: () => load(import('./artifact.js')),
}


function rootCommand(): AnyCommand {
  return {
    meta: { name: 'labbook', version: packageVersion(), description: 'Git-backed ML experiment tracking: runs as plain files on a branch of your repo' },
    subCommands: COMMANDS,
  }
}

export interface CliResult {
  exitCode: number
  /** Set when labbook should die of this signal (the wrapped command did), as a shell expects. */
  signal?: NodeJS.Signals
}

/**
 * Runs the CLI on `argv` (without `node labbook`) with the given streams; never exits the process.
 * @example const { exitCode } = await main(['ls', '--json'], { stdout, stderr, env: process.env, cwd: dir })
 */
export async function main(argv: string[], io: CliIO = processIO()): Promise<CliResult> {
  const c: CliContext = { io, verbose: false, exit: { code: 0 } }
  const chain: Array<{ name: string; cmd: AnyCommand }> = [{ name: 'labbook', cmd: rootCommand() }]
  try {
    const rest = takeGlobals(argv, c)
    if (rest.length === 1 && (rest[0] === '--version' || rest[0] === '-v')) {
      io.stdout.write(packageVersion() + '\n')
      return { exitCode: 0 }
    }
    const head = beforeDashes(rest)
    const wantsHelp = head.includes('--help') || head.includes('-h')
    let tokens = rest
    for (;;) {
      const cur = chain[chain.length - 1]!.cmd
      const subs = (await resolve(cur.subCommands)) as Record<string, Loader> | undefined
      if (!subs) break
      const idx = tokens.findIndex((t, i) => !t.startsWith('-') && i < beforeDashes(tokens).length)
      if (idx < 0) {
        if (wantsHelp) break
        throw usage(chain.length === 1 ? 'No command given.' : `${chain.map((x) => x.name).join(' ')} needs a subcommand.`, 'Pick one of the commands listed above.', { help: true })
      }
      const name = tokens[idx]!
      const sub = subs[name]
      if (!sub) {
        const near = closest(name, Object.keys(subs))
        throw usage(`Unknown command ${JSON.stringify(name)}${near ? `: did you mean \`${near}\`?` : '.'}`, `Run \`${chain.map((x) => x.name).join(' ')} --help\` to list the commands.`)
      }
      chain.push({ name, cmd: (await resolve(sub))! })
      tokens = [...tokens.slice(0, idx), ...tokens.slice(idx + 1)]
    }
    if (wantsHelp) {
      io.stdout.write(await helpText(chain, io))
      return { exitCode: 0 }
    }
    const leaf = chain[chain.length - 1]!.cmd
    const path = chain.map((x) => x.name).join(' ')
    const args = parseCommandArgs(tokens, ((await resolve(leaf.args)) ?? {}) as ArgsDef, path,
      path === 'labbook run' ? 'Options of the wrapped command go after --: `labbook run [options] -- python train.py --epochs 3`.' : undefined)
    await withContext(c, async () => { await leaf.run?.({ rawArgs: tokens, args, cmd: leaf } as Parameters<NonNullable<AnyCommand['run']>>[0]) })
    return { exitCode: c.exit.code, signal: c.exit.signal }
  } catch (e) {
    if (isLabbookError(e, 'USAGE')) {
      // Bad usage answers in a line and a hint (like git); only a bare `labbook` gets the whole help.
      if (e.data.help) {
        io.stderr.write(await helpText(chain, io).catch(() => ''))
        say(io, '')
      }
      printError(io, e, c.verbose)
      return { exitCode: 2 }
    }
    printError(io, e, c.verbose)
    // A filter or argument the library rejects is bad usage too (the catalog says which), but its own message says enough.
    return { exitCode: isLabbookError(e) ? ERRORS[e.code].exit : 1 }
  }
}

/** Takes --repo, --branch and --verbose from anywhere before `--`, so they work before or after the subcommand. */
function takeGlobals(argv: string[], c: CliContext): string[] {
  const out: string[] = []
  const end = argv.indexOf('--') < 0 ? argv.length : argv.indexOf('--')
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (i >= end) {
      out.push(a)
      continue
    }
    const m = /^--(repo|branch)(?:=(.*))?$/.exec(a)
    if (m) {
      const v = m[2] ?? argv[++i]
      if (v === undefined || i >= end) throw usage(`--${m[1]} needs a value.`)
      if (m[1] === 'repo') c.repo = v
      else c.branch = v
    } else if (a === '--verbose') c.verbose = true
    else out.push(a)
  }
  return out
}

async function helpText(chain: Array<{ name: string; cmd: AnyCommand }>, io: CliIO): Promise<string> {
  const leaf = chain[chain.length - 1]!
  // citty names the command by its meta.name; give it the full path ("labbook log metric").
  const meta = { ...((await resolve(leaf.cmd.meta)) ?? {}), name: chain.map((x) => x.name).join(' ') }
  let text = await renderUsage({ ...leaf.cmd, meta })
  const c = colorsFor(io.stdout, io.env)
  // citty decides on colour by itself (only NO_COLOR=1, CI, TEST); follow our rule instead.
  if (!c.isColorSupported) text = text.replace(/\x1b\[[0-9;]*m/g, '')
  text = text.replace(/[ \t]+$/gm, '')
  text += `\n\n${c.underline(c.bold('GLOBAL OPTIONS'))}\n\n  --repo=<DIR>     ${GLOBAL_HELP.repo}\n  --branch=<NAME>  ${GLOBAL_HELP.branch}\n  --verbose        ${GLOBAL_HELP.verbose}\n`
  const examples = examplesOf(leaf.cmd)
  if (examples.length > 0) text += `\n${c.underline(c.bold('EXAMPLES'))}\n\n${examples.map((e) => `  ${e}`).join('\n')}\n`
  if (chain.length === 1) text += `\nExit codes: 0 success, 1 failed operation, 2 bad usage.\n`
  return text
}

const GLOBAL_HELP = {
  repo: 'Repository to work in (default: the git root above the current directory)',
  branch: 'Branch holding the runs (default: branch: in labbook.config.yaml, else labbook)',
  verbose: 'Print stack traces with errors',
}

async function resolve<T>(v: T | Promise<T> | (() => T) | (() => Promise<T>) | undefined): Promise<T | undefined> {
  return typeof v === 'function' ? await (v as () => T | Promise<T>)() : await v
}

/** Signals labbook re-raises on itself so its parent sees exactly what the wrapped command died of. */
const RERAISE = new Set<NodeJS.Signals>(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGKILL', 'SIGPIPE'])

function isBin(): boolean {
  if (!process.argv[1]) return false
  try {
    return import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href
  } catch {
    return false
  }
}

/** The bin: runs main() on the process's argv and sets the process's exit. */
export async function runBin(): Promise<void> {
  // `labbook ls | head` closes our stdout early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0)
  })
  soleInvocation()
  const r = await main(process.argv.slice(2))
  if (r.signal) {
    const n = constants.signals[r.signal] ?? 0
    process.exitCode = 128 + n
    if (RERAISE.has(r.signal)) {
      process.removeAllListeners(r.signal)
      process.kill(process.pid, r.signal)
    }
  } else {
    process.exitCode = r.exitCode
  }
  // Once nothing is left to do (the event loop is empty: output written, the listing file saved, children and timers
  // done or unref'd, just as node's own exit waits), end at once with process.exitCode: node's own exit first tears
  // the V8 heap down page by page (~45 ms CPU at the end of a cold `ls` of 10,000 runs on a loaded machine, issue 17)
  // for a process that ends anyway. 'exit' listeners run either way.
  process.once('beforeExit', () => process.exit())
}

// no top-level await: the published bin is this module inside a CommonJS bundle (cli/bin.ts calls runBin)
if (isBin()) void runBin()
