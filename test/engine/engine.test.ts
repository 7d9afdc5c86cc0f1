/**
 * Engine selection: options, environment variables, fallbacks and their notices, and the
 * wasm fallback's extra kernels (Conv2DBackpropFilter, UnsortedSegmentSum) against cpu.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { engineInfo, initEngine, resetEngineForTests, setEngineThreads } from '../../src/engine/index.js';
import { loadAddon } from '../../src/engine/addon.js';
import { prepareWasm } from '../../src/engine/wasm.js';
import { assertSame, gradsOf, randArr, randInts, rng, T } from './helpers.js';

const root = new URL('../../', import.meta.url).pathname;

/** initEngine in a fresh process with the given environment; returns its EngineInfo and output. */
function childInit(env: Record<string, string>, opts = '{}'): { info: Record<string, unknown>; stdout: string; stderr: string } {
  const code = `const { initEngine } = await import('./src/engine/index.ts'); const i = await initEngine(${opts}); process.stdout.write('INFO' + JSON.stringify(i));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root, encoding: 'utf8', env: { ...process.env, DISTILLERY_ENGINE: '', DISTILLERY_THREADS: '', ...env },
  });
  const m = /INFO(\{.*\})$/.exec(r.stdout);
  assert.ok(m, `child failed: ${r.stderr}`);
  return { info: JSON.parse(m[1]) as Record<string, unknown>, stdout: r.stdout.replace(/INFO\{.*\}$/, ''), stderr: r.stderr };
}

test('auto picks native when the addon is built, silently, with the requested threads', { skip: loadAddon() ? false : 'native addon not built' }, () => {
  const { info, stdout, stderr } = childInit({ DISTILLERY_THREADS: '2' });
  assert.equal(info.backend, 'native');
  assert.equal(info.native, true);
  assert.equal(info.threads, 2);
  assert.match(String(info.blas), /openblas|portable/);
  assert.equal(info.notice, undefined);
  assert.equal(stdout, '');
  assert.equal(stderr.trim(), '');
});

test('without the addon, auto falls back to wasm with a one-line notice', () => {
  const { info, stdout } = childInit({ DISTILLERY_NATIVE_ADDON: 'none' });
  assert.equal(info.backend, 'wasm');
  assert.equal(info.native, false);
  assert.equal(info.threads, 1);
  assert.match(String(info.notice), /native.*disabled/);
  assert.ok(!String(info.notice).includes('\n'));
  assert.equal(stdout, '');
});

test('DISTILLERY_ENGINE and the backend option choose the engine; the option wins', () => {
  assert.equal(childInit({ DISTILLERY_ENGINE: 'cpu' }).info.backend, 'cpu');
  assert.equal(childInit({ DISTILLERY_ENGINE: 'wasm' }).info.backend, 'wasm');
  assert.equal(childInit({ DISTILLERY_ENGINE: 'wasm' }, "{ backend: 'cpu' }").info.backend, 'cpu');
});

test('an explicit tensorflow request falls through with a notice (tfjs-node not installed here)', () => {
  const { info } = childInit({ DISTILLERY_ENGINE: 'tensorflow' });
  assert.notEqual(info.backend, 'tensorflow');
  assert.match(String(info.notice), /tfjs-node/);
});

test('initEngine in-process: the same request returns the engine in use, another backend selects again, threads adjustable on native', async () => {
  resetEngineForTests();
  const first = loadAddon() ? 'native' : 'wasm';
  const info = await initEngine({ backend: first, threads: 1 });
  assert.equal(engineInfo(), info);
  assert.equal(await initEngine(), info, 'a call without options returns the engine in use');
  assert.equal(await initEngine({ backend: first }), info, 'so does the same request');
  if (info.backend === 'native') {
    assert.equal(setEngineThreads(2), 2);
    assert.equal(engineInfo()?.threads, 2);
    assert.equal((await initEngine({ threads: 1 })).threads, 1, 'other threads are set, not ignored');
  }
  // Tensors made on one engine are read on the next one.
  const t = tf.tensor1d([1, 2, 3]);
  const cpu = await initEngine({ backend: 'cpu' });
  assert.equal(cpu.backend, 'cpu', 'another backend is selected, not silently ignored');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(engineInfo(), cpu);
  assert.deepEqual(Array.from(tf.mul(t, 2).dataSync()), [2, 4, 6]);
  t.dispose();
  assert.equal((await initEngine({ backend: first })).backend, info.backend, 'and back');
  await assert.rejects(async () => {
    resetEngineForTests();
    await initEngine({ threads: 0 });
  }, /threads/);
  resetEngineForTests();
});

test('wasm fallback: the shimmed kernels match cpu', async () => {
  await prepareWasm();
  const r = rng(3);
  for (const [xs, fs, st, pad] of [
    [[2, 9, 8, 3], [3, 3, 3, 4], 1, 'valid'],
    [[1, 10, 9, 2], [3, 2, 2, 3], 2, 'same'],
    [[2, 11, 11, 1], [5, 5, 1, 2], 3, 'valid'],
  ] as Array<[number[], number[], number, 'same' | 'valid']>) {
    const x = randArr(r, xs), f = randArr(r, fs);
    await assertSame('wasm', `wasm conv2d grads x=${xs} f=${fs} s=${st} ${pad}`, gradsOf((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, st, pad), [x, f]), 2e-4);
  }
  for (const [ta, tb] of [[false, true], [true, false], [true, true]]) {
    const a = randArr(r, ta ? [2, 7, 5] : [2, 5, 7]), b = randArr(r, tb ? [2, 3, 7] : [2, 7, 3]);
    await assertSame('wasm', `wasm matMul ta=${ta} tb=${tb} + grads (explicit transposes)`, gradsOf((x, y) => tf.matMul(x, y, ta, tb), [a, b]));
  }
  const emb = randArr(r, [13, 5]), ids = randInts(r, [4, 6], 0, 13);
  await assertSame('wasm', 'wasm embedding gradient (UnsortedSegmentSum)', gradsOf((a, i) => tf.gather(a, i), [emb, ids]));
  await tf.setBackend('cpu');
  void T;
});
