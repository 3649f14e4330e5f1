import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeLfsPointer, encodeLfsPointer } from '../../src/format/lfs-pointer.js'

describe('Git LFS pointer files', () => {
  it('writes byte for byte what `git lfs pointer` writes, and reads it back', () => {
    const dir = fs.mkdtempSync(join(os.tmpdir(), 'labbook-pointer-'))
    try {
      const file = join(dir, 'x.bin')
      fs.writeFileSync(file, Buffer.alloc(12345, 3))
      const theirs = execFileSync('git', ['lfs', 'pointer', `--file=${file}`], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] })
      const p = decodeLfsPointer(theirs)
      expect(p?.size).toBe(12345)
      expect(encodeLfsPointer(p!)).toBe(theirs.toString('utf8'))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('reads only real pointers: content that merely looks alike is content', () => {
    const oid = 'a'.repeat(64)
    const good = `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize 7\n`
    expect(decodeLfsPointer(Buffer.from(good))).toEqual({ oid, size: 7 })
    expect(decodeLfsPointer(Buffer.from(`version https://git-lfs.github.com/spec/v1\next-0-foo sha256:${'b'.repeat(64)}\noid sha256:${oid}\nsize 7\n`))).toEqual({ oid, size: 7 })
    for (const bad of [good.slice(0, -1), good.replace('sha256:', 'sha1:'), good.replace('size 7', 'size -7'), good.replace('size 7', 'size 07'),
      good.replace('v1', 'v2'), good + 'x'.repeat(1024), 'hello world, this is not a pointer file at all\n', good.replace('\n', '\r\n')]) {
      expect(decodeLfsPointer(Buffer.from(bad))).toBeUndefined()
    }
  })
})
