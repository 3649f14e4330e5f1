// The CLI bundle's entry (dist/bundle/labbook-cli.cjs, run by the bin cli/launch.ts): main.ts's bin, as one file.
import { runBin } from './main.js'

void runBin()
