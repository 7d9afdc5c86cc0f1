/**
 * tfjs-layers' Dense layer whose training-time forward runs as the engine's fused dense op
 * (engine/dense.ts: one kernel forward, one per input backward) where that op is served — the
 * native engine, a rank-2 float32 input, linear or ReLU — and exactly as tfjs's own Dense
 * everywhere else. Same class name, config, weights and numbers (bit for bit), so a saved model
 * is a plain tfjs Dense model and loads anywhere.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { dense, denseFused } from '../engine/dense.js';

type DenseArgs = Parameters<typeof tfl.layers.dense>[0];
type TfjsDense = ReturnType<typeof tfl.layers.dense>;
type Kwargs = Parameters<TfjsDense['call']>[1];

/** tfjs-layers' Dense class (not exported by name), from tfjs's serialization registry. */
const TfjsDenseClass = tf.serialization.SerializationMap.getMap().classNameMap.Dense[0] as unknown as new (args: DenseArgs) => TfjsDense;

/** Dense's private state that the fused call reads. */
interface DenseInternals {
  kernel: tfl.LayerVariable;
  bias: tfl.LayerVariable | null;
  activation: { getClassName(): string };
}

export class FusedDense extends TfjsDenseClass {
  static className = 'Dense';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const self = this as unknown as DenseInternals;
    const activation = self.activation.getClassName();
    if (Array.isArray(inputs) && inputs.length !== 1) return super.call(inputs, kwargs);
    if (!denseFused(x, activation)) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      return dense(x as tf.Tensor2D, self.kernel.read() as tf.Tensor2D, self.bias ? (self.bias.read() as tf.Tensor1D) : undefined, activation);
    });
  }
}
