// Reading packed objects: isomorphic-git's readObject vs one long-lived `git cat-file --batch`, same objects, same run.
// `node --import tsx bench/packed-read.ts [--objects N]` — prints objects/s for each and the ratio.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { CatFileBatch } from '../src/store/git.js'

const n = Number(process.argv[process.argv.indexOf('--objects') + 1]) || 3000
const dir = fs.mkdtempSync(join(os.tmpdir(), 'labbook-packed-'))
const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 28 })
git('init', '-q', '--bare')
// Blobs like a run's files: a run.yaml-sized text and a metric chunk, similar to each other so the pack deltas them.
const input = Array.from({ length: n }, (_, i) => `name: run-${i}\nstatus: FINISHED\nparams:\n  lr: ${i / n}\n` + `{"k":"loss","v":${Math.sin(i)},"s":${i},"t":${1700000000000 + i}}\n`.repeat(30))
const oids: string[] = []
for (let i = 0; i < n; i += 500) {
  const files = input.slice(i, i + 500).map((t, j) => { const f = join(dir, `in-${i + j}`); fs.writeFileSync(f, t); return f })
  oids.push(...git('hash-object', '-w', '--', ...files).trim().split('\n'))
  for (const f of files) fs.rmSync(f)
}
fs.writeFileSync(join(dir, 'list'), oids.join('\n') + '\n')
execFileSync('sh', ['-c', 'git pack-objects -q objects/pack/pack < list && git prune-packed'], { cwd: dir })
const loose = fs.readdirSync(join(dir, 'objects')).filter((d) => /^[0-9a-f]{2}$/.test(d)).length
console.log(`${n} blobs (${(input.reduce((a, t) => a + t.length, 0) / 1e6).toFixed(1)} MB raw), packed (${loose} loose dirs left)`)

async function timeIt(name: string, read: (oid: string) => Promise<Buffer>): Promise<number> {
  const t0 = performance.now()
  let bytes = 0
  for (const oid of oids) bytes += (await read(oid)).length
  const ms = performance.now() - t0
  console.log(`${name.padEnd(28)} ${(ms / 1000).toFixed(2)} s  ${Math.round(n / (ms / 1000))} objects/s  (${(bytes / 1e6).toFixed(1)} MB)`)
  return ms
}

const iso = (await import('isomorphic-git')).default
const cache = {}
const isoMs = await timeIt('isomorphic-git readObject', async (oid) => Buffer.from((await iso.readObject({ fs, gitdir: dir, oid, format: 'content', cache })).object as Uint8Array))
const batch = new CatFileBatch(dir)
const catMs = await timeIt('git cat-file --batch', async (oid) => (await batch.read(oid))!.body)
batch.close()
// Concurrent reads (a site build reads many runs at once): all requests in flight on the one pipe.
const t0 = performance.now()
const b2 = new CatFileBatch(dir)
await Promise.all(oids.map((o) => b2.read(o)))
b2.close()
console.log(`${'cat-file, all in flight'.padEnd(28)} ${((performance.now() - t0) / 1000).toFixed(2)} s`)
console.log(`ratio: cat-file --batch is ${(isoMs / catMs).toFixed(1)}x isomorphic-git (same objects, same run)`)
fs.rmSync(dir, { recursive: true, force: true })
