import { defineCommand } from 'citty'
import { enableLfs, enableNotesDisplay, writeGithubWorkflows } from '../src/sync/setup.js'
import { withBook } from './book.js'
import { ctx } from './context.js'
import { withExamples } from './help.js'
import { out, say, toJson } from './output.js'

export default withExamples(defineCommand({
  meta: { name: 'init', description: 'Create the labbook branch in this repository (does nothing if it exists)' },
  args: {
    notes: { type: 'boolean', description: 'Also make `git log` show labbook\'s notes on your commits (adds notes.displayRef)' },
    github: { type: 'boolean', description: 'Also write GitHub workflows (.github/workflows/labbook-pages.yml, labbook-report.yml, labbook-report-post.yml) into your checkout' },
    lfs: { type: 'boolean', description: 'Also install Git LFS hooks and filters here (git lfs install --local), so a plain `git push` uploads large artifacts too; `labbook push` never needs it' },
    force: { type: 'boolean', description: 'With --github: overwrite existing workflow files' },
    json: { type: 'boolean', description: 'Print {created, branch, commit, repo, notes, workflows} as JSON' },
  },
  async run({ args }) {
    const { io } = ctx()
    await withBook(async (book) => {
      const r = await book.init()
      // Only on request: these change the user's git config / checkout, which plain init never does.
      const notes = args.notes ? enableNotesDisplay(book.repo) : undefined
      const lfs = args.lfs ? enableLfs(book.repo) : undefined
      const workflows = args.github ? writeGithubWorkflows(book.repo, undefined, { force: args.force }) : undefined
      if (args.json) return out(io, toJson({ created: r.created, branch: book.branch, commit: r.commit, repo: book.repo, notes: notes ?? null, lfs: lfs ? true : null, workflows: workflows ?? null }))
      say(io, r.created
        ? `Created branch ${book.branch} (commit ${r.commit.slice(0, 7)}) in ${book.repo}. Runs will be recorded there; your checkout is untouched.`
        : `Branch ${book.branch} already exists in ${book.repo} (at ${r.commit.slice(0, 7)}); nothing to do.`)
      if (notes) say(io, notes.changed ? '`git log` now shows labbook notes (git config notes.displayRef).' : '`git log` already shows labbook notes.')
      if (lfs) say(io, 'Git LFS hooks and filters installed (git lfs install --local).')
      for (const w of workflows ?? []) say(io, w.written ? `Wrote ${w.path}; commit it to use it.` : `Kept the existing ${w.path} (--force overwrites it).`)
    })
  },
}), ['labbook init', 'labbook init --branch experiments', 'labbook init --notes --github', 'labbook init --lfs'])
