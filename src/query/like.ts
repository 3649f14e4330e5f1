/** SQL LIKE without regular expressions: no escaping pitfalls and no catastrophic backtracking on hostile patterns. */

/**
 * A matcher for a LIKE pattern: `%` any run of characters (also none), `_` exactly one character; everything else literal.
 * Matching is on whole code points, so `_` matches one emoji. No escape character (MLflow has none).
 */
export function likeMatcher(pattern: string, caseInsensitive: boolean): (s: string) => boolean {
  const pat = caseInsensitive ? pattern.toLowerCase() : pattern
  const fold = caseInsensitive ? (s: string) => s.toLowerCase() : (s: string) => s
  if (!pat.includes('_')) {
    // Fast path for the usual patterns: literal pieces between %s, matched leftmost-first (which is exact for % alone).
    const parts = pat.split('%')
    if (parts.length === 1) return (s) => fold(s) === pat
    const first = parts[0]
    const last = parts[parts.length - 1]
    const middle = parts.slice(1, -1).filter((p) => p !== '')
    const minLen = first.length + last.length
    return (raw) => {
      const s = fold(raw)
      if (s.length < minLen || !s.startsWith(first) || !s.endsWith(last)) return false
      let pos = first.length
      const stop = s.length - last.length
      for (const m of middle) {
        const at = s.indexOf(m, pos)
        if (at < 0 || at + m.length > stop) return false
        pos = at + m.length
      }
      return true
    }
  }
  const p = Array.from(pat)
  return (raw) => wildcard(Array.from(fold(raw)), p)
}

// The classic greedy matcher with one backtrack point: O(n·m) worst case, no recursion.
function wildcard(s: string[], p: string[]): boolean {
  let i = 0, j = 0, star = -1, mark = 0
  while (i < s.length) {
    if (j < p.length && p[j] !== '%' && (p[j] === '_' || p[j] === s[i])) {
      i++
      j++
    } else if (j < p.length && p[j] === '%') {
      star = j++
      mark = i
    } else if (star >= 0) {
      j = star + 1
      i = ++mark
    } else return false
  }
  while (j < p.length && p[j] === '%') j++
  return j === p.length
}
