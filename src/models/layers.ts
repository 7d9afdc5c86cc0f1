/**
 * Custom tfjs-layers layers for the transformer classifier (tfjs-layers has no attention
 * layer), plus a dropout whose masks are seeded yet differ from step to step.
 *
 * The transformer layers serialise under the class names in DISTILLERY_LAYER_CLASS_NAMES.
 * A saved transformer therefore loads in tfjs only after `registerDistilleryLayers()` has
 * run (importing this module runs it), as with any tfjs custom layer. MLPs and CNNs use
 * no custom class in their saved form and load in plain tfjs.
 *
 * Every layer computes with differentiable tfjs-core ops, so gradients flow through them
 * with any backend that has those ops' kernels; LayerNorm uses the engine's `layerNorm` op,
 * one registered kernel with its gradient on the native engine and core ops elsewhere.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Rng, type RngState } from '../util/rng.js';
import { layerNorm } from '../engine/layerNorm.js';
import { dropoutMultiplier } from '../engine/dropoutMask.js';
import { NativeBackend } from '../engine/nativeBackend.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
type Kwargs = Parameters<tfl.layers.Layer['call']>[1];
type Shape = tfl.Shape;
type ConfigDict = tf.serialization.ConfigDict;

/** Additive attention bias for padded keys: exp(-1e9 - max) is exactly 0 in float32. */
const MASKED_SCORE = -1e9;

/**
 * A 31-bit initialiser seed derived from `base` and `label`: the same pair always gives the
 * same seed, different labels give unrelated seeds (unlike `base + index`, which would make
 * seed 1's second layer equal seed 2's first). Never 0.
 */
export function deriveSeed(base: number, label: string | number): number {
  return new Rng(base).fork(label).seedInt() || 1;
}

function inputList(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(inputs) ? inputs : [inputs];
}

function shapeList(inputShape: Shape | Shape[]): Shape[] {
  return Array.isArray(inputShape[0]) ? (inputShape as Shape[]) : [inputShape as Shape];
}

function lastDim(shape: Shape, layer: string): number {
  const d = shape[shape.length - 1];
  if (d == null) throw new Error(`${layer}: the last input dimension must be known, got [${shape}]`);
  return d;
}

/**
 * Dropout with a seeded mask stream: the layer's seed starts an Rng, and each training call
 * draws a fresh mask seed from it. Same seed and same calls give the same masks, yet masks
 * change from step to step (tfjs's own Dropout with a `seed` repeats one mask every call).
 *
 * Saved as a standard tfjs `Dropout` (class name 'Dropout', no seed), so models with dropout
 * still load in plain tfjs; a loaded model gets tfjs's own Dropout, which differs only
 * during training (unseeded masks).
 */
export class SeededDropout extends tfl.layers.Layer {
  static className = 'Dropout';
  readonly rate: number;
  readonly seed: number;
  private masks: Rng;

  constructor(args: LayerArgs & { rate: number; seed: number }) {
    super(args);
    this.rate = args.rate;
    this.seed = args.seed;
    this.masks = new Rng(args.seed);
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  /** Where the mask stream stands (checkpoints), and continuing from there. */
  maskState(): RngState {
    return this.masks.state();
  }

  restoreMaskState(state: RngState): void {
    this.masks = this.masks.restore(state);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = inputList(inputs)[0];
    if (!kwargs?.training || this.rate === 0) return x;
    const maskSeed = this.masks.seedInt();
    if (x.dtype !== 'float32') return tf.tidy(() => tf.dropout(x, this.rate, undefined, maskSeed));
    // the mask's array from the backend's recycled buffers where it has them (the native engine)
    const backend = tf.backend();
    const mask = dropoutMultiplier(x.size, this.rate, maskSeed, backend instanceof NativeBackend ? (n) => backend.alloc(n) : undefined);
    return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape)));
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), rate: this.rate, noiseShape: null };
  }
}

/** Layers that add noise only while training: dropout (seeded or tfjs's own) and tfjs's noise layers. */
export const TRAINING_NOISE_LAYERS: readonly string[] = ['Dropout', 'SpatialDropout1D', 'GaussianDropout', 'GaussianNoise', 'AlphaDropout'];

/** The layers of `model` (nested models included) that add noise only while training. */
function noiseLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  return model.layers.flatMap((layer) =>
    layer instanceof tfl.LayersModel ? noiseLayers(layer) : TRAINING_NOISE_LAYERS.includes(layer.getClassName()) ? [layer] : [],
  );
}

