/** Browser-side links under the site base (Astro replaces BASE_URL at build time). */
import { joinBase } from 'labbook-lib/site/browser/display.js'
import { liveBase } from './live-channel'
export const siteUrl = (path: string): string => joinBase(import.meta.env.BASE_URL, path)

export async function getJson<T>(path: string): Promise<T> {
  // Served live, the same address answers newer data after each change: never from the cache.
  const res = await fetch(siteUrl(path), liveBase() ? { cache: 'no-store' } : undefined)
  if (!res.ok) throw new Error(`${res.status} ${res.statusText} for ${path}`)
  return (await res.json()) as T
}
