/**
 * Renders docs/errors.md from the catalog in errors.ts. `npm run docs:errors` rewrites the file;
 * test/errors.test.ts fails when the checked-in file differs from this output.
 */
import { ERRORS, MLFLOW_STATUS, type ErrorCode } from './errors.js'

export function errorsMarkdown(): string {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from src/errors.ts by `npm run docs:errors`; edit the catalog, not this file. -->',
    '',
    'Every error labbook raises on purpose carries a stable code. The CLI prints `CODE: message` and then',
    '`hint: what to do`; the library throws a `LabbookError` with `code`, `message`, `hint` and `data`; the',
    "MLflow-compatible server answers `{\"error_code\", \"message\"}` with the MLflow code and HTTP status below.",
    'Exit codes of the CLI: 0 success, 1 failed operation, 2 bad usage.',
    '',
    '| Code | Meaning | MLflow error_code | HTTP | Exit |',
    '| --- | --- | --- | --- | --- |',
  ]
  const codes = Object.keys(ERRORS).sort() as ErrorCode[]
  for (const code of codes) {
    const e = ERRORS[code]
    lines.push(`| [\`${code}\`](#${code.toLowerCase()}) | ${e.title} | \`${e.mlflow}\` | ${e.status ?? MLFLOW_STATUS[e.mlflow]} | ${e.exit} |`)
  }
  for (const code of codes) {
    const e = ERRORS[code]
    lines.push('', `## ${code}`, '', `**${e.title}.**`, '', `What to do: ${e.hint}`)
  }
  return lines.join('\n') + '\n'
}

const self = process.argv[1]?.replace(/\\/g, '/')
if (self?.endsWith('/src/errors-doc.ts') || self?.endsWith('/src/errors-doc.js')) {
  const { writeFileSync } = await import('node:fs')
  const out = new URL('../docs/errors.md', import.meta.url)
  writeFileSync(out, errorsMarkdown())
  process.stdout.write(`wrote ${out.pathname}\n`) // a script's output, not library printing
}
