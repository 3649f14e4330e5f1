// The MLflow artifact proxy streams large artifacts: a 200 MB Git LFS artifact downloaded through a real server
// process grows its RSS by far less than the file (bench/lfs.ts does the same with 1 GB).
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Labbook } from '../../src/index.js'
import { gitRepo, type TestRepo } from '../helpers/git-repo.js'

const HELPER = new URL('../helpers/serve-process.ts', import.meta.url).pathname
let repo: TestRepo
afterAll(() => repo?.cleanup())

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m![1]) * 1024
}

describe('the artifact proxy streams Git LFS artifacts', () => {
  it('serves 200 MB with RSS growth under 100 MB, byte-identical', async () => {
    repo = gitRepo()
    const dir = fs.mkdtempSync(join(os.tmpdir(), 'labbook-lfs-mem-'))
    const file = join(dir, 'big.bin')
    const hash = createHash('sha256')
    const fd = fs.openSync(file, 'w')
    for (let i = 0; i < 200; i++) { const c = randomBytes(1 << 20); hash.update(c); fs.writeSync(fd, c) }
    fs.closeSync(fd)
    const sha = hash.digest('hex')
    const book = await Labbook.open({ repo: repo.dir, artifactThreshold: 1000 })
    const run = await book.startRun({ name: 'big' })
    await run.logArtifact(file)
    await run.logBytes('warm.bin', randomBytes(100_000))
    await run.end()
    const exp = (await book.getRun(run.id)).experiment
    await book.close()
    fs.rmSync(dir, { recursive: true })

    const p = spawn(process.execPath, ['--import', 'tsx', HELPER, repo.dir], { stdio: ['ignore', 'pipe', 'inherit'] })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = ''
        p.stdout!.on('data', (d) => { out += d; const m = /url (\S+)/.exec(out); if (m) resolve(m[1]!) })
        p.on('exit', () => reject(new Error('server exited')))
      })
      const path = (name: string) => `/api/2.0/mlflow-artifacts/artifacts/${exp}/${run.id}/artifacts/${name}`
      const get = (name: string, onData: () => void) => new Promise<{ sha: string; bytes: number; status: number }>((resolve, reject) => {
        http.get(url + path(name), (res) => {
          const h = createHash('sha256')
          let bytes = 0
          res.on('data', (c: Buffer) => { h.update(c); bytes += c.length; onData() })
          res.on('end', () => resolve({ sha: h.digest('hex'), bytes, status: res.statusCode ?? 0 }))
        }).on('error', reject)
      })
      expect((await get('warm.bin', () => {})).bytes).toBe(100_000) // warm up: the same code path, a small Git LFS object
      const base = rssOf(p.pid!)
      let peak = base
      const got = await get('big.bin', () => { peak = Math.max(peak, rssOf(p.pid!)) })
      expect(got).toEqual({ sha, bytes: 200 << 20, status: 200 })
      expect(peak - base).toBeLessThan(100 << 20)
    } finally {
      p.kill('SIGTERM')
    }
  }, 300_000)
})
