/** Access to intermediate-layer activations (for linear probes, e.g. ProfWeight). */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../util/errors.js';

/** Names of the layers whose outputs can be probed, input to output (the input layer excluded). */
export function probeableLayers(model: tfl.LayersModel): string[] {
  return model.layers.filter((l) => l.getClassName() !== 'InputLayer').map((l) => l.name);
}

/**
 * Activations of the named layers for `features` [n, ...featureShape], each flattened to
 * row-major [n, width], computed in inference mode `batchSize` examples at a time.
 */
export function layerActivations(
  model: tfl.LayersModel,
  layerNames: string[],
  features: Float32Array,
  featureShape: number[],
  batchSize = 512,
): { layer: string; width: number; values: Float32Array }[] {
  const known = new Set(probeableLayers(model));
  for (const name of layerNames) {
    if (!known.has(name)) throw new InputError('probe layers', `no layer "${name}" in the model (layers: ${[...known].join(', ')})`);
  }
  const outputs = layerNames.map((n) => model.getLayer(n).output as tfl.SymbolicTensor);
  const probe = tfl.model({ inputs: model.inputs, outputs });
  const widths = outputs.map((o) => o.shape.slice(1).reduce((a: number, b) => a * (b as number), 1));
  const d = featureShape.reduce((a, b) => a * b, 1);
  const n = features.length / d;
  const values = widths.map((w) => new Float32Array(n * w));
  for (let start = 0; start < n; start += batchSize) {
    const b = Math.min(batchSize, n - start);
    // tensors out of the tidy, values read after it (tfjs scans a tidy's result element by element)
    const parts = tf.tidy(() => {
      const out = probe.predict(tf.tensor(features.subarray(start * d, (start + b) * d), [b, ...featureShape]));
      return Array.isArray(out) ? out : [out];
    });
    parts.forEach((p, i) => values[i].set(p.dataSync() as Float32Array, start * widths[i]));
    tf.dispose(parts);
  }
  return layerNames.map((layer, i) => ({ layer, width: widths[i], values: values[i] }));
}
