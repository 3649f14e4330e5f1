/** The live renderer for tests: built once per source tree into a shared temp folder (keyed like the real cache), one builder at a time. */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, rmdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureRenderer, loadRenderer, type Renderer } from '../../src/site/build/renderer.js'
import { packageRoot } from '../../src/site/build/template.js'

// one folder per checkout: builds delete older renderers in their folder, and link the checkout's node_modules
export const TEST_RENDERER_DIR = join(tmpdir(), `labbook-test-live-site-${createHash('sha256').update(packageRoot()).digest('hex').slice(0, 8)}`)

export async function testRenderer(): Promise<Renderer> {
  mkdirSync(TEST_RENDERER_DIR, { recursive: true })
  const lock = join(TEST_RENDERER_DIR, '.lock')
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch {
      // another test file is building it; a lock older than 10 minutes is left over from a killed run
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 600_000) rmdirSync(lock)
      await new Promise((r) => setTimeout(r, 500))
    }
  }
  try {
    return await loadRenderer(await ensureRenderer(TEST_RENDERER_DIR))
  } finally {
    rmdirSync(lock)
  }
}
