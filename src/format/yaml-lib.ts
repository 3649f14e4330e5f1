import { createRequire } from 'node:module'
import type * as Yaml from 'yaml'

let lib: typeof Yaml | undefined

/**
 * The `yaml` package, loaded on first use. Loading it costs ~0.1 s of CPU, and a listing of a format-2 branch never
 * needs it (summaries are JSON, run.yaml files labbook wrote go through fast-yaml): `labbook ls` in a fresh clone
 * has a 0.5 s budget (issue 17). Node only; the browser never imports src/format/yaml.ts or config.ts.
 */
export function yamlLib(): typeof Yaml {
  return (lib ??= createRequire(import.meta.url)('yaml') as typeof Yaml)
}
