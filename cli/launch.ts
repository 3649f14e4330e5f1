#!/usr/bin/env node
/**
 * The published bin (dist/bundle/labbook.js, package.json `bin`): runs the CLI bundle, labbook-cli.cjs, all of cli/
 * in one CommonJS file (cli/bundle.mjs). One file, not ~36 ES module chunks: Node 20 resolves, links and
 * evaluates each ES module apart, which cost a cold `labbook ls` of 10,000 runs ~35 ms of CPU (issue 17).
 *
 * One file means parsing all of it (~0.9 MB) for any command, so it is compiled with V8's code cache: Node 20 has no
 * compile cache of its own. The cache holds the bytecode of what one command ran, a file per command, under
 * `$XDG_CACHE_HOME/labbook/` (default `~/.cache/labbook/`; `LABBOOK_CODE_CACHE=<dir>` elsewhere, `=off` none). It is
 * a cache only: a missing, stale or damaged file is ignored (V8 checks its own version, flags and the source's
 * length; our first line names the bundle's size and mtime, node's version and the CRC-32 of the rest) and written
 * again, whole (temp file and rename), after the next run that succeeds. Node 20 cannot run an import() written in
 * code read from a cache (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING), so the bundle's few imports of what lies outside
 * it (src/external-import.ts) go through this module's import, handed in as globalThis.__labbookImport.
 */
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import vm from 'node:vm'
import zlib from 'node:zlib'

const file = join(dirname(fileURLToPath(import.meta.url)), 'labbook-cli.cjs')
const require = createRequire(file)
const dir = cacheDir()

;(globalThis as { __labbookImport?: (specifier: string) => Promise<unknown> }).__labbookImport = (specifier) => import(specifier)
if (dir === undefined) require(file)
else runCached(dir)

function runCached(dir: string): void {
  const source = readFileSync(file, 'utf8')
  const st = statSync(file)
  const path = join(dir, `cli-${commandName(process.argv.slice(2))}.cache`)
  const key = `labbook-code-cache 1 ${process.version} ${process.arch} ${st.size} ${st.mtimeMs}`
  const cachedData = readCache(path, key)
  // the CommonJS wrapper, as require() compiles a module
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData })
  if (cachedData === undefined || script.cachedDataRejected) {
    // at the end, so the cache holds what the command compiled; only after a success (a failed start compiles little)
    process.once('exit', (code) => { if (code === 0) writeCache(path, key, script) })
  }
  const module = { exports: {} }
  ;(script.runInThisContext() as (...a: unknown[]) => void).call(module.exports, module.exports, require, module, file, dirname(file))
}

/** The subcommand's name (the first word that is not an option or the value of --repo/--branch), or `none`. */
function commandName(argv: string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') break
    if (a === '--repo' || a === '--branch') i++
    else if (!a.startsWith('-')) return /^[a-z][a-z-]{0,31}$/.test(a) ? a : 'other'
  }
  return 'none'
}

function cacheDir(): string | undefined {
  const set = process.env.LABBOOK_CODE_CACHE
  if (set === 'off') return undefined
  if (set) return set
  if (process.env.XDG_CACHE_HOME) return join(process.env.XDG_CACHE_HOME, 'labbook')
  try {
    const home = homedir()
    return home ? join(home, '.cache', 'labbook') : undefined
  } catch {
    return undefined // no home directory: run without the cache
  }
}

/** The first line of a cache file: its key and the CRC-32 of the bytes after it (V8 checks no checksum itself). */
function header(key: string, data: Buffer): string {
  return `${key} ${typeof zlib.crc32 === 'function' ? zlib.crc32(data) : '-'}\n`
}

function readCache(path: string, key: string): Buffer | undefined {
  try {
    const b = readFileSync(path)
    const nl = b.indexOf(10)
    const data = b.subarray(nl + 1)
    return nl > 0 && b.toString('latin1', 0, nl + 1) === header(key, data) ? data : undefined
  } catch {
    return undefined
  }
}

function writeCache(path: string, key: string, script: vm.Script): void {
  const tmp = `${path}.${process.pid}.tmp`
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    const data = script.createCachedData()
    writeFileSync(tmp, Buffer.concat([Buffer.from(header(key, data), 'latin1'), data]), { mode: 0o600 })
    renameSync(tmp, path)
  } catch {
    try { unlinkSync(tmp) } catch { /* never written */ }
  }
}
