/** Browser-side links under the site base (Astro replaces BASE_URL at build time). */
import { joinBase } from 'labbook-lib/site/browser/display.js'
import { atLiveVersion, LIVE_FETCH, liveBase, liveRequest } from './live-channel'
import { decodeSeries, parsePackedRef, type Series, type SeriesFile } from 'labbook-lib/site/browser/charts/series.js'
export const siteUrl = (path: string): string => joinBase(import.meta.env.BASE_URL, path)

/** `latest`: as the server has it now, not at the version of the last change (a page catching up after a tick). */
export interface GetOptions { latest?: boolean }

export async function getJson<T>(path: string, o: GetOptions = {}): Promise<T> {
  // Served live, the same address answers newer data after each change: never from the cache; and at the version of
  // the last change the page was told about, so what it fetches apart shows one moment (live-channel.ts).
  // Counted until its body is read: the page's next refresh waits for it (liveRequest).
  const live = liveBase()
  const get = async () => {
    const res = await fetch(siteUrl(live && !o.latest ? atLiveVersion(path) : path), live ? LIVE_FETCH : undefined)
    if (!res.ok) throw new Error(`${res.status} ${res.statusText} for ${path}`)
    return (await res.json()) as T
  }
  return live ? liveRequest(get()) : get()
}

const packs = new Map<string, Promise<SeriesFile[]>>()

/**
 * One metric's series (`MetricFile.file` or `.full`): a JSON series file, or `<file>#<n>`, the n-th series of a run's
 * packed file (gzip-compressed JSON, unpacked here with the browser's DecompressionStream; fetched once per page).
 */
export async function getSeries(ref: string, o: GetOptions = {}): Promise<Series> {
  const packed = parsePackedRef(ref)
  if (!packed) return decodeSeries(await getJson<SeriesFile>(ref, o))
  let all = packs.get(packed.file)
  if (!all) {
    all = (async () => {
      const res = await fetch(siteUrl(packed.file))
      if (!res.ok || !res.body) throw new Error(`${res.status} ${res.statusText} for ${packed.file}`)
      return (await new Response(res.body.pipeThrough(new DecompressionStream('gzip'))).json()) as SeriesFile[]
    })()
    packs.set(packed.file, all)
    all.catch(() => packs.delete(packed.file))
  }
  const s = (await all)[packed.index]
  if (!s) throw new Error(`No series ${packed.index} in ${packed.file}`)
  return decodeSeries(s)
}
