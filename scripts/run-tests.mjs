#!/usr/bin/env node
// Compiles the sources to dist/ (the CLI tests run bin/distillery.js, the installed entry point)
// and bundles generated/ (npm run build),
// then runs every test/**/*.test.ts with Node's test runner, two files at a time (Node 20's
// --test does not expand globs). Extra arguments are passed on, e.g.
// `npm test -- --test-name-pattern churn`.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
})(join(root, 'test'));
let build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
// generated/: tfjs-core's gradients, bundled at build time (scripts/bundle-tfjs-core.mjs)
if (build.status === 0) build = spawnSync(process.execPath, [join(root, 'scripts/bundle-tfjs-core.mjs')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.error('npm test: the sources do not compile (tsc -p tsconfig.json); no test was run');
  process.exit(build.status ?? 1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...process.argv.slice(2), ...files], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
