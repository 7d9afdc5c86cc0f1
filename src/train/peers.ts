import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Dataset } from '../data/types.js';
import { exampleSize } from '../data/types.js';
import type { ReferenceProvider } from './reference.js';

/**
 * Reference logits from STALE peer models (codistillation, Anil et al. 2018): for the rows
 * of a minibatch, log of the mean of the peers' softmax probabilities, computed on the fly
 * by running each peer in inference mode (as the paper does; no pass over the whole shard).
 * The peers' weights are replaced from their latest published checkpoints between steps;
 * the provider only reads them.
 */
export class PeerModelsReference implements ReferenceProvider {
  readonly numClasses: number;
  private readonly peers = new Map<number, LayersModel>();

  constructor(private readonly train: Dataset) {
    this.numClasses = train.classNames.length;
  }

  /** Peers currently in the mean, by worker index. */
  get peerIds(): number[] {
    return [...this.peers.keys()].sort((a, b) => a - b);
  }

  /** Adds or replaces peer `id` (the provider takes ownership of the model). */
  setPeer(id: number, model: LayersModel): void {
    const old = this.peers.get(id);
    if (old && old !== model) old.dispose();
    this.peers.set(id, model);
  }

  peer(id: number): LayersModel | undefined {
    return this.peers.get(id);
  }

  rows(indices: Int32Array): tf.Tensor2D {
    if (this.peers.size === 0) throw new Error('PeerModelsReference: no peer has been loaded yet');
    const d = exampleSize(this.train);
    const x = new Float32Array(indices.length * d);
    for (let i = 0; i < indices.length; i++) x.set(this.train.features.subarray(indices[i] * d, (indices[i] + 1) * d), i * d);
    return tf.tidy(() => {
      const input = tf.tensor(x, [indices.length, ...this.train.featureShape]);
      const probs = [...this.peers.values()].map((m) => tf.softmax(m.predict(input, { batchSize: indices.length }) as tf.Tensor2D));
      return tf.log(tf.maximum(tf.div(tf.addN(probs), probs.length), 1e-30)) as tf.Tensor2D;
    });
  }

  dispose(): void {
    for (const m of this.peers.values()) m.dispose();
    this.peers.clear();
  }
}
