/**
 * One built site for a browser test file: a real temp repository filled by `populate`, the site built once (through
 * `labbook site build --json` as a user would, or `buildSite` with options), served on loopback by the real preview
 * server, and headless Chromium (test/site/browser.ts). `open()` gives a page that records every request, dialog and
 * script error. `close()` undoes all of it and, unless told otherwise, checks the user's repository state is what it
 * was before the build.
 * @example
 * let site: BuiltSite<{ ids: string[] }>
 * beforeAll(async () => { site = await builtSite({ populate: (r) => populateSiteRepo(r.dir), base: '/lab/' }) }, 240_000)
 * afterAll(() => site?.close())
 */
import { rmSync } from 'node:fs'
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core'
import { expect } from 'vitest'
import { main } from '../../cli/main.js'
import { buildSite, type SiteBuildOptions, type SiteBuildResult } from '../../src/site/build/index.js'
import { previewSite, type PreviewServer } from '../../src/site/build/preview.js'
import { launchChromium } from '../site/browser.js'
import { captureIO } from './cli.js'
import { gitRepo, type TestRepo } from './git-repo.js'

export interface BuiltSiteOptions<T, B extends { out: string } = SiteBuildResult> {
  /** Files of the repository's first commit (gitRepo's default otherwise). */
  files?: Record<string, string>
  /** Fills the repository (runs, models…); its result is `site.made`. */
  populate: (repo: TestRepo) => Promise<T>
  /**
   * `'cli'` (default): `labbook site build --out <out> --base <base> --json` in the repository. Or buildSite's options
   * (repo, out and base are filled in). Or a build of the caller's own (another command line, a MemorySource) that
   * answers with at least the output folder.
   */
  build?: 'cli' | Omit<SiteBuildOptions, 'repo' | 'out' | 'base'> | ((repo: TestRepo, out: string) => Promise<B>)
  /** URL path the site is built for and served under. @default '/' */
  base?: string
  /** Assert in close() that the user's repository state did not change since populate. @default true */
  checkUserState?: boolean
}

export interface OpenOptions {
  dark?: boolean
  /** 390x844 (else 1440x900). */
  phone?: boolean
  /** Open in this context (the caller closes it) instead of a new one with `dark`/`phone`. */
  context?: BrowserContext
  /** More options for the new context (javaScriptEnabled, isMobile…). */
  contextOptions?: BrowserContextOptions
  /** @default 'networkidle' */
  waitUntil?: 'load' | 'domcontentloaded' | 'networkidle'
}

/** A page with what it did: every request, every dialog (dismissed), every script error. */
export interface Watched {
  page: Page
  context: BrowserContext
  requests: string[]
  dialogs: string[]
  errors: string[]
  /** What a safe page never does, in order: `dialog: …`, `pageerror: …`, `external: <url>` (a request leaving the site). */
  problems: string[]
  /** Requests that left the site (anything not under the preview server's origin and not a data: URL). */
  external(): string[]
  /** Closes the page's context when open() made it, else the page. */
  close(): Promise<void>
}

export interface BuiltSite<T, B extends { out: string } = SiteBuildResult> {
  repo: TestRepo
  built: B
  srv: PreviewServer
  browser: Browser
  /** The user's repository state right after populate (TestRepo.userState). */
  userState: string
  made: T
  /** The absolute URL of a path under the base (`''` is the home page). */
  url(path: string): string
  open(path: string, o?: OpenOptions): Promise<Watched>
  close(): Promise<void>
}

export async function builtSite<T, B extends { out: string } = SiteBuildResult>(o: BuiltSiteOptions<T, B>): Promise<BuiltSite<T, B>> {
  const base = o.base ?? '/'
  const repo = gitRepo(o.files)
  let built: B | undefined, srv: PreviewServer | undefined, browser: Browser | undefined
  const close = async () => {
    await browser?.close()
    await srv?.close()
    if (built) rmSync(built.out, { recursive: true, force: true })
  }
  try {
    const made = await o.populate(repo)
    const userState = repo.userState()
    const out = `${repo.dir}-site`
    if (typeof o.build === 'function') {
      built = await o.build(repo, out)
    } else if (o.build === undefined || o.build === 'cli') {
      const c = captureIO(repo.dir)
      const res = await main(['site', 'build', '--out', out, '--base', base, '--json'], c.io)
      expect(res.exitCode, c.stderr()).toBe(0)
      built = JSON.parse(c.stdout()) as B // SiteBuildResult, the default B
    } else {
      built = await buildSite({ ...o.build, repo: repo.dir, out, base }) as unknown as B
    }
    srv = await previewSite({ dir: built.out, base, port: 0 })
    browser = await launchChromium()
    const origin = new URL(srv.url).origin
    const inSite = (u: string) => u.startsWith(`${origin}/`) || u.startsWith('data:')
    const site: BuiltSite<T, B> = {
      repo, built, srv, browser, userState, made,
      url: (path) => srv!.url + path,
      async open(path, w = {}) {
        const own = !w.context
        const context = w.context ?? await browser!.newContext({
          viewport: w.phone ? { width: 390, height: 844 } : { width: 1440, height: 900 }, colorScheme: w.dark ? 'dark' : 'light', ...w.contextOptions,
        })
        const page = await context.newPage()
        const r: Watched = {
          page, context, requests: [], dialogs: [], errors: [], problems: [],
          external: () => r.requests.filter((u) => !inSite(u)),
          close: () => (own ? context.close() : page.close()),
        }
        page.on('request', (q) => {
          r.requests.push(q.url())
          if (!inSite(q.url())) r.problems.push(`external: ${q.url()}`)
        })
        page.on('dialog', (d) => { r.dialogs.push(d.message()); r.problems.push(`dialog: ${d.message()}`); void d.dismiss() })
        page.on('pageerror', (e) => { r.errors.push(e.message); r.problems.push(`pageerror: ${e.message}`) })
        await page.goto(srv!.url + path, { waitUntil: w.waitUntil ?? 'networkidle' })
        return r
      },
      async close() {
        await close()
        if (o.checkUserState ?? true) expect(repo.userState()).toBe(userState)
        repo.cleanup()
      },
    }
    return site
  } catch (e) {
    await close()
    repo.cleanup({ check: false })
    throw e
  }
}

/**
 * Waits until the island whose root matches `selector` has hydrated (its `data-hydrated="true"` mark, from
 * site/src/islands/hydrated.ts), scrolling it into view first: a client:visible island hydrates only when seen.
 * Server-rendered controls are disabled until then; a key press or tick before it would be lost.
 */
export async function hydrated(page: Page, selector: string): Promise<void> {
  await page.locator(selector).first().scrollIntoViewIfNeeded()
  await page.waitForSelector(`${selector}[data-hydrated="true"]`)
}