/**
 * `model` applied to `x` as in training with dropout and noise layers off: the logits the
 * network will give at inference as far as dropout goes, while every other layer runs as in
 * training — batch normalisation normalises with the batch's statistics (as the training pass
 * does; its moving statistics lag behind early in training) and updates its moving averages
 * once more. For a network without batch normalisation this equals `training: false`. Gradients
 * flow through it. Dropout masks are not drawn, so the mask streams are not advanced.
 */
export function applyWithoutDropout(model: tfl.LayersModel, x: tf.Tensor): tf.Tensor {
  const layers = noiseLayers(model);
  const identity = (inputs: tf.Tensor | tf.Tensor[]) => inputList(inputs)[0];
  for (const layer of layers) Object.defineProperty(layer, 'call', { value: identity, configurable: true, writable: true });
  try {
    return model.apply(x, { training: true }) as tf.Tensor;
  } finally {
    for (const layer of layers) delete (layer as unknown as { call?: unknown }).call;
  }
}

/** Token ids [batch, seq] (0 = padding) → float mask [batch, seq]: 1 for tokens, 0 for padding. */
export class PaddingMask extends tfl.layers.Layer {
  static className = 'DistilleryPaddingMask';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return shapeList(inputShape)[0];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.cast(tf.notEqual(inputList(inputs)[0], 0), 'float32'));
  }
}

/**
 * Adds a learned position embedding to x [batch, seq, d]: a table of `maxLen` rows, of which
 * the first `seq` are used. Initialised uniformly in ±0.05 (seeded), like tfjs's Embedding.
 */
export class PositionEmbedding extends tfl.layers.Layer {
  static className = 'DistilleryPositionEmbedding';
  readonly maxLen: number;
  readonly seed: number;
  private table?: tfl.LayerVariable;

  constructor(args: LayerArgs & { maxLen: number; seed: number }) {
    super(args);
    this.maxLen = args.maxLen;
    this.seed = args.seed;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = shapeList(inputShape)[0];
    if (shape[1] != null && shape[1] > this.maxLen) {
      throw new Error(`${this.name}: sequences of length ${shape[1]} exceed maxLen ${this.maxLen}`);
    }
    const init = tfl.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: this.seed });
    this.table = this.addWeight('embeddings', [this.maxLen, lastDim(shape, this.name)], 'float32', init);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return shapeList(inputShape)[0];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = inputList(inputs)[0];
      const seq = x.shape[1]!;
      const table = this.table!.read();
      return tf.add(x, seq === this.maxLen ? table : tf.slice(table, [0, 0], [seq, -1]));
    });
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), maxLen: this.maxLen, seed: this.seed };
  }
}

/**
 * Multi-head self-attention over inputs [x [batch, seq, d], mask [batch, seq]]: per head,
 * softmax(q kᵀ / sqrt(d/heads)) v with padded keys (mask 0) never attended; heads are
 * concatenated and projected back to d. Output [batch, seq, d]. Query, key, value and output
 * projections are d×d kernels (Glorot-uniform, seeded per projection) with zero biases.
 *
 * Heads are laid out as [batch·heads, seq, d/heads] so attention is two batched 3-D matMuls
 * (the second operand of the first transposed in the kernel); only 4-D transposes are used.
 */
export class MultiHeadSelfAttention extends tfl.layers.Layer {
  static className = 'DistilleryMultiHeadSelfAttention';
  static readonly PROJECTIONS = ['query', 'key', 'value', 'output'] as const;
  readonly numHeads: number;
  readonly seed: number;
  private readonly kernels = new Map<string, { kernel: tfl.LayerVariable; bias: tfl.LayerVariable }>();

  constructor(args: LayerArgs & { numHeads: number; seed: number }) {
    super(args);
    this.numHeads = args.numHeads;
    this.seed = args.seed;
  }

