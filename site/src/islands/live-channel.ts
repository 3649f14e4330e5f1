/**
 * Live updates for islands, when the page is served by `labbook serve` / `labbook ui`: the server marks its pages
 * with `<meta name="labbook-live" content="/live/">`. Server-Sent Events say when the branch or a run's journal
 * moved; without EventSource the island polls. A page of the static build has no such meta: no channel, no request.
 */
import { useEffect, useState } from 'react'

export function liveBase(): string | null {
  if (typeof document === 'undefined') return null
  return document.querySelector('meta[name="labbook-live"]')?.getAttribute('content') ?? null
}

const listeners = new Set<() => void>()
let stop: (() => void) | undefined

/** Calls `onChange` whenever the served data changed; returns the unsubscribe function (a no-op on static pages). One stream per page, shared by its islands. */
export function subscribeLive(onChange: () => void): () => void {
  const base = liveBase()
  if (!base) return () => {}
  listeners.add(onChange)
  stop ??= open(base)
  return () => {
    listeners.delete(onChange)
    if (!listeners.size) { stop?.(); stop = undefined }
  }
}

function open(base: string): () => void {
  const fire = () => { for (const l of [...listeners]) l() }
  if (typeof EventSource !== 'undefined') {
    const es = new EventSource(`${base}events`)
    es.addEventListener('change', fire)
    return () => es.close()
  }
  let last = ''
  const timer = setInterval(() => {
    fetch(`${base}state.json`, { cache: 'no-store' }).then((r) => r.json()).then((s: { version: string }) => {
      if (s.version !== last) { last = s.version; fire() }
    }, () => {})
  }, 2000)
  return () => clearInterval(timer)
}

/** A counter that moves whenever the served data changed (0 forever on a static page): put it in an effect's dependencies to refetch. */
export function useLiveTick(): number {
  const [tick, setTick] = useState(0)
  useEffect(() => subscribeLive(() => setTick((t) => t + 1)), [])
  return tick
}
