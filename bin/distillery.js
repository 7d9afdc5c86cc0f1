#!/usr/bin/env node
// Entry point of the `distillery` command. The TypeScript sources are compiled to dist/ by `npm ci` (prepare).
import { main } from '../dist/cli/main.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// A failed command ends here: once its output has drained, nothing left open on an error path
// (a connection, a timer) may keep the process waiting.
if (code !== 0) setTimeout(() => process.exit(code), 1000).unref();
