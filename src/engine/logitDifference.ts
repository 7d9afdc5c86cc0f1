/**
 * Logit Difference Inhibition's per-example penalty as one tfjs op (Zhao et al. 2022;
 * objectives/logitDifferenceInhibition.ts states the formula):
 *
 *   diff = z − r (centred: minus its mean over classes), e = |diff| (one-sided: diff),
 *   d = max(e − ξ, 0), loss = Σ_k mask_k · d_k^p / Σ_k mask_k.
 *
 * On the native engine it is a fused op (src/engine/fusion.ts), a registered kernel pair — the
 * loss in one pass over each row, its gradient with respect to z in another (and LDI's whole
 * training objective, with the cross entropy, another pair: `ldiCrossEntropy`) — instead of about
 * a dozen small tfjs ops forward and twice as many backward, which at the batch sizes of these
 * models cost more than the network's own step (docs/elodi.md, the bench). On every other
 * backend, or with fused ops off, the caller composes differentiable tfjs-core ops
 * (`ldiPenaltyReference`), so gradients flow anywhere; both paths agree to float32 rounding (the
 * row sums here are accumulated in double).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { allocF32, type FusedOpConfig, type KArgs } from './kernelValues.js';
import { useFusedOp } from './fusion.js';

export const LDI_PENALTY = 'DistilleryLdiPenalty';
export const LDI_PENALTY_GRAD = 'DistilleryLdiPenaltyGrad';

/** The options the kernel takes (relative margins are left to the composite path). */
export interface LdiPenaltyAttrs {
  xi: number;
  power: number;
  oneSided: boolean;
  centred: boolean;
}

/** The composition of core ops (every backend; the definition the kernel must match). */
export function ldiPenaltyReference(logits: tf.Tensor2D, reference: tf.Tensor2D, mask: tf.Tensor2D, margin: number | tf.Tensor, o: Omit<LdiPenaltyAttrs, 'xi'>): tf.Tensor1D {
  return tf.tidy(() => {
    const raw = tf.sub(logits, reference);
    const diff = o.centred ? tf.sub(raw, tf.mean(raw, -1, true)) : raw;
    const excess = o.oneSided ? diff : tf.abs(diff);
    const d = tf.relu(margin === 0 ? excess : tf.sub(excess, margin));
    const penalty = o.power === 2 ? tf.square(d) : o.power === 1 ? d : tf.pow(d, o.power);
    return tf.div(tf.sum(tf.mul(penalty, mask), -1), tf.sum(mask, -1)) as tf.Tensor1D;
  });
}

/** Whether the fused kernel serves these tensors on the current backend. */
export function ldiPenaltyFused(logits: tf.Tensor): boolean {
  return logits.dtype === 'float32' && logits.rank === 2 && logits.size > 0 && useFusedOp(LDI_PENALTY);
}

/** The penalty per example [b]; the fused kernel where registered, else the composition. */
export function ldiPenalty(logits: tf.Tensor2D, reference: tf.Tensor2D, mask: tf.Tensor2D, o: LdiPenaltyAttrs): tf.Tensor1D {
  if (!ldiPenaltyFused(logits)) return ldiPenaltyReference(logits, reference, mask, o.xi, o);
  return tf.engine().runKernel(LDI_PENALTY, { logits, reference, mask }, { ...o } as unknown as tf.NamedAttrMap) as tf.Tensor1D;
}

type Values = Float32Array;

/**
 * One row's d_k (into `d`, sign of the pre-relu slope into `slope`: ∂d_k/∂diff_k ∈ {−1, 0, 1})
 * and 1/Σ mask. Shared by the forward and the gradient kernel so that they cannot disagree.
 */
function rowExcess(z: Values, r: Values, m: Values, off: number, K: number, o: LdiPenaltyAttrs, d: Float64Array, slope: Int8Array): number {
  let mean = 0;
  if (o.centred) {
    for (let k = 0; k < K; k++) mean += z[off + k] - r[off + k];
    mean /= K;
  }
  let count = 0;
  for (let k = 0; k < K; k++) {
    const diff = z[off + k] - r[off + k] - mean;
    const sign = o.oneSided ? 1 : diff > 0 ? 1 : diff < 0 ? -1 : 0;
    const excess = (o.oneSided ? diff : Math.abs(diff)) - o.xi;
    d[k] = excess > 0 ? excess : 0;
    slope[k] = excess > 0 ? sign : 0;
    count += m[off + k];
  }
  return 1 / count;
}

/** d^p and its derivative p·d^(p−1), as the composite path's square / identity / pow compute them. */
const powerOf = (d: number, p: number) => (p === 2 ? d * d : p === 1 ? d : Math.pow(d, p));
const powerSlope = (d: number, p: number) => (p === 2 ? 2 * d : p === 1 ? 1 : d > 0 ? p * Math.pow(d, p - 1) : 0);

