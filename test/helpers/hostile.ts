/** What a page shows of injected markup: the one check the static site's and the live pages' hostile-string tests share. */
import type { Page } from 'playwright-core'

export interface Injected { pwned: unknown; scripts: number; imgX: number; handlers: number; jsLinks: number; text: string }

/** Counts every trace of an injection on the open page (all should be 0/undefined) and returns its text. */
export function injected(page: Page): Promise<Injected> {
  return page.evaluate(() => ({
    pwned: (window as unknown as { __pwned?: number }).__pwned,
    scripts: [...document.querySelectorAll('script')].filter((s) => s.textContent?.includes('__pwned')).length,
    imgX: document.querySelectorAll('img[src="x"], img[onerror]').length,
    handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
    jsLinks: document.querySelectorAll('a[href^="javascript:" i], [src^="javascript:" i]').length,
    text: document.body.textContent ?? '',
  }))
}
