import * as tf from '@tensorflow/tfjs-core';
import { softmax } from '../models/logits.js';
import type { TrainingCallback } from './callbacks.js';
import { InputError } from '../util/errors.js';

/**
 * Supplies reference logits (a teacher, an averaged ensemble, stale peer checkpoints)
 * for rows of the training set. The trainer asks once per minibatch; a provider that
 * changes during training (stale peers) is refreshed by a callback (staleReferenceRefresh).
 */
export interface ReferenceProvider {
  /** Number of classes K. */
  readonly numClasses: number;
  /** Reference logits [indices.length, K] for training rows `indices`. */
  rows(indices: Int32Array): tf.Tensor2D;
  /** Rows it covers, when it is a fixed table (checked against the training data). */
  readonly size?: number;
}

/**
 * Reference logits computed ONCE per training example and kept in memory, so a teacher is
 * never re-run during training.
 */
export class CachedReference implements ReferenceProvider {
  readonly numClasses: number;
  private readonly logits: Float32Array;
  private revision = 0;

  constructor(logits: Float32Array, numClasses: number) {
    if (!(Number.isInteger(numClasses) && numClasses > 0)) throw new InputError('reference', `number of classes must be a positive integer, got ${numClasses}`);
    if (logits.length % numClasses !== 0) throw new InputError('reference', `${logits.length} logits do not form rows of ${numClasses} classes`);
    for (let i = 0; i < logits.length; i++) {
      if (!Number.isFinite(logits[i])) throw new InputError('reference', `logit ${i} (row ${Math.floor(i / numClasses)}) is ${logits[i]}; reference logits must be finite`);
    }
    this.logits = logits;
    this.numClasses = numClasses;
  }

  get size(): number {
    return this.logits.length / this.numClasses;
  }

  /** Every row's logits, row-major [size, K] (a read-only view; use update() to change them). */
  all(): Float32Array {
    return this.logits;
  }

  /** Replace the cached logits in place (stale-reference refresh). */
  update(logits: Float32Array): void {
    if (logits.length !== this.logits.length) throw new Error('reference logits changed size');
    this.logits.set(logits);
    this.revision++;
  }

  /** How many times update() has replaced the logits (what was computed from them is stale when this changes). */
  get version(): number {
    return this.revision;
  }

  rows(indices: Int32Array): tf.Tensor2D {
    const K = this.numClasses;
    const out = new Float32Array(indices.length * K);
    const size = this.size;
    for (let i = 0; i < indices.length; i++) {
      const r = indices[i];
      if (!(r >= 0 && r < size)) throw new RangeError(`reference: row ${r} asked of a reference with ${size} rows`);
      out.set(this.logits.subarray(r * K, (r + 1) * K), i * K);
    }
    return tf.tensor2d(out, [indices.length, K]);
  }
}

/** Element-wise mean of several [n, K] logit matrices (a homogeneous ensemble's logits). */
export function averageLogits(all: Float32Array[]): Float32Array {
  if (all.length === 0) throw new Error('averageLogits needs at least one matrix');
  const out = new Float32Array(all[0].length);
  for (const m of all) {
    if (m.length !== out.length) throw new Error('ensemble members disagree on the logits shape');
    for (let i = 0; i < out.length; i++) out[i] += m[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= all.length;
  return out;
}

/** log of the mean of softmax probabilities, row by row: a "logit" matrix whose softmax is the mean probability. */
export function logMeanProbabilities(all: Float32Array[], numClasses: number): Float32Array {
  const probs = all.map((m) => softmax(m, numClasses));
  const out = new Float32Array(all[0].length);
  for (let i = 0; i < out.length; i++) {
    let mean = 0;
    for (const p of probs) mean += p[i];
    out[i] = Math.log(Math.max(mean / probs.length, 1e-30));
  }
  return out;
}

/**
 * Stale-reference refresh as a training callback (codistillation, Anil et al. 2018): before
 * every `every`-th step (and the first), `reload()` gives new reference logits for the
 * training rows (e.g. from the peers' latest published checkpoints), which replace those of
 * `reference` in place.
 */
export function staleReferenceRefresh(reference: CachedReference, every: number, reload: (step: number) => Float32Array | Promise<Float32Array>): TrainingCallback {
  if (!(Number.isInteger(every) && every > 0)) throw new Error(`staleReferenceRefresh: interval must be a positive integer, got ${every}`);
  return {
    onBatchBegin: async (step) => {
      if (step % every === 0) reference.update(await reload(step));
    },
  };
}
