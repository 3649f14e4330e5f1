import { defineCommand } from 'citty'
import { withBook } from './book.js'
import { ctx } from './context.js'
import { withExamples } from './help.js'
import { out, say, toJson } from './output.js'

export default withExamples(defineCommand({
  meta: { name: 'init', description: 'Create the labbook branch in this repository (does nothing if it exists)' },
  args: { json: { type: 'boolean', description: 'Print {created, branch, commit} as JSON' } },
  async run({ args }) {
    const { io } = ctx()
    await withBook(async (book) => {
      const r = await book.init()
      if (args.json) return out(io, toJson({ created: r.created, branch: book.branch, commit: r.commit, repo: book.repo }))
      say(io, r.created
        ? `Created branch ${book.branch} (commit ${r.commit.slice(0, 7)}) in ${book.repo}. Runs will be recorded there; your checkout is untouched.`
        : `Branch ${book.branch} already exists in ${book.repo} (at ${r.commit.slice(0, 7)}); nothing to do.`)
    })
  },
}), ['labbook init', 'labbook init --branch experiments'])
