/**
 * The fused dense, soft-target cross-entropy and knowledge-distillation ops (engine/dense.ts,
 * engine/softTargetCrossEntropy.ts, engine/knowledgeDistillation.ts) against the tfjs
 * compositions they replace, on the native engine: values and every gradient bit for bit (odd
 * shapes, batch 1, no bias, extreme and tied logits, soft and one-hot targets), whole training
 * runs on real data with identical weights either way, and models that still save as plain tfjs
 * Dense layers. And DISTILLERY_FUSED_OPS=0: every fused op of FUSED_OPS falls back to its
 * composition, with the same numbers (fusedOpCases.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine, resetEngineForTests } from '../../src/engine/index.js';
import { loadAddon } from '../../src/engine/addon.js';
import { NATIVE_BACKEND } from '../../src/engine/nativeBackend.js';
import { DENSE, DENSE_GRAD } from '../../src/engine/dense.js';
import { SOFT_TARGET_CE, SOFT_TARGET_CE_GRAD } from '../../src/engine/softTargetCrossEntropy.js';
import { fusedOps } from '../../src/engine/fusion.js';
import { FUSED_OPS } from '../../src/engine/kernels/index.js';
import { FusedDense } from '../../src/models/denseLayer.js';
import { buildModel } from '../../src/models/build.js';
import { predictLogits } from '../../src/models/predict.js';
import { klDivergence, klDivergenceReference, softTargetCrossEntropy } from '../../src/objectives/crossEntropy.js';
import { anchorObjective, distillationObjective, knowledgeDistillationObjective } from '../../src/objectives/targetObjectives.js';
import { KNOWLEDGE_DISTILLATION, KNOWLEDGE_DISTILLATION_GRAD } from '../../src/engine/knowledgeDistillation.js';
import { trainModel } from '../../src/train/trainer.js';
import { CachedReference } from '../../src/train/reference.js';
import { softTargetTables } from '../../src/train/targetTable.js';
import { letterSplits } from '../helpers/letter.js';
import { maxRelErr, randArr, rng, T, type Arr } from './helpers.js';
import { FUSED_OP_CASES, type FusedOpRun } from './fusedOpCases.js';

const native = loadAddon() !== undefined;
const skip = native ? false : 'the native addon is not built';
if (native) await initEngine({ backend: 'native' });
after(() => {
  fusedOps.enabled = true;
  resetEngineForTests();
});

/** Runs `fn` with the fused ops on and off; returns both results' values. */
function bothWays(fn: () => tf.Tensor[]): { fused: Float32Array[]; composed: Float32Array[] } {
  const run = (on: boolean) => {
    fusedOps.enabled = on;
    try {
      return tf.tidy(() => fn().map((t) => t.dataSync().slice() as Float32Array));
    } finally {
      fusedOps.enabled = true;
    }
  };
  return { fused: run(true), composed: run(false) };
}

/** Bitwise equality of two float arrays (NaN equals NaN; +0 and −0 differ). */
function assertSameBits(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length), w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < g.length; i++) {
    if (g[i] !== w[i] && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) assert.fail(`${what}: element ${i} is ${got[i]}, the composition gives ${want[i]}`);
  }
}

/** The kernels `fn` runs. */
async function kernelsOf(fn: () => tf.Tensor | tf.Tensor[]): Promise<string[]> {
  const info = await tf.profile(() => {
    const out = fn();
    return Array.isArray(out) ? out[0] : out;
  });
  return info.kernelNames;
}

