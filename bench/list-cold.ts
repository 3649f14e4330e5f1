// Lists every run summary of a repository in a fresh process and prints the time: `npx tsx bench/list-cold.ts DIR`.
import { Labbook } from '../src/index.js'

const t0 = performance.now()
const book = await Labbook.open({ repo: process.argv[2], recover: false })
const runs = await book.listRuns({ includeDeleted: true })
console.log(JSON.stringify({ runs: runs.length, ms: Math.round(performance.now() - t0) }))
