/** Browser-side links under the site base (Astro replaces BASE_URL at build time). */
import { joinBase } from 'labbook-lib/site/browser/display.js'
export const siteUrl = (path: string): string => joinBase(import.meta.env.BASE_URL, path)

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(siteUrl(path))
  if (!res.ok) throw new Error(`${res.status} ${res.statusText} for ${path}`)
  return (await res.json()) as T
}