  override build(inputShape: Shape | Shape[]): void {
    const d = lastDim(shapeList(inputShape)[0], this.name);
    if (d % this.numHeads !== 0) throw new Error(`${this.name}: width ${d} is not divisible by ${this.numHeads} heads`);
    for (const p of MultiHeadSelfAttention.PROJECTIONS) {
      const init = tfl.initializers.glorotUniform({ seed: deriveSeed(this.seed, p) });
      this.kernels.set(p, {
        kernel: this.addWeight(`${p}_kernel`, [d, d], 'float32', init),
        bias: this.addWeight(`${p}_bias`, [d], 'float32', tfl.initializers.zeros()),
      });
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return shapeList(inputShape)[0];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [x, mask] = inputList(inputs);
      if (!mask) throw new Error(`${this.name}: expects inputs [x, paddingMask]`);
      const [b, s, d] = x.shape as [number, number, number];
      const h = this.numHeads;
      const dh = d / h;
      const rows = tf.reshape(x, [b * s, d]);
      const project = (p: string, t: tf.Tensor): tf.Tensor => {
        const w = this.kernels.get(p)!;
        // one fused kernel (GEMM + bias): the same float32 sums as matMul then add
        return tf.fused.matMul({ a: t as tf.Tensor2D, b: w.kernel.read() as tf.Tensor2D, bias: w.bias.read() });
      };
      // [b·s, d] → [b·h, s, dh]
      const splitHeads = (t: tf.Tensor): tf.Tensor3D =>
        tf.reshape(tf.transpose(tf.reshape(t, [b, s, h, dh]), [0, 2, 1, 3]), [b * h, s, dh]);
      const q = splitHeads(tf.mul(project('query', rows), 1 / Math.sqrt(dh)));
      const k = splitHeads(project('key', rows));
      const v = splitHeads(project('value', rows));
      const scores = tf.reshape(tf.matMul(q, k, false, true), [b, h, s, s]);
      const keyBias = tf.reshape(tf.mul(tf.sub(1, mask), MASKED_SCORE), [b, 1, 1, s]);
      const weights = tf.reshape(tf.softmax(tf.add(scores, keyBias)), [b * h, s, s]);
      const context = tf.matMul(weights as tf.Tensor3D, v); // [b·h, s, dh]
      const merged = tf.reshape(tf.transpose(tf.reshape(context, [b, h, s, dh]), [0, 2, 1, 3]), [b * s, d]);
      return tf.reshape(project('output', merged), [b, s, d]);
    });
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), numHeads: this.numHeads, seed: this.seed };
  }
}

/** Mean over non-padding positions: [x [batch, seq, d], mask [batch, seq]] → [batch, d] (all-padding rows → 0). */
export class MaskedMeanPool extends tfl.layers.Layer {
  static className = 'DistilleryMaskedMeanPool';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const x = shapeList(inputShape)[0];
    return [x[0], x[2]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [x, mask] = inputList(inputs);
      if (!mask) throw new Error(`${this.name}: expects inputs [x, paddingMask]`);
      const total = tf.sum(tf.mul(x, tf.expandDims(mask, 2)), 1);
      const count = tf.maximum(tf.sum(mask, 1, true), 1);
      return tf.div(total, count);
    });
  }
}

/**
 * Layer normalisation over the last axis with a learned scale (gamma, init 1) and offset (beta,
 * init 0): the arithmetic of tfjs-layers' LayerNormalization(axis -1), computed by the engine's
 * `layerNorm` op (one native pass per direction on the native engine, core ops elsewhere)
 * instead of tfjs-layers' tiled batch-norm formulation (~4× the memory traffic).
 */
export class LayerNorm extends tfl.layers.Layer {
  static className = 'DistilleryLayerNorm';
  readonly epsilon: number;
  private gamma?: tfl.LayerVariable;
  private beta?: tfl.LayerVariable;

  constructor(args: LayerArgs & { epsilon?: number }) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-5;
  }

  override build(inputShape: Shape | Shape[]): void {
    const d = lastDim(shapeList(inputShape)[0], this.name);
    this.gamma = this.addWeight('gamma', [d], 'float32', tfl.initializers.ones());
    this.beta = this.addWeight('beta', [d], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return shapeList(inputShape)[0];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => layerNorm(inputList(inputs)[0], this.gamma!.read(), this.beta!.read(), this.epsilon));
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

const CUSTOM_LAYERS = [PaddingMask, PositionEmbedding, MultiHeadSelfAttention, MaskedMeanPool, LayerNorm];

/** Class names under which Distillery's custom layers appear in a saved model.json. */
export const DISTILLERY_LAYER_CLASS_NAMES: readonly string[] = CUSTOM_LAYERS.map((c) => c.className);

/**
 * Registers the custom layers with tfjs serialisation so saved transformers load (also in a
 * program that otherwise uses plain tfjs). Idempotent (registering a class again sets the same
 * entries); runs when this module is imported.
 */
export function registerDistilleryLayers(): void {
  for (const cls of CUSTOM_LAYERS) tf.serialization.registerClass(cls);
}

registerDistilleryLayers();
