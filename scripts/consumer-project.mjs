// A fresh project that installs this package's tarball as a user does (`npm install
// <tarball>`, install scripts on), offline: its package-lock.json pins the versions of this
// repository's lock (the production part: what `npm install distillery` brings), so npm takes
// every package from its cache, which `npm ci` here has filled. Used by
// test/packaging/consumerInstall.test.ts and scripts/check-consumer-install.mjs.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * Writes package.json and package-lock.json of a project in `dir` that depends on the tarball
 * `tarball` (a path inside `dir`'s parent or `dir`) and nothing else. `repoRoot` holds the lock
 * whose production entries are reused. Returns the project's package.json.
 */
export function writeConsumerProject(dir, repoRoot, tarball, { type = 'module', name = 'consumer' } = {}) {
  const repoPkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const repoLock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8'));
  const spec = `file:${tarball.startsWith(dir) ? tarball.slice(dir.length + 1) : tarball}`;
  const pkg = { name, version: '1.0.0', private: true, type, dependencies: { [repoPkg.name]: spec } };
  const packages = {
    '': { name, version: '1.0.0', dependencies: { [repoPkg.name]: spec } },
    [`node_modules/${repoPkg.name}`]: {
      version: repoPkg.version,
      resolved: spec,
      integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
      hasInstallScript: true,
      license: repoPkg.license,
      dependencies: repoPkg.dependencies,
      peerDependencies: repoPkg.peerDependencies,
      peerDependenciesMeta: repoPkg.peerDependenciesMeta,
      bin: repoPkg.bin,
      engines: repoPkg.engines,
    },
  };
  // The production entries: neither dev-only nor optional-only (optional peers are dev here).
  for (const [path, entry] of Object.entries(repoLock.packages)) {
    if (path === '' || entry.dev || entry.devOptional || entry.link) continue;
    packages[path] = entry;
  }
  const lock = { name, version: '1.0.0', lockfileVersion: 3, requires: true, packages };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  return pkg;
}

/** Bytes under `dir` (files as stored, symlinks not followed). */
export function treeBytes(dir) {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    total += st.isDirectory() ? treeBytes(p) : st.size;
  }
  return total;
}

/** The largest entries of a node_modules folder (scoped packages by their scope), as "name N MB". */
export function largestPackages(nodeModules, count = 4) {
  return readdirSync(nodeModules)
    .filter((n) => !n.startsWith('.'))
    .map((n) => ({ n, b: treeBytes(join(nodeModules, n)) }))
    .sort((a, b) => b.b - a.b)
    .slice(0, count)
    .map(({ n, b }) => `${n} ${(b / 1e6).toFixed(0)} MB`);
}

/**
 * The environment of a user's shell: this process's, without what npm sets for the scripts it
 * runs (npm_*, INIT_CWD), without skip switches of dependencies, and without Distillery's own.
 */
export function userEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|INIT_CWD$|ONNXRUNTIME_|DISTILLERY_|NODE_OPTIONS$)/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export const tarballName = (packed) => basename(packed);
