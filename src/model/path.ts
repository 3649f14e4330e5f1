/**
 * THE artifact-path rule: the one place that decides whether a path may name a file inside a run's artifacts.
 * Every door (library, CLI, `$LABBOOK_METRICS`, server, importer, site) calls `artifactPath`; nothing else spells
 * the rule. Browser-safe (no Node imports).
 *
 * A path is refused when it could leave its folder (absolute, `..`) or when a component is one that `git fsck`
 * (and so GitHub, or any remote with `receive.fsckObjects`) rejects in a tree, or that git gives a meaning to inside
 * a tree: `.git`, `.gitmodules` and `.gitattributes` in any case, with the HFS+ ignorable code points and the NTFS
 * variants (trailing dots/spaces, `:stream`, 8.3 short names like `git~1`) that git's `fsck.c`/`path.c` check; and any
 * control character (NUL included), which no file name needs and which a terminal would interpret.
 */
import { LabbookError } from '../errors.js'

const HINT = 'Use a relative path of plain names joined by "/", e.g. "model/weights.json": no "..", no leading "/", no control characters, and no component git reserves (.git, .gitmodules, .gitattributes in any spelling).'

/** Why `component` (one name between slashes) cannot be stored in a git tree labbook writes; undefined when it can. */
export function pathComponentProblem(component: string): string | undefined {
  if (component === '') return 'it has an empty component'
  if (component === '.' || component === '..') return `it has a "${component}" component`
  if (component.includes('/') || component.includes('\\')) return 'a component holds a slash or backslash'
  const bad = controlCharacter(component)
  if (bad !== undefined) return `it holds the control character U+${bad.toString(16).toUpperCase().padStart(4, '0')}`
  if (hasLoneSurrogate(component)) return 'it is not valid Unicode (a lone surrogate)'
  for (const [name, shortPrefix] of RESERVED) {
    if (isHfsDot(component, name) || isNtfsDot(component, name, shortPrefix)) {
      return `its component ${JSON.stringify(component)} is read by git as "${'.' + name}" (git fsck rejects or parses it)`
    }
  }
  return undefined
}

/**
 * Normalises an artifact path (backslashes to "/", one leading "./" and one trailing "/" dropped) and refuses anything
 * the rule above forbids: PATH_ESCAPE for paths that would leave the run's artifacts, INVALID_PATH for names git
 * rejects and for empty or "." components (one file, one spelling). With `allowRoot`, the empty path (the artifacts
 * folder itself) is returned as ''.
 * @example artifactPath('./plots\\loss.png') // 'plots/loss.png'
 */
export function artifactPath(path: unknown, options: { allowRoot?: boolean } = {}): string {
  if (typeof path !== 'string') {
    throw new LabbookError('INVALID_PATH', `An artifact path must be a string, got ${path === null ? 'null' : typeof path}.`, HINT, { path })
  }
  let p = path.replace(/\\/g, '/')
  if (p.startsWith('/') || /^[a-zA-Z]:/.test(p)) {
    throw new LabbookError('PATH_ESCAPE', `Artifact path ${JSON.stringify(path)} is absolute; artifact paths are relative to the run's artifacts.`, HINT, { path })
  }
  if (p.startsWith('./')) p = p.slice(2)
  if (p.endsWith('/')) p = p.slice(0, -1)
  if (p === '' || p === '.') {
    if (options.allowRoot) return ''
    throw new LabbookError('INVALID_PATH', `Artifact path ${JSON.stringify(path)} names no file.`, HINT, { path })
  }
  const parts = p.split('/')
  if (parts.includes('..')) {
    throw new LabbookError('PATH_ESCAPE', `Artifact path ${JSON.stringify(path)} has a ".." component and could leave the run's artifacts.`, HINT, { path })
  }
  for (const part of parts) {
    const problem = pathComponentProblem(part)
    if (problem) throw new LabbookError('INVALID_PATH', `Artifact path ${JSON.stringify(path)} cannot be stored: ${problem}.`, HINT, { path })
  }
  return p
}

/** The first C0 control character, DEL or C1 control character in `s`, as a code point; undefined when none. */
export function controlCharacter(s: string, allow = ''): number | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if ((c < 0x20 || (c >= 0x7f && c <= 0x9f)) && !allow.includes(s[i]!)) return c
  }
  return undefined
}

/** A UTF-16 string with an unpaired surrogate cannot be written as UTF-8 without changing it. */
export function hasLoneSurrogate(s: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s)
}

/** Names git treats specially inside a tree, with the NTFS 8.3 fallback prefix git computes for each. */
const RESERVED: Array<[string, string | undefined]> = [
  ['git', undefined],
  ['gitmodules', 'gi7eba'],
  ['gitattributes', 'gi7d29'],
]

/** HFS+ ignores these code points when comparing names (git's `next_hfs_char`). */
function isHfsIgnorable(c: number): boolean {
  return (c >= 0x200c && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x206a && c <= 0x206f) || c === 0xfeff
}

/** git's `is_hfs_dotgit` family: ".<name>" case-insensitively once HFS-ignorable code points are dropped. */
function isHfsDot(component: string, name: string): boolean {
  let folded = ''
  for (const ch of component) {
    const c = ch.codePointAt(0)!
    if (!isHfsIgnorable(c)) folded += c < 0x80 ? ch.toLowerCase() : ch
  }
  return folded === '.' + name
}

/** git's `is_ntfs_dotgit` / `is_ntfs_dot_generic`: names NTFS resolves to ".<name>". */
function isNtfsDot(component: string, name: string, shortPrefix: string | undefined): boolean {
  const lower = component.toLowerCase()
  const onlySpacesAndPeriods = (from: number): boolean => {
    for (let i = from; i < component.length; i++) {
      const c = component[i]!
      if (c === ':') return true
      if (c !== ' ' && c !== '.') return false
    }
    return true
  }
  if (lower.startsWith('.' + name) && onlySpacesAndPeriods(name.length + 1)) return true
  if (shortPrefix === undefined) {
    // ".git" has one short name: "git~1"
    return lower.startsWith('git~1') && onlySpacesAndPeriods(5)
  }
  // the regular 8.3 short name: the first 6 characters, then ~1 … ~4
  if (lower.startsWith(name.slice(0, 6)) && component[6] === '~' && component[7]! >= '1' && component[7]! <= '4' && onlySpacesAndPeriods(8)) return true
  // the fall-back short name: a prefix of the hashed prefix, "~", a digit 1-9, more digits, within 8 characters
  let sawTilde = false
  let i = 0
  for (; i < 8; i++) {
    const c = component[i]
    if (c === undefined) return false
    if (sawTilde) {
      if (c < '0' || c > '9') return false
    } else if (c === '~') {
      i++
      const d = component[i]
      if (d === undefined || d < '1' || d > '9') return false
      sawTilde = true
    } else if (i >= 6) {
      return false
    } else if (c.charCodeAt(0) >= 0x80) {
      return false
    } else if (c.toLowerCase() !== shortPrefix[i]) {
      return false
    }
  }
  return onlySpacesAndPeriods(i)
}
