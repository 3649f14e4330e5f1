#!/usr/bin/env node
// The published bin (dist/bundle/labbook.js, package.json `bin`): runs the CLI bundle, labbook-cli.cjs, all of cli/
// in one CommonJS file (scripts/bundle.mjs). One file, not ~36 ES module chunks: Node 20 resolves, links and
// evaluates each ES module apart, which cost a cold `labbook ls` of 10,000 runs ~35 ms of CPU (issue 17); the price,
// every command parsing the whole file, is in docs/architecture.md.
import { createRequire } from 'node:module'

createRequire(import.meta.url)('./labbook-cli.cjs')