describe('fused soft-target cross entropy', { skip }, () => {
  const r = rng(41);
  const cases: Array<[string, number, number, (a: Arr) => void]> = [
    ['soft targets', 32, 26, () => {}],
    ['one row, two classes', 1, 2, () => {}],
    ['one class', 5, 1, () => {}],
    ['extreme and tied logits', 9, 7, (z) => z.values.forEach((_, i) => (z.values[i] = i % 4 === 0 ? 80 : i % 4 === 1 ? -80 : i % 4 === 2 ? 3 : z.values[i]))],
  ];
  for (const [name, rows, K, shape] of cases) {
    test(`${name} [${rows}, ${K}]: value and both gradients are bit for bit tfjs's composition`, () => {
      for (const targetKind of ['soft', 'one-hot', 'smoothed']) {
        const z = randArr(r, [rows, K], -4, 4);
        shape(z);
        const q = randArr(r, [rows, K], 0, 1);
        for (let i = 0; i < rows; i++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += q.values[i * K + k];
          for (let k = 0; k < K; k++) {
            const soft = q.values[i * K + k] / s;
            const hot = k === i % K ? 1 : 0;
            q.values[i * K + k] = targetKind === 'soft' ? soft : targetKind === 'one-hot' ? hot : 0.9 * hot + 0.1 / K;
          }
        }
        const w = randArr(r, [rows], 0.2, 2);
        const f = () => {
          const loss = (a: tf.Tensor, b: tf.Tensor) => softTargetCrossEntropy(a as tf.Tensor2D, b as tf.Tensor2D);
          return [loss(T(q), T(z)), ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(loss(a, b), T(w))))([T(q), T(z)])];
        };
        const { fused, composed } = bothWays(f);
        ['loss', 'd/dtargets', 'd/dlogits'].forEach((what, i) => assertSameBits(fused[i], composed[i], `${targetKind}: ${what}`));
      }
    });
  }
  test('KL(p ‖ σ(z)) through the fused cross entropy is the composition it replaced bit for bit (value and gradient; p with zeros)', () => {
    for (const [rows, K] of [[32, 26], [3, 4]]) {
      const z = randArr(r, [rows, K], -5, 5), q = randArr(r, [rows, K], 0, 1);
      for (let i = 0; i < q.values.length; i += 3) q.values[i] = 0;
      for (let i = 0; i < rows; i++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += q.values[i * K + k];
        for (let k = 0; k < K; k++) q.values[i * K + k] /= s || 1;
      }
      const run = (kl: typeof klDivergence) => tf.tidy(() => {
        const f = (b: tf.Tensor) => kl(T(q) as tf.Tensor2D, b as tf.Tensor2D);
        return [f(T(z)), tf.grad((b: tf.Tensor) => tf.sum(tf.mul(f(b), tf.range(1, rows + 1))))(T(z))].map((t) => t.dataSync().slice() as Float32Array);
      });
      const got = run(klDivergence), want = run(klDivergenceReference);
      ['KL', 'd/dlogits'].forEach((what, i) => assertSameBits(got[i], want[i], `[${rows}, ${K}] ${what}`));
    }
  });
  test('it runs as the fused kernels (forward and backward), not as tfjs ops', async () => {
    const z = T(randArr(r, [4, 3])), q = tf.softmax(T(randArr(r, [4, 3])));
    const names = await kernelsOf(() => tf.grad((b: tf.Tensor) => tf.sum(softTargetCrossEntropy(q as tf.Tensor2D, b as tf.Tensor2D)))(z));
    assert.ok(names.includes(SOFT_TARGET_CE) && names.includes(SOFT_TARGET_CE_GRAD), names.join(' '));
    assert.ok(!names.includes('Exp') && !names.includes('Log'), names.join(' '));
  });
});

