/**
 * Optimizers for Distillery's trainers. `createOptimizer` returns the stock tfjs optimizer
 * on every engine except 'native', where Adam is a `NativeAdamOptimizer`: a subclass of
 * tf.AdamOptimizer (same class name 'Adam', same config, same weights layout, same
 * arithmetic) whose update runs as one fused native loop per variable instead of ~12 tfjs
 * ops, bit for bit the same float32 arithmetic (so a run gives the same numbers with either
 * optimizer). It updates the first/second moments in place and the variable in place when no other
 * tensor shares its buffer (else it writes a new buffer and assigns it, like tfjs does).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadAddon, type NativeAddon } from './addon.js';
import { NATIVE_BACKEND } from './nativeBackend.js';

type NamedGrads = Parameters<tf.AdamOptimizer['applyGradients']>[0];

interface OptVar {
  originalName: string;
  variable: tf.Variable;
}

/** The private state of tf.AdamOptimizer that the fused update works on. */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<OptVar | undefined>;
  accumulatedSecondMoment: Array<OptVar | undefined>;
}

interface TapeNode {
  gradient?: (dys: tf.Tensor[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  backend: { incRef(dataId: object): void };
  keep<T extends tf.Tensor>(t: T): T;
  makeTensorFromTensorInfo(info: { dataId: object; shape: number[]; dtype: tf.DataType }): tf.Tensor;
  saveTensorsForBackwardMode(tensors: tf.Tensor[]): tf.Tensor[];
}

/**
 * tfjs saves each recorded kernel's inputs/outputs for backprop as `keep(clone(t))`: a clone is
 * an Identity kernel plus a tape node of its own, ~25 per step of the main job's MLP — at batch 32
 * that dispatch costs as much as a layer's matMul. On the native engine a saved tensor is made
 * the way the Identity kernel makes it (one more reference to the same buffer), without the
 * dispatch and without the tape node. The tape node only matters to a gradient of a gradient
 * (nested `tf.grad` inside the loss), so nested forward passes (gradientDepth > 1) keep tfjs's clone.
 */
function withCheapSavedTensors<T>(eng: EngineInternals, run: () => T): T {
  if (tf.getBackend() !== NATIVE_BACKEND || Object.prototype.hasOwnProperty.call(eng, 'saveTensorsForBackwardMode')) return run();
  const tfjsSave = eng.saveTensorsForBackwardMode;
  eng.saveTensorsForBackwardMode = (tensors: tf.Tensor[]) => {
    if (eng.state.gradientDepth > 1) return tfjsSave.call(eng, tensors);
    return tensors.map((t) => {
      eng.backend.incRef(t.dataId);
      return eng.keep(eng.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }));
    });
  };
  try {
    return run();
  } finally {
    delete (eng as Partial<EngineInternals>).saveTensorsForBackwardMode;
  }
}

/**
 * Runs `compute` (which calls tfjs's engine.gradients on `f`) so that each tape node's output
 * gradients and saved forward tensors are disposed as soon as backpropagation has moved past
 * that node. tfjs itself keeps all of them until the whole backward pass ends, which doubles
 * a step's peak memory. Gradients and their order are unchanged: only tensors that no later
 * step of the backward pass can read are disposed (a node's output gradients are final when
 * the node is processed, and its saved tensors are private clones).
 */
function frugalGradients<T>(f: () => tf.Scalar, compute: (g: () => tf.Scalar) => T): T {
  const eng = tf.engine() as unknown as EngineInternals;
  if (eng.state.gradientDepth !== 0) return compute(f);
  let pending: { dys: tf.Tensor[]; saved: tf.Tensor[]; results: Set<tf.Tensor> } | undefined;
  const flush = (): void => {
    if (!pending) return;
    for (const t of pending.dys) if (t && !pending.results.has(t)) t.dispose();
    for (const t of pending.saved) t.dispose();
    pending = undefined;
  };
  const hooked = (): tf.Scalar => {
    const y = withCheapSavedTensors(eng, f);
    for (const node of eng.state.activeTape ?? []) {
      const orig = node.gradient;
      if (!orig) continue;
      node.gradient = (dys: tf.Tensor[]) => {
        flush();
        const thunks = orig(dys);
        const results = new Set<tf.Tensor>();
        pending = { dys: dys.slice(), saved: node.saved ?? [], results };
        const wrapped: Record<string, () => tf.Tensor> = {};
        for (const [name, thunk] of Object.entries(thunks)) {
          wrapped[name] = () => {
            const r = thunk();
            results.add(r);
            return r;
          };
        }
        return wrapped;
      };
    }
    return y;
  };
  try {
    return compute(hooked);
  } finally {
    pending = undefined;
  }
}

