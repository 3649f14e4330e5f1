// The wrapped command's runtime when --version says nothing (dash's `sh`), through `sh -c`, and from a script's #! line.
import { chmodSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { probeRuntime, shellScriptProgram } from '../../src/cli-support/runtime.js'

const dir = mkdtempSync(join(tmpdir(), 'labbook-runtime-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const env = { ...process.env, PATH: `${dir}:${process.env.PATH}` }
// An interpreter that, like dash, refuses --version (exit 2, a complaint on stderr).
writeFileSync(join(dir, 'mysh'), '#!/bin/sh\necho "mysh: 0: Illegal option --" >&2\nexit 2\n')
chmodSync(join(dir, 'mysh'), 0o755)
writeFileSync(join(dir, 'train.sh'), `#!${join(dir, 'mysh')}\necho hi\n`)
chmodSync(join(dir, 'train.sh'), 0o755)
const probe = (command: string[]) => probeRuntime(command, { env, cwd: dir, timeoutMs: 10_000 })

describe('runtime probe fallbacks', () => {
  it('a shell -c script is looked through to the program it starts', () => {
    expect(shellScriptProgram(['sh', '-c', 'python3 train.py --lr 1'])).toEqual(['python3', 'train.py', '--lr', '1'])
    expect(shellScriptProgram(['bash', '-ec', 'FOO=1 exec env python3 t.py | tee log'])).toEqual(['python3', 't.py', 'tee', 'log'])
    expect(shellScriptProgram(['sh', 'train.sh'])).toBeUndefined()
    expect(shellScriptProgram(['python3', '-c', 'print(1)'])).toBeUndefined()
  })

  it('a program whose --version fails is named with the file it resolves to, never left to labbook\'s Node', async () => {
    expect(await probe(['mysh', 'x'])).toEqual({ runtime: `mysh → ${realpathSync(join(dir, 'mysh'))}` })
    // The system's sh: dash refuses --version (then sh → /usr/bin/dash); a bash sh answers it.
    const sh = (await probe(['sh', 'train.sh'])).runtime
    expect(sh).toMatch(/^sh → \/\S+$|bash/i)
  })

  it('sh -c reports the program the script runs; a script by path reports its #! interpreter', async () => {
    expect((await probe(['sh', '-c', 'true && echo done'])).runtime).toMatch(/coreutils/) // /usr/bin/true's --version
    expect((await probe(['sh', '-c', 'cd . ; exit 0'])).runtime).toMatch(/^sh → \/\S+$|bash/i) // nothing on PATH: the shell
    expect(await probe(['./train.sh'])).toEqual({ runtime: `mysh → ${realpathSync(join(dir, 'mysh'))}` })
  })
})