/** Row i's penalty Σ_k mask_k·d_k^p / Σ_k mask_k (fills `d` and `slope` as rowExcess does). */
function rowPenalty(z: Values, r: Values, m: Values, off: number, K: number, o: LdiPenaltyAttrs, d: Float64Array, slope: Int8Array): number {
  const inv = rowExcess(z, r, m, off, K, o, d, slope);
  let s = 0;
  for (let k = 0; k < K; k++) if (m[off + k] !== 0) s += m[off + k] * powerOf(d[k], o.power);
  return s * inv;
}

/** `scale`·∂penalty_i/∂z into out[off…off+K) (`g` is scratch). */
function rowPenaltyGradient(scale: number, z: Values, r: Values, m: Values, off: number, K: number, o: LdiPenaltyAttrs, d: Float64Array, slope: Int8Array, g: Float64Array, out: Float32Array): void {
  const s = scale * rowExcess(z, r, m, off, K, o, d, slope);
  let mean = 0;
  for (let k = 0; k < K; k++) {
    g[k] = slope[k] === 0 ? 0 : s * m[off + k] * powerSlope(d[k], o.power) * slope[k];
    mean += g[k];
  }
  mean = o.centred ? mean / K : 0;
  for (let k = 0; k < K; k++) out[off + k] = g[k] - mean;
}

function valuesOf(backend: MathBackendCPU, t: tf.TensorInfo | undefined): Values {
  return backend.data.get(t!.dataId).values as Values;
}

/** LDI_PENALTY: the penalty of each row. */
function ldiPenaltyForward({ inputs, backend: b, attrs }: KArgs): tf.TensorInfo {
  const o = attrs as unknown as LdiPenaltyAttrs;
  const [rows, K] = inputs.logits!.shape;
  const z = valuesOf(b, inputs.logits), r = valuesOf(b, inputs.reference), m = valuesOf(b, inputs.mask);
  const out = allocF32(b, rows);
  const d = new Float64Array(K);
  const slope = new Int8Array(K);
  for (let i = 0; i < rows; i++) out[i] = rowPenalty(z, r, m, i * K, K, o, d, slope);
  return b.makeTensorInfo([rows], 'float32', out);
}

/** LDI_PENALTY_GRAD: ∂(Σ_i dy_i · loss_i)/∂z. */
function ldiPenaltyGradient({ inputs, backend: b, attrs }: KArgs): tf.TensorInfo {
  const o = attrs as unknown as LdiPenaltyAttrs;
  const [rows, K] = inputs.logits!.shape;
  const z = valuesOf(b, inputs.logits), r = valuesOf(b, inputs.reference), m = valuesOf(b, inputs.mask), dy = valuesOf(b, inputs.dy);
  const out = allocF32(b, rows * K);
  const d = new Float64Array(K);
  const slope = new Int8Array(K);
  const g = new Float64Array(K);
  for (let i = 0; i < rows; i++) rowPenaltyGradient(dy[i], z, r, m, i * K, K, o, d, slope, g, out);
  return b.makeTensorInfo([rows, K], 'float32', out);
}

/**
 * `(1 − α)·CE(y, z) + α·LDI(z_ldi, r)` per example as one op — LDI's training objective
 * (methods/ldiParams.ts) — so that the cross entropy, the penalty and their weighting cost one
 * kernel forward and one backward instead of a dozen ops. `ldiLogits` is `logits` itself, or the
 * dropout-free pass's logits (the inference-pass option). Native engine only: callers check
 * `ldiCrossEntropyFused` and compose core ops elsewhere.
 */
export const LDI_CROSS_ENTROPY = 'DistilleryLdiCrossEntropy';
export const LDI_CROSS_ENTROPY_GRAD = 'DistilleryLdiCrossEntropyGrad';

export interface LdiCrossEntropyAttrs extends LdiPenaltyAttrs {
  alpha: number;
}

/** Whether the fused objective serves these logits on the current backend. */
export function ldiCrossEntropyFused(logits: tf.Tensor): boolean {
  return logits.dtype === 'float32' && logits.rank === 2 && logits.size > 0 && useFusedOp(LDI_CROSS_ENTROPY);
}

/** (1 − α)·CE + α·LDI per row [b]; callers check `ldiCrossEntropyFused` first. */
export function ldiCrossEntropy(logits: tf.Tensor2D, ldiLogits: tf.Tensor2D, reference: tf.Tensor2D, mask: tf.Tensor2D, oneHot: tf.Tensor2D, o: LdiCrossEntropyAttrs): tf.Tensor1D {
  return tf.engine().runKernel(LDI_CROSS_ENTROPY, { logits, ldiLogits, reference, mask, oneHot }, { ...o } as unknown as tf.NamedAttrMap) as tf.Tensor1D;
}

/** log Σ exp(z) of one row, and the row's softmax into `p` when given. */
function logSumExp(z: Values, off: number, K: number, p?: Float64Array): number {
  let max = -Infinity;
  for (let k = 0; k < K; k++) if (z[off + k] > max) max = z[off + k];
  let s = 0;
  for (let k = 0; k < K; k++) {
    const e = Math.exp(z[off + k] - max);
    if (p) p[k] = e;
    s += e;
  }
  if (p) for (let k = 0; k < K; k++) p[k] /= s;
  return max + Math.log(s);
}

