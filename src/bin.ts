#!/usr/bin/env node
// The gudang program (package.json "bin"); the commands are in cli.ts.
import { run } from './cli.js'

process.exitCode = await run(process.argv.slice(2))
