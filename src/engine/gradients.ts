/**
 * Gradients that replace tfjs-core's registered ones where those are pathologically slow.
 * Same mathematics; only the order of a few float32 additions can differ.
 *
 * - Tile: tfjs adds up one `slice` of dy per repetition (a LayerNormalization over
 *   [batch, seq, d] tiles gamma and beta batch·seq times, so ~65,000 slices and adds per
 *   transformer step, 4 s of 5). Here: one reshape of dy to [r0, x0, r1, x1, …] and one sum
 *   over the repetition axes. Registered for every backend.
 * - FusedBatchNorm (native backend only, when mean, variance and scale are as large as x, as in
 *   tfjs-layers' LayerNormalization): each input's gradient in one native pass (kernel
 *   `NativeBatchNormGrad`) instead of ~12 full-size tfjs ops; bit-identical to them.
 * - Relu (native backend only): dy·step(x) in one native pass (kernel `NativeReluGrad`) instead
 *   of Step, Cast and Multiply; bit-identical.
 * - Sum / Mean (native backend only): tfjs multiplies dy by a `ones(x.shape)` tensor filled
 *   element by element in JS; the same values come from one broadcast of dy.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Switches for tests: when false, that replaced gradient defers to tfjs's own. */
export const fastGradients = { tile: true, batchNorm: true, sumMean: true, relu: true };

/** The gradient of tile(x, reps) with respect to x: dy summed over the repetitions. */
export function tileGradient(dy: tf.Tensor, xShape: number[], reps: number[]): tf.Tensor {
  if (xShape.includes(0) || reps.includes(0)) return tf.zeros(xShape);
  const shape: number[] = [];
  const axes: number[] = [];
  xShape.forEach((n, i) => {
    // size-1 dimensions are left out, so that the reduced axes are contiguous where possible
    if (reps[i] > 1) {
      axes.push(shape.length);
      shape.push(reps[i]);
    }
    if (n > 1) shape.push(n);
  });
  if (axes.length === 0) return tf.reshape(dy, xShape);
  return tf.reshape(tf.sum(tf.reshape(dy, shape), axes), xShape);
}

type Thunks = Record<string, () => tf.Tensor>;
type FastGradient = (dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) => Thunks | undefined;

/** Marks the gradient functions registered by replaceGradient. */
const REPLACEMENT = Symbol('distillery.gradientReplacement');
type GradFunc = tf.GradConfig['gradFunc'];

/**
 * Puts `fast` in place of the registered gradient of `kernelName`; where `fast` returns
 * undefined, tfjs's own gradient runs. Idempotent: a gradient that is already a replacement
 * (the registry's, marked) is left as it is.
 */
function replaceGradient(kernelName: string, fast: FastGradient): void {
  const orig = tf.getGradient(kernelName);
  if (!orig || REPLACEMENT in orig.gradFunc) return;
  const gradFunc: GradFunc = (dy, saved, attrs) => fast(Array.isArray(dy) ? dy[0] : dy, saved, attrs as tf.NamedAttrMap) ?? orig.gradFunc(dy, saved, attrs);
  tf.registerGradient({ ...orig, gradFunc: Object.assign(gradFunc, { [REPLACEMENT]: true }) });
}

/** Replaces the Tile gradient (every backend). */
export function registerTileGradient(): void {
  replaceGradient('Tile', (d, [x], attrs) => {
    const reps = (attrs as unknown as { reps: number[] }).reps;
    if (!fastGradients.tile || !x || d.dtype !== 'float32' || reps.length !== x.shape.length) return undefined;
    return { x: () => tileGradient(d, x.shape, reps) };
  });
}

/** Replaces the Sum and Mean gradients when `backend` is the current backend. */
export function registerBroadcastReduceGradients(backend: string): void {
  for (const name of ['Sum', 'Mean'] as const) {
    replaceGradient(name, (d, [x], attrs) => {
      if (!fastGradients.sumMean || tf.getBackend() !== backend || !x || d.dtype !== 'float32') return undefined;
      const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
      const expanded = x.shape.slice();
      for (const a of axes) expanded[a] = 1;
      const reduceSize = axes.reduce((p, a) => p * x.shape[a], 1);
      return {
        x: () => {
          let e = tf.reshape(d, expanded);
          if (name === 'Mean') e = tf.div(e, reduceSize);
          return tf.broadcastTo(e, x.shape);
        },
      };
    });
  }
}

/** Kernel name of the one-pass FusedBatchNorm gradient (registered for the native backend). */
export const BATCH_NORM_GRAD = 'NativeBatchNormGrad';

/** Replaces the FusedBatchNorm gradient when `backend` is the current backend. */
export function registerBatchNormGradient(backend: string): void {
  replaceGradient('FusedBatchNorm', (d, [x, mean, variance, scale], attrs) => {
    const n = x?.size;
    const fullSize = (t: tf.Tensor | undefined): boolean => !t || (t.size === n && t.dtype === 'float32');
    if (!fastGradients.batchNorm || tf.getBackend() !== backend || !x || !mean || !variance || d.dtype !== 'float32' || d.size !== n || ![x, mean, variance, scale].every(fullSize)) {
      return undefined;
    }
    const eps = (attrs as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001;
    const grad = (which: number, shape: number[]) => (): tf.Tensor =>
      tf.reshape(tf.engine().runKernel(BATCH_NORM_GRAD, { x, mean, variance, dy: d, ...(scale ? { scale } : {}) }, { which, varianceEpsilon: eps }) as tf.Tensor, shape);
    return {
      x: grad(0, x.shape),
      mean: grad(1, mean.shape),
      variance: grad(2, mean.shape),
      scale: grad(3, mean.shape),
      offset: () => tf.reshape(d, mean.shape),
    };
  });
}

/** Kernel name of the one-pass Relu gradient (registered for the native backend). */
export const RELU_GRAD = 'NativeReluGrad';

/** Replaces the Relu gradient when `backend` is the current backend. */
export function registerReluGradient(backend: string): void {
  replaceGradient('Relu', (d, [x]) => {
    if (!fastGradients.relu || tf.getBackend() !== backend || !x || x.dtype !== 'float32' || d.dtype !== 'float32' || d.size !== x.size) return undefined;
    return { x: () => tf.engine().runKernel(RELU_GRAD, { x, dy: d }) as tf.Tensor };
  });
}