export class NativeAdamOptimizer extends tf.AdamOptimizer {
  /** Free each node's gradients and saved tensors as soon as backprop is past it (default on; DISTILLERY_FRUGAL_GRADIENTS=0 turns it off). */
  static frugalGradients = process.env.DISTILLERY_FRUGAL_GRADIENTS !== '0';

  override computeGradients(f: () => tf.Scalar, varList?: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
    if (!NativeAdamOptimizer.frugalGradients) return super.computeGradients(f, varList);
    return frugalGradients(f, (g) => super.computeGradients(g, varList));
  }

  override applyGradients(variableGradients: NamedGrads): void {
    const addon = loadAddon();
    if (!addon || tf.getBackend() !== NATIVE_BACKEND) {
      super.applyGradients(variableGradients);
      return;
    }
    fusedAdam(this, addon, variableGradients);
  }
}

/** Buffers written by the fused update (safe to update in place while unshared). */
const owned = new WeakSet<Float32Array>();

function values(b: MathBackendCPU, t: tf.Tensor): Float32Array | undefined {
  const v = b.data.get(t.dataId)?.values;
  return v instanceof Float32Array ? v : undefined;
}

function fusedAdam(opt: NativeAdamOptimizer, addon: NativeAddon, grads: NamedGrads): void {
  const self = opt as unknown as AdamState & { beta1: number; beta2: number; epsilon: number; learningRate: number };
  const b = tf.backend() as MathBackendCPU;
  const names = Array.isArray(grads) ? grads.map((g) => g.name) : Object.keys(grads);
  const acc1 = values(b, self.accBeta1)![0], acc2 = values(b, self.accBeta2)![0];
  const c1 = Math.fround(1 - acc1), c2 = Math.fround(1 - acc2);
  // tfjs computes `1 - beta` in double and rounds it once, as a scalar tensor
  const ob1 = Math.fround(1 - self.beta1), ob2 = Math.fround(1 - self.beta2);
  const registered = tf.engine().registeredVariables;
  names.forEach((name, i) => {
    const value = registered[name];
    if (self.accumulatedFirstMoment[i] == null) {
      self.accumulatedFirstMoment[i] = { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
    }
    if (self.accumulatedSecondMoment[i] == null) {
      self.accumulatedSecondMoment[i] = { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
    }
    const gradient = Array.isArray(grads) ? grads[i].tensor : grads[name];
    if (gradient == null) return;
    const m = self.accumulatedFirstMoment[i]!.variable, v = self.accumulatedSecondMoment[i]!.variable;
    const gv = values(b, gradient), xv = values(b, value), mv = values(b, m), vv = values(b, v);
    if (!gv || !xv || !mv || !vv || gv.length !== xv.length) {
      // unusual dtype/backend state: the stock arithmetic for this one variable
      stockStep(self, value, gradient, m, v, c1, c2);
      return;
    }
    // In place only on buffers this optimizer allocated and nothing else references.
    const own = (t: tf.Tensor): boolean => b.refCount(t.dataId) === 1 && owned.has(values(b, t)!);
    const outX = own(value) ? xv : new Float32Array(xv.length);
    const outM = own(m) ? mv : new Float32Array(mv.length);
    const outV = own(v) ? vv : new Float32Array(vv.length);
    addon.adam(xv, mv, vv, gv, outX, outM, outV, self.learningRate, self.beta1, self.beta2, self.epsilon, c1, c2, ob1, ob2);
    for (const [t, out, old] of [[value, outX, xv], [m, outM, mv], [v, outV, vv]] as const) {
      if (out !== old) {
        owned.add(out);
        const fresh = tf.tensor(out, t.shape, 'float32');
        t.assign(fresh);
        fresh.dispose();
      }
    }
  });
  // accBeta *= beta, as float32 like tfjs
  const n1 = Math.fround(acc1 * Math.fround(self.beta1)), n2 = Math.fround(acc2 * Math.fround(self.beta2));
  const a1 = values(b, self.accBeta1)!, a2 = values(b, self.accBeta2)!;
  if (b.refCount(self.accBeta1.dataId) === 1 && b.refCount(self.accBeta2.dataId) === 1) {
    a1[0] = n1;
    a2[0] = n2;
  } else {
    tf.tidy(() => {
      self.accBeta1.assign(tf.scalar(n1));
      self.accBeta2.assign(tf.scalar(n2));
    });
  }
  (opt as unknown as { incrementIterations(): void }).incrementIterations();
}

function stockStep(
  self: { beta1: number; beta2: number; epsilon: number; learningRate: number },
  value: tf.Variable, gradient: tf.Tensor, m: tf.Variable, v: tf.Variable, c1: number, c2: number,
): void {
  tf.tidy(() => {
    const newM = tf.add(tf.mul(m, self.beta1), tf.mul(gradient, 1 - self.beta1));
    const newV = tf.add(tf.mul(v, self.beta2), tf.mul(tf.square(gradient), 1 - self.beta2));
    const mh = tf.div(newM, c1), vh = tf.div(newV, c2);
    m.assign(newM);
    v.assign(newV);
    value.assign(tf.add(tf.mul(tf.div(mh, tf.add(tf.sqrt(vh), self.epsilon)), -self.learningRate), value));
  });
}

export interface OptimizerSpec {
  kind: 'adam' | 'sgd' | 'momentum';
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  momentum?: number;
}

/**
 * The optimizer Distillery's trainers should use: identical in behaviour to tf.train.adam /
 * sgd / momentum, and fused on the native engine.
 */
export function createOptimizer(spec: OptimizerSpec): tf.Optimizer {
  if (spec.kind === 'sgd') return tf.train.sgd(spec.learningRate);
  if (spec.kind === 'momentum') return tf.train.momentum(spec.learningRate, spec.momentum ?? 0.9);
  const beta1 = spec.beta1 ?? 0.9, beta2 = spec.beta2 ?? 0.999;
  // Frugal backprop helps every backend (it only frees tensors earlier); the fused update
  // applies on the native engine, the stock update elsewhere.
  return new NativeAdamOptimizer(spec.learningRate, beta1, beta2, spec.epsilon);
}

/** An optimizer's state (iteration count, slots such as Adam's moments), exactly, for checkpoints. */
export interface OptimizerState {
  iterations: number;
  slots: { name: string; shape: number[]; values: Float32Array }[];
  /** Adam's running β₁ᵗ and β₂ᵗ, kept as float32 (tfjs's setWeights would recompute them as powers, which differ in the last bit). */
  accBeta?: [number, number];
}

interface AdamAccumulators {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

function isAdam(opt: tf.Optimizer): opt is tf.AdamOptimizer {
  return opt instanceof tf.AdamOptimizer;
}

/** Reads `opt`'s state (see OptimizerState). */
export async function optimizerState(opt: tf.Optimizer): Promise<OptimizerState> {
  const weights = await opt.getWeights();
  const iterations = (await weights[0].tensor.data())[0];
  const slots = weights.slice(1).map((w) => ({ name: w.name, shape: w.tensor.shape.slice(), values: Float32Array.from(w.tensor.dataSync() as Float32Array) }));
  weights[0].tensor.dispose();
  const state: OptimizerState = { iterations, slots };
  if (isAdam(opt)) {
    const a = opt as unknown as AdamAccumulators;
    state.accBeta = [a.accBeta1.dataSync()[0], a.accBeta2.dataSync()[0]];
  }
  return state;
}

/** Puts `state` (from optimizerState of an optimizer of the same kind and variables) into `opt`. */
export async function restoreOptimizerState(opt: tf.Optimizer, state: OptimizerState): Promise<void> {
  const iter = tf.scalar(state.iterations, 'int32');
  const slots = state.slots.map((s) => ({ name: s.name, tensor: tf.tensor(s.values, s.shape, 'float32') }));
  await opt.setWeights([{ name: 'iter', tensor: iter }, ...slots]);
  iter.dispose();
  slots.forEach((s) => s.tensor.dispose());
  if (isAdam(opt) && state.accBeta) {
    const a = opt as unknown as AdamAccumulators;
    tf.tidy(() => {
      a.accBeta1.assign(tf.scalar(state.accBeta![0]));
      a.accBeta2.assign(tf.scalar(state.accBeta![1]));
    });
  }
}
