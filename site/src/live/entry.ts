/**
 * Server entrypoint of the live renderer (`labbook serve` / `labbook ui`): the same pages as the static build,
 * compiled once with `output: 'server'` and rendered per request from the data the server hands over.
 * Astro calls `createExports` with the build's manifest; src/server/live-pages.ts imports the result.
 */
import { App } from 'astro/app'
import type { SSRManifest } from 'astro'
import type { SiteContext } from '../lib/page-context'

export interface RenderedPage { status: number; headers: Array<[string, string]>; body: string }

export function createExports(manifest: SSRManifest) {
  const app = new App(manifest)
  return {
    /** Renders the page at `url` from `ctx` (the pages read it as `Astro.locals.labbook`, see page-context.ts). */
    render: async (url: string, ctx: SiteContext): Promise<RenderedPage> => {
      const res = await app.render(new Request(url), { locals: { labbook: ctx } })
      return { status: res.status, headers: [...res.headers.entries()], body: await res.text() }
    },
  }
}
