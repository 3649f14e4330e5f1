// `npm run build:bundle`: the published bin and its helper scripts, into dist/bundle/ (docs/architecture.md, "The
// published bin is a bundle"):
//   labbook.js          the bin (cli/launch.ts): runs labbook-cli.cjs, compiled with V8's code cache
//   labbook-cli.cjs     all of cli/ (entry cli/bin.ts) as one CommonJS file: one file to load, not ~36 ES module
//                       chunks (Node 20 resolves, links and evaluates each ES module apart); subcommands stay lazy
//                       (esbuild wraps each in an init function, run on first import())
//   pack.js, metrics-worker.js, commit-worker.js (+ their shared chunks)   run apart from the CLI: a process, threads
import { rmSync } from 'node:fs'
import { build } from 'esbuild'

const out = 'dist/bundle'
const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning', define: { LABBOOK_BUNDLE: 'true' } }

rmSync(out, { recursive: true, force: true })
await build({
  ...common,
  entryPoints: { pack: 'src/store/pack-main.ts', 'metrics-worker': 'src/cli-support/metrics-worker.ts', 'commit-worker': 'src/track/commit-worker.ts' },
  splitting: true,
  format: 'esm',
  packages: 'external',
  outdir: out,
  chunkNames: 'chunk-[hash]',
})
await build({ ...common, entryPoints: { labbook: 'cli/launch.ts' }, format: 'esm', outdir: out })
// citty (ESM only) and picocolors go inside: require() of an ES module needs Node 20.19. The rest stays external:
// yaml is installed beside the bin, the site stack is an optional peer loaded by import().
const inside = new Set(['citty', 'picocolors'])
await build({
  ...common,
  entryPoints: { 'labbook-cli': 'cli/bin.ts' },
  format: 'cjs',
  outdir: out,
  outExtension: { '.js': '.cjs' },
  // the bundle is ES modules' code: strict, and import.meta.url (src/package-files.ts, createRequire) is this file's URL
  define: { ...common.define, 'import.meta.url': '__labbook_url' },
  banner: { js: `"use strict";\nconst __labbook_url = require("node:url").pathToFileURL(__filename).href;` },
  plugins: [{
    name: 'external-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (a) => {
        const pkg = a.path.startsWith('@') ? a.path.split('/').slice(0, 2).join('/') : a.path.split('/')[0]
        return a.path.startsWith('node:') || !inside.has(pkg) ? { path: a.path, external: true } : undefined
      })
    },
  }],
})
