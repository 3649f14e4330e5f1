import fs from 'node:fs'
import { join } from 'node:path'
import { LabbookError } from '../errors.js'
import { packageRoot } from '../package-files.js'
import { lfsAvailable, lfsMissing } from '../store/lfs-transfer.js'
import { NOTES_REF } from '../track/notes.js'
import { gitConfigAdd, gitConfigAll, runGitSync } from '../store/git.js'

/** Makes `git log` show labbook's notes without `--notes=labbook` (adds notes.displayRef; asked for by `init --notes`). */
export function enableNotesDisplay(repo: string): { changed: boolean } {
  if (gitConfigAll({ cwd: repo }, 'notes.displayRef').includes(NOTES_REF)) return { changed: false }
  gitConfigAdd({ cwd: repo }, 'notes.displayRef', NOTES_REF)
  return { changed: true }
}

/**
 * Installs Git LFS's hooks and filters into this repository's config (`git lfs install --local`; asked for by
 * `init --lfs`), so a plain `git push` of the labbook branch also uploads its large artifacts. Never touches
 * .gitattributes: labbook writes pointers itself and needs no tracking patterns.
 */
export function enableLfs(repo: string): { output: string } {
  if (!lfsAvailable()) throw lfsMissing('`labbook init --lfs` installs its hooks and filters')
  const r = runGitSync(['lfs', 'install', '--local'], { cwd: repo })
  if (r.code !== 0) {
    throw new LabbookError('GIT_FAILED', `git lfs install --local failed: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 2).join(' ')}`,
      'An existing hook blocks it: merge it by hand (see `git lfs install --help`, --manual), or run `git lfs update --force`.')
  }
  return { output: r.stdout.trim() }
}

export const WORKFLOWS = {
  pages: { template: 'labbook-pages.yml', target: '.github/workflows/labbook-pages.yml' },
  report: { template: 'labbook-report.yml', target: '.github/workflows/labbook-report.yml' },
  /** Part 2 of the report (workflow_run): posts part 1's artifact as the PR comment and check run, never running PR code. */
  reportPost: { template: 'labbook-report-post.yml', target: '.github/workflows/labbook-report-post.yml' },
} as const

export type WorkflowName = keyof typeof WORKFLOWS

/** The workflow templates shipped with the package (templates/github/). */
export function templatesDir(): string {
  const dir = join(packageRoot(), 'templates', 'github')
  if (fs.existsSync(dir)) return dir
  throw new LabbookError('IO_FAILED', 'The workflow templates are missing from this labbook installation.', 'Reinstall labbook.')
}

/** Writes the GitHub workflows into the user's repository; an existing file is kept unless `force`. */
export function writeGithubWorkflows(repo: string, which: WorkflowName[] = ['pages', 'report', 'reportPost'], o: { force?: boolean } = {}): Array<{ path: string; written: boolean }> {
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
