/**
 * The site's Content-Security-Policy: no inline script runs unless its SHA-256 is listed. Astro inlines two small
 * scripts (island hydration); `withScriptHashes` lists exactly the inline scripts of a page, in the page's own
 * `<meta>` (so it holds on any static host) — for the static build and for pages rendered on demand alike.
 */
import { createHash } from 'node:crypto'

/** The policy before hashes: `script-src 'self'` gets one `'sha256-…'` per inline script of the page. */
export const SITE_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"

const SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script>/gi
// Astro may write the quotes of the attribute value as &#39;
const META = /(<meta http-equiv="Content-Security-Policy" content="[^"]*script-src (?:'|&#39;)self(?:'|&#39;))([^;"]*)/i

/** The `'sha256-…'` sources of every inline script (a `<script>` without `src`) in `html`. */
export function inlineScriptHashes(html: string): string[] {
  const out = new Set<string>()
  for (const m of html.matchAll(SCRIPT)) {
    if (/\bsrc\s*=/i.test(m[1]!)) continue
    out.add(`'sha256-${createHash('sha256').update(m[2]!, 'utf8').digest('base64')}'`)
  }
  return [...out]
}

/**
 * Puts the hashes of the page's inline scripts into its CSP `<meta>` (replacing any listed before).
 * @example writeFileSync(f, withScriptHashes(readFileSync(f, 'utf8')))
 */
export function withScriptHashes(html: string): string {
  const hashes = inlineScriptHashes(html)
  return html.replace(META, (_all, head: string) => head + (hashes.length ? ' ' + hashes.join(' ') : ''))
}