/** LDI_CROSS_ENTROPY: (1 − α)·CE(y, z) + α·LDI(z_ldi, r) of each row. */
function ldiCrossEntropyForward({ inputs, backend: b, attrs }: KArgs): tf.TensorInfo {
  const o = attrs as unknown as LdiCrossEntropyAttrs;
  const [rows, K] = inputs.logits!.shape;
  const z = valuesOf(b, inputs.logits), zl = valuesOf(b, inputs.ldiLogits), r = valuesOf(b, inputs.reference), m = valuesOf(b, inputs.mask), y = valuesOf(b, inputs.oneHot);
  const out = allocF32(b, rows);
  const d = new Float64Array(K);
  const slope = new Int8Array(K);
  for (let i = 0; i < rows; i++) {
    const off = i * K;
    const lse = logSumExp(z, off, K);
    let ce = 0;
    for (let k = 0; k < K; k++) if (y[off + k] !== 0) ce += y[off + k] * (lse - z[off + k]);
    out[i] = (1 - o.alpha) * ce + o.alpha * rowPenalty(zl, r, m, off, K, o, d, slope);
  }
  return b.makeTensorInfo([rows], 'float32', out);
}

/** LDI_CROSS_ENTROPY_GRAD: [∂/∂logits, ∂/∂ldiLogits] of Σ_i dy_i · loss_i. */
function ldiCrossEntropyGradient({ inputs, backend: b, attrs }: KArgs): tf.TensorInfo[] {
  const o = attrs as unknown as LdiCrossEntropyAttrs;
  const [rows, K] = inputs.logits!.shape;
  const z = valuesOf(b, inputs.logits), zl = valuesOf(b, inputs.ldiLogits), r = valuesOf(b, inputs.reference), m = valuesOf(b, inputs.mask), y = valuesOf(b, inputs.oneHot), dy = valuesOf(b, inputs.dy);
  const dz = allocF32(b, rows * K);
  const dzl = allocF32(b, rows * K);
  const d = new Float64Array(K);
  const slope = new Int8Array(K);
  const g = new Float64Array(K);
  const p = new Float64Array(K);
  for (let i = 0; i < rows; i++) {
    const off = i * K;
    logSumExp(z, off, K, p);
    let ySum = 0;
    for (let k = 0; k < K; k++) ySum += y[off + k];
    const ceScale = dy[i] * (1 - o.alpha);
    for (let k = 0; k < K; k++) dz[off + k] = ceScale * (ySum * p[k] - y[off + k]);
    rowPenaltyGradient(dy[i] * o.alpha, zl, r, m, off, K, o, d, slope, g, dzl);
  }
  return [b.makeTensorInfo([rows, K], 'float32', dz), b.makeTensorInfo([rows, K], 'float32', dzl)];
}

/** The penalty: its kernels (plain JS on the in-memory backend's arrays) and its gradient. */
export const ldiPenaltyOp: FusedOpConfig = {
  kernelName: LDI_PENALTY,
  kernels: [
    { kernelName: LDI_PENALTY, create: () => ldiPenaltyForward },
    { kernelName: LDI_PENALTY_GRAD, create: () => ldiPenaltyGradient },
  ],
  gradient: {
    kernelName: LDI_PENALTY,
    inputsToSave: ['logits', 'reference', 'mask'],
    gradFunc: (dy, saved, attrs) => {
      const [logits, reference, mask] = saved;
      const grad = () => tf.engine().runKernel(LDI_PENALTY_GRAD, { logits, reference, mask, dy: Array.isArray(dy) ? dy[0] : dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
      // the penalty depends on z − r only: the reference's gradient is the negated one
      return { logits: grad, reference: () => tf.neg(grad()), mask: () => tf.zerosLike(mask) };
    },
  },
};

/** LDI's training objective: its kernels (plain JS) and its gradient. */
export const ldiCrossEntropyOp: FusedOpConfig = {
  kernelName: LDI_CROSS_ENTROPY,
  kernels: [
    { kernelName: LDI_CROSS_ENTROPY, create: () => ldiCrossEntropyForward },
    { kernelName: LDI_CROSS_ENTROPY_GRAD, create: () => ldiCrossEntropyGradient },
  ],
  gradient: {
    kernelName: LDI_CROSS_ENTROPY,
    inputsToSave: ['logits', 'ldiLogits', 'reference', 'mask', 'oneHot'],
    gradFunc: (dy, saved, attrs) => {
      const [logits, ldiLogits, reference, mask, oneHot] = saved;
      // tfjs runs each input's thunk in its own tidy, so a result cannot be shared between them:
      // each thunk runs the (cheap, per-row) gradient kernel and keeps its own output
      const both = () => tf.engine().runKernel(LDI_CROSS_ENTROPY_GRAD, { logits, ldiLogits, reference, mask, oneHot, dy: Array.isArray(dy) ? dy[0] : dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      return {
        logits: () => both()[0],
        ldiLogits: () => both()[1],
        reference: () => tf.neg(both()[1]),
        mask: () => tf.zerosLike(mask),
        oneHot: () => tf.zerosLike(oneHot),
      };
    },
  },
};
