/**
 * The engine's LDI penalty op: the native engine's fused kernels (the penalty per example and
 * its gradient) against the core-op composition on tfjs's cpu backend, over every option the
 * kernel takes, with exact ties (z = r) and masks from top-k-like selections.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine, resetEngineForTests } from '../../src/engine/index.js';
import { loadAddon } from '../../src/engine/addon.js';
import { NATIVE_BACKEND } from '../../src/engine/nativeBackend.js';
import { LDI_PENALTY, ldiCrossEntropy, ldiPenalty, ldiPenaltyReference, type LdiPenaltyAttrs } from '../../src/engine/logitDifference.js';
import { softTargetCrossEntropy } from '../../src/objectives/crossEntropy.js';
import { maxRelErr, randArr, rng, runOn, T, type Arr } from './helpers.js';

const info = await initEngine({ backend: loadAddon() ? 'native' : 'cpu' });
after(() => resetEngineForTests());

/** Penalty, and the gradients for z and r of Σ_i w_i · penalty_i. */
function withGrads(z: Arr, r: Arr, mask: Arr, w: Arr, o: LdiPenaltyAttrs, fused: boolean): () => tf.Tensor[] {
  const op = (a: tf.Tensor, b: tf.Tensor) =>
    fused ? ldiPenalty(a as tf.Tensor2D, b as tf.Tensor2D, T(mask) as tf.Tensor2D, o) : ldiPenaltyReference(a as tf.Tensor2D, b as tf.Tensor2D, T(mask) as tf.Tensor2D, o.xi, o);
  return () => [op(T(z), T(r)), ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(a, b), T(w))))([T(z), T(r)])];
}

describe('LDI penalty', () => {
  const r = rng(23);
  test(`the kernel is registered on the ${info.backend} engine`, { skip: info.backend !== NATIVE_BACKEND }, () => {
    assert.ok(tf.getKernel(LDI_PENALTY, NATIVE_BACKEND));
  });
  const options: LdiPenaltyAttrs[] = [];
  for (const centred of [false, true]) for (const oneSided of [false, true]) for (const power of [2, 1, 1.5]) for (const xi of [0, 0.5]) options.push({ centred, oneSided, power, xi });
  for (const [rows, K] of [[32, 26], [5, 3], [1, 2]]) {
    test(`[${rows}, ${K}]: the ${info.backend} engine's penalty and gradients match the core-op composition on cpu for every option`, async () => {
      for (const o of options) {
        const z = randArr(r, [rows, K], -3, 3), ref = randArr(r, [rows, K], -3, 3), w = randArr(r, [rows], 0.5, 1.5);
        // ties: some logits equal the reference's exactly
        for (let i = 0; i < z.values.length; i += 7) z.values[i] = ref.values[i];
        // a mask of every class but one "true" class per row, and some rows with fewer classes
        const mask: Arr = { values: new Float32Array(rows * K).fill(1), shape: [rows, K], dtype: 'float32' };
        for (let i = 0; i < rows; i++) {
          mask.values[i * K + (i % K)] = 0;
          if (i % 3 === 1 && K > 2) mask.values[i * K + ((i + 1) % K)] = 0;
        }
        const want = await runOn('cpu', withGrads(z, ref, mask, w, o, false));
        const got = await runOn(info.backend, withGrads(z, ref, mask, w, o, true));
        got.forEach((g, i) => {
          assert.deepEqual(g.shape, want[i].shape);
          const e = maxRelErr(g.values, want[i].values);
          assert.ok(e < 1e-4, `${JSON.stringify(o)}: output ${i} (penalty, dz, dr) differs by ${e}`);
        });
      }
    });
  }

  test(`(1 − α)·CE + α·LDI as one op on the ${info.backend} engine matches the weighted composition on cpu (value and both logits' gradients)`, { skip: info.backend !== NATIVE_BACKEND }, async () => {
    const [rows, K] = [32, 26];
    for (const [alpha, o, sameLogits] of [
      [0.3, { centred: true, oneSided: false, power: 2, xi: 0 }, false],
      [0.5, { centred: true, oneSided: false, power: 2, xi: 0.5 }, true],
      [1, { centred: false, oneSided: true, power: 1.5, xi: 0.5 }, false],
    ] as const) {
      const z = randArr(r, [rows, K], -4, 4), zl = sameLogits ? z : randArr(r, [rows, K], -4, 4), ref = randArr(r, [rows, K], -3, 3), w = randArr(r, [rows], 0.5, 1.5);
      const y: Arr = { values: new Float32Array(rows * K), shape: [rows, K], dtype: 'float32' };
      const mask: Arr = { values: new Float32Array(rows * K).fill(1), shape: [rows, K], dtype: 'float32' };
      for (let i = 0; i < rows; i++) {
        y.values[i * K + ((i * 7) % K)] = 1;
        mask.values[i * K + ((i * 7) % K)] = 0;
      }
      const run = (fused: boolean) => () => {
        const f = (a: tf.Tensor, b: tf.Tensor) => {
          const zl2 = (sameLogits ? a : b) as tf.Tensor2D;
          return fused
            ? ldiCrossEntropy(a as tf.Tensor2D, zl2, T(ref) as tf.Tensor2D, T(mask) as tf.Tensor2D, T(y) as tf.Tensor2D, { alpha, ...o })
            : tf.add(tf.mul(softTargetCrossEntropy(T(y) as tf.Tensor2D, a as tf.Tensor2D), 1 - alpha), tf.mul(ldiPenaltyReference(zl2, T(ref) as tf.Tensor2D, T(mask) as tf.Tensor2D, o.xi, { power: o.power, oneSided: o.oneSided, centred: o.centred }), alpha));
        };
        const loss = (a: tf.Tensor, b?: tf.Tensor) => tf.sum(tf.mul(f(a, b ?? a), T(w)));
        return [f(T(z), T(zl)), ...(sameLogits ? tf.grads((a: tf.Tensor) => loss(a))([T(z)]) : tf.grads(loss)([T(z), T(zl)]))];
      };
      const want = await runOn('cpu', run(false));
      const got = await runOn(info.backend, run(true));
      got.forEach((g, i) => {
        const e = maxRelErr(g.values, want[i].values);
        assert.ok(e < 1e-4, `α=${alpha} ${JSON.stringify(o)} same=${sameLogits}: output ${i} (loss, dz, dz_ldi) differs by ${e}`);
      });
    }
  });

  test('by hand: two-sided, ξ = 0.5, p = 2, centred off', async () => {
    // z − r = [1, −2, 0.25]; d = [0.5, 1.5, 0]; mask drops class 0: (1.5² + 0) / 2
    const [out] = await runOn(info.backend, () => [ldiPenalty(tf.tensor2d([[1, -2, 0.25]]), tf.zeros([1, 3]) as tf.Tensor2D, tf.tensor2d([[0, 1, 1]]), { xi: 0.5, power: 2, oneSided: false, centred: false })]);
    assert.ok(Math.abs(out.values[0] - 1.125) < 1e-6, `got ${out.values[0]}`);
  });
});
