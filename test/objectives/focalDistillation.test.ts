import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/engine/tfjs.js';
import { focalDistillationObjective, knowledgeDistillationObjective } from '../../src/objectives/index.js';
import { close, lossOf } from './helpers.js';

await tf.setBackend('cpu');

const LN3 = Math.log(3);
// new: σ = [0.25, 0.75]; old: σ = [0.75, 0.25]
const Z = [[0, LN3], [0, LN3]];
const OLD = [[LN3, 0], [LN3, 0]];
// row 0: y = 0 → old right, new wrong (a negative flip); row 1: y = 1 → old wrong, new right
const Y = [0, 1];
const CE = [-Math.log(0.25), -Math.log(0.75)];
const LM = LN3 * LN3; // mean_k (z_new − z_old)²
const KL1 = 0.5 * LN3; // KL([.75,.25] ‖ [.25,.75]) at T = 1

test('FD-LM and FD-KL with the old-correct filter, by hand', () => {
  close(lossOf(focalDistillationObjective({ divergence: 'lm', alpha: 1, beta: 5, lambda: 1 }), Z, OLD, Y), [CE[0] + 6 * LM, CE[1] + 1 * LM]);
  close(lossOf(focalDistillationObjective({ divergence: 'kl', temperature: 1, alpha: 1, beta: 5, lambda: 1 }), Z, OLD, Y), [CE[0] + 6 * KL1, CE[1] + 1 * KL1]);
  // λ scales the whole distillation term
  close(lossOf(focalDistillationObjective({ divergence: 'lm', alpha: 1, beta: 5, lambda: 0.5 }), Z, OLD, Y), [CE[0] + 3 * LM, CE[1] + 0.5 * LM]);
});

test('focus filters: all, negative-flip, new-incorrect', () => {
  const lm = (filter: 'all' | 'negative-flip' | 'new-incorrect') => lossOf(focalDistillationObjective({ divergence: 'lm', alpha: 1, beta: 5, lambda: 1, filter }), Z, OLD, Y);
  close(lm('all'), [CE[0] + 6 * LM, CE[1] + 6 * LM]);
  close(lm('negative-flip'), [CE[0] + 6 * LM, CE[1] + 1 * LM]);
  close(lm('new-incorrect'), [CE[0] + 6 * LM, CE[1] + 1 * LM]);
  // a row where the new model is wrong but the old was wrong too: new-incorrect focuses it, negative-flip does not
  const z = [[LN3, 0]]; // new predicts 0
  const old = [[LN3, 0]]; // old predicts 0
  const y = [1];
  const ce = -Math.log(0.25);
  close(lossOf(focalDistillationObjective({ divergence: 'lm', alpha: 1, beta: 5, filter: 'new-incorrect' }), z, old, y), [ce + 6 * 0]);
  const zz = [[LN3, 0]];
  const oo = [[0, 0]]; // old ties → argmax 0, wrong
  close(lossOf(focalDistillationObjective({ divergence: 'lm', alpha: 1, beta: 5, filter: 'new-incorrect' }), zz, oo, y), [ce + 6 * (LN3 * LN3) / 2]);
  close(lossOf(focalDistillationObjective({ divergence: 'lm', alpha: 1, beta: 5, filter: 'negative-flip' }), zz, oo, y), [ce + 1 * (LN3 * LN3) / 2]);
});

test('FD-KL keeps the T² scale, and β = 0 with the all filter is plain KD', () => {
  const T = 4;
  const p = (z: number[]) => {
    const e = z.map((v) => Math.exp(v / T));
    const s = e[0] + e[1];
    return e.map((v) => v / s);
  };
  const pn = p(Z[0]);
  const po = p(OLD[0]);
  const kl = po[0] * Math.log(po[0] / pn[0]) + po[1] * Math.log(po[1] / pn[1]);
  close(lossOf(focalDistillationObjective({ divergence: 'kl', temperature: T, alpha: 1, beta: 0, filter: 'all' }), [Z[0]], [OLD[0]], [0]), [CE[0] + T * T * kl]);
  // KD (α=0.5): 0.5·CE + 0.5·T²·KL = 0.5 × focal(α=1, β=0, λ=1)
  const kd = lossOf(knowledgeDistillationObjective(0.5, T), [Z[0]], [OLD[0]], [0])[0];
  close([kd], [0.5 * (CE[0] + T * T * kl)]);
});

test('focal distillation refuses negative weights and a non-positive temperature', () => {
  assert.throws(() => focalDistillationObjective({ beta: -1 }), /beta: must be a number ≥ 0/);
  assert.throws(() => focalDistillationObjective({ temperature: 0 }), /temperature: must be positive/);
});
