/**
 * Each training row's soft targets, computed once: for objectives whose loss is CE(q, z) with q
 * a function of the row's fixed reference logits and label (Objective.softTargets — plain,
 * distillation, anchor, label smoothing, the reference's probabilities), q does not change
 * between epochs, yet computing it inside every step costs a softmax and a handful of small ops
 * (a dozen for anchor), each a dispatch and a tape node. The table holds q for all rows; a step
 * copies its batch's rows out, like the features. Same numbers: every op in the targets works
 * row by row, so a row's q is the same whichever rows it is computed with (tested).
 *
 * A CachedReference that is replaced during training (stale peers) bumps its version, and the
 * table is recomputed before the next batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../data/types.js';
import type { Objective } from '../objectives/types.js';
import { CachedReference, type ReferenceProvider } from './reference.js';

/** Switch for tests: when false, trainers compute the targets inside every step (same numbers). */
export const softTargetTables = { enabled: true };

/** Rows per chunk when filling the table (bounds the temporaries). */
const CHUNK = 4096;

export class SoftTargetTable {
  private readonly values: Float32Array;
  private version = -1;

  private constructor(
    private readonly targets: NonNullable<Objective['softTargets']>,
    private readonly reference: CachedReference | undefined,
    private readonly labels: Int32Array,
    private readonly K: number,
  ) {
    this.values = new Float32Array(labels.length * K);
  }

  /** A table for `objective` on `train`, or undefined where one does not apply (no soft targets, or a reference that is not a fixed table). */
  static for(objective: Objective, train: Dataset, reference: ReferenceProvider | undefined): SoftTargetTable | undefined {
    if (!softTargetTables.enabled || !objective.softTargets) return undefined;
    if (objective.needsReference && !(reference instanceof CachedReference)) return undefined;
    const K = train.classNames.length;
    return new SoftTargetTable(objective.softTargets, objective.needsReference ? (reference as CachedReference) : undefined, train.labels, K);
  }

  /** Whether the objective reads the reference (else the trainer need not gather its rows). */
  get usesReference(): boolean {
    return this.reference !== undefined;
  }

  /** Batch rows `idx` of the table into out[0 … idx.length·K), recomputing the table first if the reference changed. */
  gather(idx: Int32Array, out: Float32Array): Float32Array {
    this.refresh();
    const K = this.K;
    for (let i = 0; i < idx.length; i++) out.set(this.values.subarray(idx[i] * K, (idx[i] + 1) * K), i * K);
    return out.subarray(0, idx.length * K);
  }

  private refresh(): void {
    const version = this.reference?.version ?? 0;
    if (version === this.version) return;
    const n = this.labels.length, K = this.K;
    for (let start = 0; start < n; start += CHUNK) {
      const end = Math.min(n, start + CHUNK);
      const idx = Int32Array.from({ length: end - start }, (_, i) => start + i);
      // the tensor out of the tidy, its values read after (tfjs scans a tidy's result element by element)
      const q = tf.tidy(() => {
        const labels = tf.tensor1d(this.labels.subarray(start, end), 'int32');
        const oneHot = tf.cast(tf.oneHot(labels, K), 'float32') as tf.Tensor2D;
        const reference = this.reference?.rows(idx);
        return this.targets({ labels, oneHot, reference });
      });
      this.values.set(q.dataSync() as Float32Array, start * K);
      q.dispose();
    }
    this.version = version;
  }
}
