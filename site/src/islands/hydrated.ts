/**
 * Hydration, one owner. A server-rendered island is markup until React hydrates it: a control that is enabled in that
 * markup takes the user's input (a key press, a tick, a chosen option) and the island then starts from its own state,
 * so the input is lost (stop 21's CI pressed Home on the image slider before hydration). Islands render such controls
 * `disabled={!hydrated}` and put `hydrationMark(hydrated)` on their root: `data-hydrated="false"` in the server's
 * markup, `"true"` once the island runs. Browser tests wait for that mark (test/helpers/built-site.ts `hydrated()`),
 * never for markup alone. Islands drawn only in the browser (client:only, or controls shown after data loads) need
 * neither.
 */
import { useEffect, useState } from 'react'

/** False on the server and in the hydrating render; true once the island's effects run in the browser. */
export function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false)
  useEffect(() => setHydrated(true), [])
  return hydrated
}

/** The root's mark that tests wait for. */
export function hydrationMark(hydrated: boolean): { 'data-hydrated': 'true' | 'false' } {
  return { 'data-hydrated': hydrated ? 'true' : 'false' }
}
