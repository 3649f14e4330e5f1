import fs from 'node:fs'
import { dirname, resolve } from 'node:path'
import { defineCommand } from 'citty'
import { usage } from './args.js'
import { withBook } from './book.js'
import { ctx } from './context.js'
import { withExamples } from './help.js'
import type { OutStream } from './io.js'
import { say } from './output.js'

/** Writes a file to a stream in 1 MiB pieces, waiting for 'drain' (a 2 GB checkpoint never sits in memory). */
async function streamFile(file: string, to: OutStream): Promise<void> {
  const fd = fs.openSync(file, 'r')
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(1 << 20)
      const n = fs.readSync(fd, buf, 0, buf.length, null)
      if (n === 0) break
      if (!to.write(buf.subarray(0, n)) && to.once) await new Promise<void>((r) => to.once!('drain', r))
    }
  } finally {
    fs.closeSync(fd)
  }
}

const get = withExamples(defineCommand({
  meta: { name: 'get', description: 'Write one artifact of a run to a file or stdout (large ones are downloaded from the remote\'s Git LFS store if this clone lacks them)' },
  args: {
    run: { type: 'positional', description: 'Run id, unique id prefix (4+ characters) or unique run name', valueHint: 'RUN' },
    path: { type: 'positional', description: 'Artifact path inside the run, e.g. model/weights.bin', valueHint: 'PATH' },
    output: { type: 'string', alias: 'o', description: 'Write to this file instead of stdout', valueHint: 'FILE' },
    remote: { type: 'string', description: 'Remote to download a missing large artifact from (default: git-lfs\'s default remote, then the others)', valueHint: 'REMOTE' },
  },
  async run({ args }) {
    const { io } = ctx()
    if (!args.output && io.stdout.isTTY) throw usage('Refusing to write an artifact to the terminal.', 'Pass -o FILE, or redirect stdout: labbook artifact get RUN PATH > FILE')
    await withBook(async (book) => {
      const run = await book.resolveRun(String(args.run))
      const content = await book.openArtifact(run.id, String(args.path), { remote: args.remote })
      if (!args.output) {
        if (content.bytes) io.stdout.write(content.bytes)
        else await streamFile(content.file, io.stdout)
        return
      }
      const dest = resolve(io.cwd, args.output)
      const tmp = `${dest}.labbook-${process.pid}.tmp`
      try {
        fs.mkdirSync(dirname(dest), { recursive: true })
        if (content.bytes) fs.writeFileSync(tmp, content.bytes)
        else fs.copyFileSync(content.file, tmp)
        fs.renameSync(tmp, dest)
      } catch (e) {
        fs.rmSync(tmp, { force: true })
        throw e
      }
      say(io, `Wrote ${args.output} (${content.size} bytes) from run ${run.id}.`)
    })
  },
}), ['labbook artifact get 01jf3k model/weights.bin -o weights.bin', 'labbook artifact get best-rf metrics.json | jq .'])

export default withExamples(defineCommand({
  meta: { name: 'artifact', description: 'Read a run\'s artifacts' },
  subCommands: { get },
}), ['labbook artifact get RUN PATH -o FILE'])
