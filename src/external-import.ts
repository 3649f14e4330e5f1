/**
 * import() of what lies outside labbook's own code: Astro and its React integration (optional peers) and the live
 * renderer's built server module. The published bin runs the CLI from V8's code cache (cli/launch.ts), where Node 20
 * cannot run an import() written in that code (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING): it hands its own import in
 * as `globalThis.__labbookImport`. Elsewhere (the library, tests, tsc's dist) this is plain import().
 * @example const { build } = await importExternal<typeof import('astro')>('astro')
 */
export function importExternal<T>(specifier: string): Promise<T> {
  const hook = (globalThis as { __labbookImport?: (specifier: string) => Promise<unknown> }).__labbookImport
  return (hook ? hook(specifier) : import(specifier)) as Promise<T>
}