describe('fused knowledge distillation', { skip }, () => {
  const r = rng(47);
  for (const [alpha, temperature, rows, K] of [[0.5, 4, 32, 26], [0.3, 1, 5, 3], [0.9, 2.5, 1, 7], [0.01, 10, 64, 10]]) {
    test(`α=${alpha}, T=${temperature}, [${rows}, ${K}]: loss and the gradients for logits and labels are the weighted composition's bit for bit`, async () => {
      const objective = knowledgeDistillationObjective(alpha, temperature);
      const z = randArr(r, [rows, K], -6, 6), ref = randArr(r, [rows, K], -8, 8), w = randArr(r, [rows], 0.2, 2);
      const y: Arr = { values: new Float32Array(rows * K), shape: [rows, K], dtype: 'float32' };
      for (let i = 0; i < rows; i++) y.values[i * K + ((i * 7) % K)] = 1;
      const labels = tf.tensor1d(Int32Array.from({ length: rows }, (_, i) => (i * 7) % K), 'int32');
      const f = () => {
        const loss = (zz: tf.Tensor, yy: tf.Tensor) => objective.perExampleLoss({ logits: zz as tf.Tensor2D, oneHot: yy as tf.Tensor2D, labels, reference: T(ref) as tf.Tensor2D });
        return [loss(T(z), T(y)), ...tf.grads((zz: tf.Tensor, yy: tf.Tensor) => tf.sum(tf.mul(loss(zz, yy), T(w))))([T(z), T(y)])];
      };
      const { fused, composed } = bothWays(f);
      ['loss', 'd/dlogits', 'd/dlabels'].forEach((what, i) => assertSameBits(fused[i], composed[i], what));
      const names = await kernelsOf(() => tf.grad((zz: tf.Tensor) => tf.sum(objective.perExampleLoss({ logits: zz as tf.Tensor2D, oneHot: T(y) as tf.Tensor2D, labels, reference: T(ref) as tf.Tensor2D })))(T(z)));
      assert.ok(names.includes(KNOWLEDGE_DISTILLATION) && names.includes(KNOWLEDGE_DISTILLATION_GRAD) && !names.includes('Softmax'), names.join(' '));
    });
  }
});

