/**
 * JSON text of a value with every object's keys in sorted order: two values that hold the same data give the same
 * text whatever order their keys were set in (a run's row made by two readers: a listing and a single read lay the
 * journal over the branch in different orders). For comparing, not for files. Browser-safe.
 */
export function sortedJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x))
}
