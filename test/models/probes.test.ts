import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel } from '../../src/models/build.js';
import { layerActivations, probeableLayers } from '../../src/models/probes.js';
import { predictLogits } from '../../src/models/predict.js';
import { initEngine } from '../../src/engine/index.js';
import { Rng } from '../../src/util/rng.js';
import { assertAllClose } from '../helpers/tolerance.js';

await initEngine();

test('layer activations: one matrix per probed layer; the last layer reproduces the logits', () => {
  const model = buildModel({ kind: 'mlp', hidden: [12, 8] }, [5], 3, 1);
  const layers = probeableLayers(model);
  assert.ok(layers.length >= 3);
  const rng = new Rng(1);
  const x = Float32Array.from({ length: 7 * 5 }, () => rng.normal());
  const acts = layerActivations(model, layers, x, [5], 3);
  assert.deepEqual(acts.map((a) => a.width).slice(-1), [3]);
  assert.ok(acts.some((a) => a.width === 12) && acts.some((a) => a.width === 8));
  // The probe model and predictLogits run the last layer through different kernels (the
  // probe's multi-output graph vs the model's own, one batch each): equal up to float32
  // rounding of a different summation order, not bit for bit.
  assertAllClose(acts[acts.length - 1].values, predictLogits(model, x, [5]), 1e-5, 'last probed layer vs logits');
  assert.throws(() => layerActivations(model, ['nope'], x, [5]), /probe layers: no layer "nope"/);
});
