// Shared by scripts/build-native.mjs (install: build from source) and
// scripts/prebuild-native.mjs (pack: the prebuilt binaries): finds node-gyp, node-addon-api,
// the Node headers and OpenBLAS, and runs one node-gyp build of native/binding.gyp.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const nativeDir = join(root, 'native');
const require = createRequire(join(root, 'package.json'));

/** node-gyp: the project's devDependency, else the copy bundled with npm; undefined if neither. */
export function findNodeGyp() {
  for (const cand of [
    () => require.resolve('node-gyp/bin/node-gyp.js'),
    () => join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ]) {
    try {
      const p = cand();
      if (existsSync(p)) return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** The directory that holds node-addon-api (a dependency of this package), undefined if missing. */
export function nodeAddonApiDir() {
  try {
    return dirname(require.resolve('node-addon-api/package.json'));
  } catch {
    return undefined;
  }
}

/** OpenBLAS headers directory (cblas.h + openblas_config.h), undefined if not installed. */
export function findOpenBlas() {
  const incs = [
    '/usr/include/x86_64-linux-gnu',
    '/usr/include/aarch64-linux-gnu',
    '/usr/include/x86_64-linux-gnu/openblas-pthread',
    '/usr/include/openblas',
    '/usr/local/include',
    '/usr/include',
    '/opt/homebrew/opt/openblas/include',
    '/usr/local/opt/openblas/include',
  ];
  if (process.env.OPENBLAS_INCLUDE) incs.unshift(process.env.OPENBLAS_INCLUDE);
  for (const inc of incs) {
    if (existsSync(join(inc, 'cblas.h')) && existsSync(join(inc, 'openblas_config.h'))) return inc;
  }
  return undefined;
}

/**
 * `node-gyp rebuild` of the binding.gyp in `dir` with gyp variables `defs` (use_openblas,
 * openblas_include, simd_flags). Node headers next to this node binary (Debian/Ubuntu nodejs,
 * official tarballs) avoid a download. Returns whether the .node file was made, and the output.
 */
export function runNodeGyp(nodeGyp, dir, defs, verbose = false) {
  // --jobs max: the addon is one file per kernel family (native/src/), compiled in parallel
  const args = [nodeGyp, 'rebuild', '--directory', dir, '--jobs', 'max'];
  const nodeRoot = resolve(dirname(process.execPath), '..');
  if (existsSync(join(nodeRoot, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodeRoot}`);
  const napi = nodeAddonApiDir();
  const r = spawnSync(process.execPath, [...args, '--', ...Object.entries(defs).map(([k, v]) => `-D${k}=${v}`)], {
    cwd: dir,
    encoding: 'utf8',
    // binding.gyp asks node for node-addon-api's headers; NODE_PATH lets a build in a copy of
    // native/ outside the package find them.
    env: { ...process.env, npm_config_loglevel: 'error', ...(napi ? { NODE_PATH: dirname(napi) } : {}) },
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (verbose) process.stderr.write(out);
  return { ok: r.status === 0 && existsSync(join(dir, 'build', 'Release', 'distillery_native.node')), out };
}

/** The first line of a failed build's output that says what went wrong. */
export function buildError(out) {
  return out.split('\n').find((l) => /error|not found|No such/i.test(l))?.trim().slice(0, 160) ?? 'build failed';
}
