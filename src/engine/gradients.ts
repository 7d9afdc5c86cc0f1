/**
 * Gradients that replace tfjs-core's registered ones where those are pathologically slow.
 * Same mathematics; only the order of a few float32 additions can differ.
 *
 * - Tile: tfjs adds up one `slice` of dy per repetition (a LayerNormalization over
 *   [batch, seq, d] tiles gamma and beta batch·seq times, so ~65,000 slices and adds per
 *   transformer step, 4 s of 5). Here: one reshape of dy to [r0, x0, r1, x1, …] and one sum
 *   over the repetition axes. Registered for every backend.
 * - Sum / Mean (native backend only): tfjs multiplies dy by a `ones(x.shape)` tensor filled
 *   element by element in JS; the same values come from one broadcast of dy.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The gradient of tile(x, reps) with respect to x: dy summed over the repetitions. */
export function tileGradient(dy: tf.Tensor, xShape: number[], reps: number[]): tf.Tensor {
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

let tileDone = false;

/** Replaces the Tile gradient (idempotent). */
export function registerTileGradient(): void {
  if (tileDone) return;
  tileDone = true;
  const orig = tf.getGradient('Tile');
  if (!orig) return;
  tf.registerGradient({
    ...orig,
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0];
      const d = Array.isArray(dy) ? dy[0] : dy;
      const reps = (attrs as unknown as { reps: number[] }).reps;
      if (!x || d.dtype !== 'float32' || reps.length !== x.shape.length) return orig.gradFunc(dy, saved, attrs);
      return { x: () => tileGradient(d, x.shape, reps) };
    },
  });
}

let sumMeanDone = false;

/** Replaces the Sum and Mean gradients when `backend` is the current backend (idempotent). */
export function registerBroadcastReduceGradients(backend: string): void {
  if (sumMeanDone) return;
  sumMeanDone = true;
  for (const name of ['Sum', 'Mean'] as const) {
    const orig = tf.getGradient(name);
    if (!orig) continue;
    tf.registerGradient({
      ...orig,
      gradFunc: (dy, saved, attrs) => {
        const x = saved[0];
        const d = Array.isArray(dy) ? dy[0] : dy;
        if (tf.getBackend() !== backend || !x || d.dtype !== 'float32') return orig.gradFunc(dy, saved, attrs);
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
      },
    });
  }
}
