/**
 * Other entities' filters (MLflow's logged models, registered models, model versions) evaluated by the run filter
 * language: their attribute names are rewritten to run fields before parsing, outside quoted strings and backticks.
 */
const QUOTED = /('(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|`[^`]*`)/

/**
 * Rewrites bare and `attribute.`-prefixed names by `map` (case-insensitive).
 * @example renameAttributes("name = 'x' AND attr.version_number > 2", { name: 'run_name', version_number: 'metrics.version_number' })
 */
export function renameAttributes(text: string, map: Readonly<Record<string, string>>): string {
  const names = Object.keys(map).map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')
  const prefixed = new RegExp(`(?<![\\w.\`])(?:attributes?|attr)\\.(${names})(?![\\w.])`, 'gi')
  const bare = new RegExp(`(?<![\\w.\`])(${names})(?![\\w.])`, 'gi')
  const target = (k: string) => map[k.toLowerCase()]!
  return text.split(QUOTED).map((seg, i) => (i % 2 ? seg : seg.replace(prefixed, (_, k: string) => prefixAttr(target(k))).replace(bare, (k: string) => target(k)))).join('')
}

/** A renamed run attribute keeps its `attributes.` prefix; a target that is already a prefixed field does not get one. */
function prefixAttr(target: string): string {
  return /^(metrics?|params?|tags?)\./.test(target) ? target : `attributes.${target}`
}
