/**
 * Live updates for islands, when the page is served by `labbook serve` / `labbook ui`: the server marks its pages
 * with `<meta name="labbook-live" content="/live/">`. Server-Sent Events say when the branch or a run's journal
 * moved; without EventSource the island polls. A page of the static build has no such meta: no channel, no request.
 */
export function liveBase(): string | null {
  if (typeof document === 'undefined') return null
  return document.querySelector('meta[name="labbook-live"]')?.getAttribute('content') ?? null
}

/** Calls `onChange` whenever the served data changed; returns the unsubscribe function (a no-op on static pages). */
export function subscribeLive(onChange: () => void): () => void {
  const base = liveBase()
  if (!base) return () => {}
  if (typeof EventSource !== 'undefined') {
    const es = new EventSource(`${base}events`)
    es.addEventListener('change', () => onChange())
    return () => es.close()
  }
  let last = ''
  const timer = setInterval(() => {
    fetch(`${base}state.json`).then((r) => r.json()).then((s: { version: string }) => {
      if (s.version !== last) { last = s.version; onChange() }
    }, () => {})
  }, 2000)
  return () => clearInterval(timer)
}

/** The live copy of a site data file (`data/experiments/<id>/runs.json`…), computed per request from the branch and journals. */
export async function getLiveJson<T>(path: string): Promise<T> {
  const res = await fetch(`${liveBase()}${path}`, { cache: 'no-store' })
  if (!res.ok) throw new Error(`${res.status} ${res.statusText} for ${path}`)
  return (await res.json()) as T
}
