/**
 * Entry point of the background packing (packInBackground): `node pack-main.js GITDIR BRANCH`. A file of its own,
 * not a check inside pack.ts, so it stays an entry when the CLI is bundled (pack.ts's code then sits in a shared chunk).
 */
import { packWithLock } from './pack.js'

if (process.argv.length === 4) packWithLock(process.argv[2]!, process.argv[3]!)
