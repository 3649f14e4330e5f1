// The layering of docs/architecture.md, checked by the machine: every relative import in src/ and cli/ (static, dynamic,
// type-only and re-exports, read with TypeScript's own pre-processor) goes from a layer to one above it, never back;
// the faces may use each other but not in a circle; browser code (src/site/browser) imports only browser-safe layers.
// A hand-written check rather than madge or dependency-cruiser: TypeScript is already here, the rule is ten lines,
// and the whole tree is read in well under a second.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Rank of each layer: a file may import only from its own layer or one of lower rank. Same as docs/architecture.md. */
const RANK: Record<string, number> = {
  errors: 0,
  'package-files': 1, 'external-import': 1,
  model: 1,
  format: 2,
  query: 3, judge: 3,
  store: 4,
  registry: 5,
  track: 6,
  'cli-support': 7, import: 7, report: 7, search: 7, server: 7, site: 7, sync: 7,
  index: 8, 'errors-doc': 8,
  cli: 9,
}
/** What code that runs in the browser may import (besides itself): pure layers with no Node imports. */
const BROWSER_SAFE = new Set(['model', 'query', 'judge', 'site/browser'])

function layerOf(rel: string): string {
  if (rel.startsWith('cli/')) return 'cli'
  const parts = rel.split('/')
  if (parts.length === 2) return parts[1]!.replace(/\.tsx?$/, '')
  return parts[1]!
}

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`
    if (e.isDirectory()) out.push(...sourceFiles(rel))
    else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel)
  }
  return out
}

interface Edge { from: string; to: string }

/** Every relative import of the tree, file to file (paths relative to the repository). */
function imports(): Edge[] {
  const edges: Edge[] = []
  for (const from of [...sourceFiles('src'), ...sourceFiles('cli')]) {
    const info = ts.preProcessFile(fs.readFileSync(path.join(ROOT, from), 'utf8'), true, true)
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue
      const to = path.posix.normalize(path.posix.join(path.posix.dirname(from), fileName)).replace(/\.js$/, '.ts')
      edges.push({ from, to })
    }
  }
  return edges
}

/** Cycles in a directed graph given as adjacency sets (each cycle once, as a list of nodes). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const found: string[][] = []
  const seen = new Set<string>()
  const walk = (node: string, stack: string[]) => {
    const at = stack.indexOf(node)
    if (at >= 0) {
      const cycle = stack.slice(at)
      const key = [...cycle].sort().join(' ')
      if (!seen.has(key)) { seen.add(key); found.push([...cycle, node]) }
      return
    }
    for (const next of graph.get(node) ?? []) walk(next, [...stack, node])
  }
  for (const node of graph.keys()) walk(node, [])
  return found
}

describe('the layers (docs/architecture.md)', () => {
  const edges = imports()
  const crossing = edges.filter((e) => layerOf(e.from) !== layerOf(e.to))

  it('reads the tree and knows every layer', () => {
    expect(edges.length).toBeGreaterThan(500)
    const unknown = [...new Set(edges.flatMap((e) => [layerOf(e.from), layerOf(e.to)]))].filter((l) => RANK[l] === undefined)
    expect(unknown, 'a new folder under src/ needs a rank here and a row in docs/architecture.md').toEqual([])
  })

  it('imports only from layers above (errors → model → format → query/judge → store → registry → track → faces → cli)', () => {
    const upward = crossing
      .filter((e) => RANK[layerOf(e.to)]! > RANK[layerOf(e.from)]!)
      .map((e) => `${e.from} (${layerOf(e.from)}) imports ${e.to} (${layerOf(e.to)})`)
    expect(upward).toEqual([])
  })

  it('has no import cycle between layers (the faces may use each other, not in a circle)', () => {
    const graph = new Map<string, Set<string>>()
    for (const e of crossing) {
      const a = layerOf(e.from), b = layerOf(e.to)
      if (!graph.has(a)) graph.set(a, new Set())
      graph.get(a)!.add(b)
    }
    const explain = (cycle: string[]) =>
      cycle.slice(1).map((b, i) => {
        const a = cycle[i]!
        const e = crossing.find((x) => layerOf(x.from) === a && layerOf(x.to) === b)!
        return `${a} → ${b} (${e.from} imports ${e.to})`
      }).join('; ')
    expect(cycles(graph).map(explain)).toEqual([])
  })

  it('keeps browser code to browser-safe layers', () => {
    const browser = (f: string) => f.startsWith('src/site/browser/')
    const bad = edges
      .filter((e) => browser(e.from) && !browser(e.to) && !BROWSER_SAFE.has(layerOf(e.to)))
      .map((e) => `${e.from} imports ${e.to}`)
    expect(bad).toEqual([])
  })

  it('finds a cycle when there is one (the check itself)', () => {
    const g = new Map([['track', new Set(['sync'])], ['sync', new Set(['track', 'store'])], ['store', new Set<string>()]])
    expect(cycles(g)).toEqual([['track', 'sync', 'track']])
  })
})
