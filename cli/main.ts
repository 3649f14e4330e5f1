#!/usr/bin/env node
/**
 * The `labbook` command. Built on citty (unjs): small, typed args, and lazy `subCommands` so `labbook ls` loads
 * only ls. main.ts owns what citty leaves open: global options, unknown-option checks, help/usage output to the
 * injected streams, the error format and exit codes (0 ok, 1 failed operation, 2 bad usage), and it alone sets
 * `process.exitCode`.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { constants } from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { renderUsage, runCommand, type ArgsDef, type CommandDef } from 'citty'
import { ERRORS, isLabbookError } from '../src/errors.js'
import { beforeDashes, checkKnownFlags, usage } from './args.js'
import { withContext, type CliContext } from './context.js'
import { processIO, type CliIO } from './io.js'
import { colorsFor, printError, say } from './output.js'
import { examplesOf } from './help.js'

type Loader = () => Promise<CommandDef<any>>
const load = (p: Promise<{ default: CommandDef<any> }>) => p.then((m) => m.default)

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
  compare: () => load(import('./compare.js')),
  export: () => load(import('./export.js')),
  gc: () => load(import('./gc.js')),
  models: () => load(import('./models.js')),
  reproduce: () => load(import('./reproduce.js')),
}

/** Subcommands other modules contribute as one file exporting a citty command; registered when the file exists. */
const OPTIONAL = ['site', 'serve', 'import', 'push', 'pull', 'report'] as const

function commandTable(): Record<string, Loader> {
  const table = { ...COMMANDS }
  for (const name of OPTIONAL) {
    const js = new URL(`./${name}.js`, import.meta.url)
    const ts = new URL(`./${name}.ts`, import.meta.url)
    if (existsSync(fileURLToPath(js)) || existsSync(fileURLToPath(ts))) {
      table[name] = () => load(import(js.href) as Promise<{ default: CommandDef<any> }>)
    }
  }
  return table
}

function version(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    const p = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'labbook') return pkg.version ?? '0.0.0'
    }
  }
  return '0.0.0'
}

function rootCommand(): CommandDef<any> {
  return {
    meta: { name: 'labbook', version: version(), description: 'Git-backed ML experiment tracking: runs as plain files on a branch of your repo' },
    subCommands: commandTable(),
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
  const chain: Array<{ name: string; cmd: CommandDef<any> }> = [{ name: 'labbook', cmd: rootCommand() }]
  try {
    const rest = takeGlobals(argv, c)
    if (rest.length === 1 && (rest[0] === '--version' || rest[0] === '-v')) {
      io.stdout.write(version() + '\n')
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
        throw usage(chain.length === 1 ? 'No command given.' : `${chain.map((x) => x.name).join(' ')} needs a subcommand.`, 'Pick one of the commands listed above.')
      }
      const name = tokens[idx]!
      const sub = subs[name]
      if (!sub) throw usage(`Unknown command ${JSON.stringify(name)}.`, `Run \`${chain.map((x) => x.name).join(' ')} --help\` to list the commands.`)
      chain.push({ name, cmd: (await resolve(sub))! })
      tokens = [...tokens.slice(0, idx), ...tokens.slice(idx + 1)]
    }
    if (wantsHelp) {
      io.stdout.write(await helpText(chain, io))
      return { exitCode: 0 }
    }
    const leaf = chain[chain.length - 1]!.cmd
    const path = chain.map((x) => x.name).join(' ')
    checkKnownFlags(tokens, ((await resolve(leaf.args)) ?? {}) as ArgsDef,
      path === 'labbook run' ? 'Options of the wrapped command go after --: `labbook run [options] -- python train.py --epochs 3`.' : undefined)
    await withContext(c, () => runCommand(leaf, { rawArgs: tokens }))
    return { exitCode: c.exit.code, signal: c.exit.signal }
  } catch (e) {
    const badUsage = isLabbookError(e, 'USAGE') || (e as Error)?.name === 'CLIError'
    if (badUsage) {
      io.stderr.write(await helpText(chain, io).catch(() => ''))
      say(io, '')
      const message = (e as Error).message.replace(/\x1b\[[0-9;]*m/g, '')
      printError(io, isLabbookError(e) ? e : usage(message.endsWith('.') ? message : message + '.'), c.verbose)
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

async function helpText(chain: Array<{ name: string; cmd: CommandDef<any> }>, io: CliIO): Promise<string> {
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

if (isBin()) {
  // `labbook ls | head` closes our stdout early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0)
  })
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
}
