import fs from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LabbookError } from '../errors.js'
import { NOTES_REF } from './notes.js'
import { gitConfigAdd, gitConfigAll } from '../store/git.js'

/** Makes `git log` show labbook's notes without `--notes=labbook` (adds notes.displayRef; asked for by `init --notes`). */
export function enableNotesDisplay(repo: string): { changed: boolean } {
  if (gitConfigAll({ cwd: repo }, 'notes.displayRef').includes(NOTES_REF)) return { changed: false }
  gitConfigAdd({ cwd: repo }, 'notes.displayRef', NOTES_REF)
  return { changed: true }
}

export const WORKFLOWS = {
  pages: { template: 'labbook-pages.yml', target: '.github/workflows/labbook-pages.yml' },
  report: { template: 'labbook-report.yml', target: '.github/workflows/labbook-report.yml' },
} as const

export type WorkflowName = keyof typeof WORKFLOWS

/** The workflow templates shipped with the package (templates/github/). */
export function templatesDir(): string {
  for (const rel of ['../../templates/github', '../../../templates/github']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url))
    if (fs.existsSync(dir)) return dir
  }
  throw new LabbookError('IO_FAILED', 'The workflow templates are missing from this labbook installation.', 'Reinstall labbook.')
}

/** Writes the GitHub workflows into the user's repository; an existing file is kept unless `force`. */
export function writeGithubWorkflows(repo: string, which: WorkflowName[] = ['pages', 'report'], o: { force?: boolean } = {}): Array<{ path: string; written: boolean }> {
  const dir = templatesDir()
  return which.map((name) => {
    const { template, target } = WORKFLOWS[name]
    const path = join(repo, target)
    if (fs.existsSync(path) && !o.force) return { path: target, written: false }
    fs.mkdirSync(join(path, '..'), { recursive: true })
    fs.copyFileSync(join(dir, template), path)
    return { path: target, written: true }
  })
}