describe('fused dense layer', { skip }, () => {
  const r = rng(43);
  /** A FusedDense and a tfjs Dense with the same weights. */
  function pair(units: number, inDim: number, activation: 'relu' | 'linear', useBias: boolean): [tfl.layers.Layer, tfl.layers.Layer] {
    const args = { units, activation, useBias, inputShape: [inDim] };
    const a = new FusedDense(args), b = tfl.layers.dense(args);
    a.build([null, inDim]);
    b.build([null, inDim]);
    const ws = [T(randArr(r, [inDim, units], -0.7, 0.7)), ...(useBias ? [T(randArr(r, [units], -0.5, 0.5))] : [])];
    a.setWeights(ws);
    b.setWeights(ws);
    return [a, b];
  }
  for (const [rows, inDim, units] of [[32, 16, 256], [1, 5, 3], [7, 1, 9], [300, 40, 26]]) {
    for (const activation of ['relu', 'linear'] as const) {
      for (const useBias of [true, false]) {
        test(`[${rows}, ${inDim}] → ${units}, ${activation}${useBias ? '' : ', no bias'}: output and the gradients for x, kernel and bias are tfjs Dense's bit for bit`, () => {
          const [fusedLayer, tfjsLayer] = pair(units, inDim, activation, useBias);
          const x = randArr(r, [rows, inDim], -2, 2), up = randArr(r, [rows, units], -1, 1);
          // some exact zeros in the pre-activation's inputs, so that ReLU's step is taken at 0 too
          for (let i = 0; i < x.values.length; i += 5) x.values[i] = 0;
          const run = (layer: tfl.layers.Layer) => () => {
            const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
            const xs = T(x);
            const f = (xi: tf.Tensor) => tf.sum(tf.mul(layer.apply(xi, { training: true }) as tf.Tensor, T(up)));
            const gx = tf.grad(f)(xs);
            const { grads } = tf.variableGrads(() => f(xs) as tf.Scalar, vars);
            return [layer.apply(xs, { training: true }) as tf.Tensor, gx, ...vars.map((v) => grads[v.name])];
          };
          const got = tf.tidy(() => run(fusedLayer)().map((t) => t.dataSync().slice() as Float32Array));
          const want = tf.tidy(() => run(tfjsLayer)().map((t) => t.dataSync().slice() as Float32Array));
          ['output', 'd/dx', 'd/dkernel', 'd/dbias'].slice(0, got.length).forEach((what, i) => assertSameBits(got[i], want[i], what));
        });
      }
    }
  }
  test('it runs as the fused kernels under gradients; rank-3 inputs take tfjs\'s own path', async () => {
    const [layer] = pair(6, 4, 'relu', true);
    const x = T(randArr(r, [3, 4]));
    const names = await kernelsOf(() => tf.grad((xi: tf.Tensor) => tf.sum(layer.apply(xi, { training: true }) as tf.Tensor))(x));
    assert.ok(names.includes(DENSE) && names.includes(DENSE_GRAD), names.join(' '));
    assert.ok(!names.includes('BatchMatMul') && !names.includes('Relu'), names.join(' '));
    const x3 = T(randArr(r, [2, 3, 4]));
    const names3 = await kernelsOf(() => layer.apply(x3) as tf.Tensor);
    assert.ok(!names3.includes(DENSE), names3.join(' '));
  });
  test('a model built with it saves as plain tfjs Dense layers and predicts the same after loading', async () => {
    const model = buildModel({ kind: 'mlp', hidden: [8] }, [16], 26, 3);
    assert.ok(model.layers.some((l) => l instanceof FusedDense));
    const json = JSON.stringify(model.toJSON(null, false));
    assert.ok(json.includes('"class_name":"Dense"') && !json.includes('Fused'), 'class names in the saved topology');
    const saved: tf.io.ModelArtifacts[] = [];
    await model.save(tf.io.withSaveHandler(async (a) => {
      saved.push(a);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved[0]));
    assert.ok(loaded.layers.every((l) => !(l instanceof FusedDense)));
    const x = randArr(r, [5, 16]).values as Float32Array;
    assertSameBits(predictLogits(loaded, x, [16]), predictLogits(model, x, [16]), 'logits after loading');
  });
});

describe('training with the fused ops', { skip }, () => {
  test('distillation, anchor and knowledge-distillation training on real letter data give the same weights bit for bit with the fused ops and the soft-target table on or off', async () => {
    const data = await letterSplits({ initial: 600, validation: 100, newBatch: 0, test: 100 });
    const K = data.spec.classNames.length;
    const teacher = buildModel({ kind: 'mlp', hidden: [16] }, [16], K, 9);
    const reference = new CachedReference(predictLogits(teacher, data.initial.features, [16]), K);
    for (const objective of [distillationObjective(0.5), anchorObjective(0.5, 0.5), knowledgeDistillationObjective(0.5, 4)]) {
      const train = async (on: boolean) => {
        fusedOps.enabled = softTargetTables.enabled = on;
        try {
          const model = buildModel({ kind: 'mlp', hidden: [32, 24], dropout: 0.2 }, [16], K, 4);
          const result = await trainModel(model, data.initial, { objective, reference, epochs: 3, batchSize: 32, learningRate: 0.01, validation: data.validation, seed: 4 });
          return { weights: model.getWeights().map((w) => w.dataSync().slice() as Float32Array), history: result.history };
        } finally {
          fusedOps.enabled = softTargetTables.enabled = true;
        }
      };
      const fused = await train(true), composed = await train(false);
      assert.deepEqual(fused.history, composed.history, `${objective.name}: per-epoch losses`);
      fused.weights.forEach((w, i) => assertSameBits(w, composed.weights[i], `${objective.name}: weight ${i}`));
      assert.ok(fused.history[2].loss < fused.history[0].loss, `${objective.name} trains`);
    }
  });
});

test('on the native engine, the fused kernels are registered, each fused op\'s kernels with its gradient', { skip }, () => {
  for (const name of [DENSE, DENSE_GRAD, SOFT_TARGET_CE, SOFT_TARGET_CE_GRAD]) assert.ok(tf.getKernel(name, NATIVE_BACKEND), name);
  for (const op of FUSED_OPS) {
    for (const k of op.kernels) assert.ok(tf.getKernel(k.kernelName, NATIVE_BACKEND), k.kernelName);
    assert.equal(tf.getGradient(op.kernelName), op.gradient, `${op.kernelName}: its gradient`);
  }
});

describe('DISTILLERY_FUSED_OPS=0', { skip }, () => {
  const root = new URL('../../', import.meta.url).pathname;
  type Runs = { enabled: boolean; runs: Record<string, FusedOpRun> };
  /** FUSED_OP_CASES run in a child process with DISTILLERY_FUSED_OPS set to `flag` (one thread, the native engine). */
  function runCases(flag: '0' | '1'): Runs {
    const code = `
      const { initEngine } = await import('./src/engine/index.ts');
      const { fusedOps } = await import('./src/engine/fusion.ts');
      const { runFusedOpCases } = await import('./test/engine/fusedOpCases.ts');
      await initEngine({ backend: 'native', threads: 1 });
      process.stdout.write(JSON.stringify({ enabled: fusedOps.enabled, runs: await runFusedOpCases() }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: root, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20,
      env: { ...process.env, DISTILLERY_ENGINE: '', DISTILLERY_THREADS: '', DISTILLERY_FUSED_OPS: flag },
    });
    assert.equal(r.status, 0, `child with DISTILLERY_FUSED_OPS=${flag} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Runs;
  }
  const floats = (b64: string) => new Float32Array(Uint8Array.from(Buffer.from(b64, 'base64')).buffer);
  let on: Runs, off: Runs;
  before(() => {
    on = runCases('1');
    off = runCases('0');
  });
  const fusedKernels = new Set(FUSED_OPS.flatMap((op) => op.kernels.map((k) => k.kernelName)));

  test('every fused op of FUSED_OPS has a case', () => {
    assert.deepEqual(FUSED_OP_CASES.map((c) => c.op).sort(), FUSED_OPS.map((op) => op.kernelName).sort());
  });
  test("with fused ops on, each case runs its op's kernels (forward and gradient)", () => {
    assert.equal(on.enabled, true);
    for (const op of FUSED_OPS) {
      const ran = on.runs[op.kernelName].kernels;
      for (const k of op.kernels) assert.ok(ran.includes(k.kernelName), `${op.kernelName}: ${k.kernelName} did not run (${ran.join(' ')})`);
    }
  });
  test('with DISTILLERY_FUSED_OPS=0, no kernel of any fused op runs: every op composes tfjs ops', () => {
    assert.equal(off.enabled, false);
    for (const [op, run] of Object.entries(off.runs)) {
      assert.deepEqual(run.kernels.filter((k) => fusedKernels.has(k)), [], `${op}: fused kernels ran with DISTILLERY_FUSED_OPS=0`);
    }
  });
  test('both ways give the same numbers: bit for bit for dense, soft-target CE and KD; within 1e-4 (relative to 1 + |x|) for layer norm and LDI, which accumulate in double', () => {
    for (const c of FUSED_OP_CASES) {
      const a = on.runs[c.op].values.map(floats), b = off.runs[c.op].values.map(floats);
      assert.equal(a.length, b.length, `${c.op}: number of outputs`);
      a.forEach((v, i) => {
        if (c.tolerance === 0) assertSameBits(v, b[i], `${c.op}: output ${i} (value, then gradients)`);
        else {
          assert.equal(v.length, b[i].length, `${c.op}: output ${i} length`);
          const e = maxRelErr(v, b[i]);
          assert.ok(e <= c.tolerance, `${c.op}: output ${i} (value, then gradients) differs by ${e} (tolerance ${c.tolerance})`);
        }
      });
    }
  });
});
