// Sync benchmark: a `pull` that merges 1,000 new runs into a branch that also moved locally (target ≤ 5 s).
// Usage: npx tsx bench/sync.ts [N]
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { Labbook } from '../src/index.js'
import { pull, push } from '../src/sync/remote.js'
import { generateRuns } from './generate.js'

const n = Number(process.argv[2] ?? 1000)
const root = fs.mkdtempSync(join(os.tmpdir(), 'labbook-bench-sync-'))
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' })
fs.mkdirSync(join(root, 'seed'))
git(join(root, 'seed'), 'init', '-q', '-b', 'main')
git(join(root, 'seed'), '-c', 'user.name=b', '-c', 'user.email=b@x', 'commit', '-q', '--allow-empty', '-m', 'init')
git(root, 'clone', '-q', '--bare', 'seed', 'remote.git')
for (const c of ['a', 'b']) git(root, 'clone', '-q', 'remote.git', c)

await generateRuns(join(root, 'a'), 2000, { seed: 1 })
const a = await Labbook.open({ repo: join(root, 'a') })
await push(a)
const b = await Labbook.open({ repo: join(root, 'b') })
await pull(b)
await generateRuns(join(root, 'b'), n, { seed: 2 })
await push(b)
for (let i = 0; i < 10; i++) await (await a.startRun({ name: `local-${i}` })).end() // A moved too: a real merge

const t0 = performance.now()
const result = await pull(a)
const ms = performance.now() - t0
const runs = (await a.listRuns({ includeDeleted: true })).length
console.log(`pull merging ${result.runsAdded} new runs into 2,010 (${result.branch}): ${Math.round(ms)} ms   target ≤ 5,000 ms; ${runs} runs after`)
fs.rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })
