/**
 * Live regions: on a page served by `labbook serve` / `labbook ui`, the server-rendered parts marked `data-live="…"`
 * (a run's badge and info, each section of a run page — also one that did not exist yet —, an experiment's best run,
 * the home cards) are replaced in place by the same parts of the page rendered anew, after each change: no reload,
 * islands and scroll untouched. The fetched page comes from our own server (every user string escaped there);
 * DOMParser never runs its scripts. On a static page: nothing.
 */
import { liveBase, subscribeLive } from './live-channel'

/** At most one refresh per this many ms (the charts react to every change; these parts can wait a little). */
const MIN_GAP = 1000

export function refreshRegions(): void {
  if (!liveBase() || !document.querySelector('[data-live]')) return
  let busy = false
  let again = false
  let last = 0
  const run = async (): Promise<void> => {
    if (busy) { again = true; return }
    busy = true
    const wait = last + MIN_GAP - Date.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    last = Date.now()
    try {
      const res = await fetch(location.href, { cache: 'no-store' })
      if (res.ok) swap(new DOMParser().parseFromString(await res.text(), 'text/html'))
    } catch { /* the next change retries */ }
    busy = false
    if (again) { again = false; void run() }
  }
  subscribeLive(() => void run())
}

/** What each region held when the server last sent it: a region is replaced only when that changed, so what the
 * reader did inside it (a preview folded open or shut) stays until the server has something new to show there. */
const sent = new Map<string, string>()

function swap(doc: Document): void {
  for (const el of document.querySelectorAll<HTMLElement>('[data-live]')) {
    const name = el.dataset.live ?? ''
    const fresh = doc.querySelector<HTMLElement>(`[data-live="${CSS.escape(name)}"]`)
    if (!fresh) continue
    const before = sent.get(name) ?? el.innerHTML
    sent.set(name, fresh.innerHTML)
    if (fresh.innerHTML !== before) el.replaceChildren(...[...fresh.childNodes].map((n) => document.importNode(n, true)))
  }
}
