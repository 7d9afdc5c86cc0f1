/**
 * Builds the three model families from their configs. Every model outputs logits (a final
 * Dense with linear activation). All randomness is seeded: each initialiser and dropout
 * layer gets `deriveSeed(seed, layerName)`, so the same seed gives bit-identical initial
 * weights and training-time dropout masks, and different seeds give unrelated ones.
 * Layers have fixed names, so weight names in a saved model.json are stable.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { BuiltinModelConfig, CnnConfig, MlpConfig, ModelConfig, TransformerConfig } from './config.js';
import { deriveSeed, LayerNorm, MaskedMeanPool, MultiHeadSelfAttention, PaddingMask, PositionEmbedding, registerDistilleryLayers, SeededDropout } from './layers.js';
import { InputError } from '../util/errors.js';
import { FusedDense } from './denseLayer.js';
import { buildLayersNetwork } from './layersNetwork.js';

const SOURCE = 'model config';

type Sym = tfl.SymbolicTensor;
type Activation = 'relu' | 'tanh' | 'gelu' | 'linear';

/**
 * A fresh, seeded network of any architecture: one of Distillery's families (buildModel) or a
 * team's own tfjs topology (`kind: 'layers'`, models/layersNetwork.ts), taking examples of
 * `inputShape` and returning logits [batch, numClasses].
 */
export async function buildNetwork(config: ModelConfig, inputShape: number[], numClasses: number, seed: number): Promise<tfl.LayersModel> {
  if (config?.kind === 'layers') return buildLayersNetwork(config, inputShape, numClasses, seed);
  return buildModel(config, inputShape, numClasses, seed);
}

/**
 * A fresh, seeded network for `config` taking examples of `inputShape` (without the batch
 * dimension) and returning logits [batch, numClasses]. Throws InputError (source
 * 'model config') for an invalid config or one that does not fit the input shape.
 */
export function buildModel(config: BuiltinModelConfig, inputShape: number[], numClasses: number, seed: number): tfl.LayersModel {
  registerDistilleryLayers();
  validateCommon(config, inputShape, numClasses, seed);
  const ctx: BuildContext = { seed, numClasses };
  switch (config.kind) {
    case 'mlp':
      return buildMlp(validateMlp(config), inputShape, ctx);
    case 'cnn':
      return buildCnn(validateCnn(config, inputShape), inputShape, ctx);
    case 'transformer':
      return buildTransformer(validateTransformer(config, inputShape), inputShape, ctx);
  }
}

/** Number of weights (trainable and not) in `model`. */
export function parameterCount(model: tfl.LayersModel): number {
  return model.countParams();
}

// ---------------------------------------------------------------------------------------
// Construction

interface BuildContext {
  seed: number;
  numClasses: number;
}

function apply(layer: tfl.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

function dense(ctx: BuildContext, x: Sym, units: number, activation: Activation, name: string): Sym {
  const layer = new FusedDense({
    units,
    activation,
    kernelInitializer: tfl.initializers.glorotUniform({ seed: deriveSeed(ctx.seed, name) }),
    biasInitializer: 'zeros',
    name,
  });
  return apply(layer, x);
}

function dropout(ctx: BuildContext, x: Sym, rate: number | undefined, name: string): Sym {
  return rate ? apply(new SeededDropout({ rate, seed: deriveSeed(ctx.seed, name), name }), x) : x;
}

function logits(ctx: BuildContext, x: Sym): Sym {
  return dense(ctx, x, ctx.numClasses, 'linear', 'logits');
}

function buildMlp(config: MlpConfig, inputShape: number[], ctx: BuildContext): tfl.LayersModel {
  const input = tfl.input({ shape: inputShape, name: 'features' });
  let x: Sym = inputShape.length > 1 ? apply(tfl.layers.flatten({ name: 'flatten' }), input) : input;
  config.hidden.forEach((units, i) => {
    x = dense(ctx, x, units, config.activation ?? 'relu', `dense_${i + 1}`);
    x = dropout(ctx, x, config.dropout, `dropout_${i + 1}`);
  });
  return tfl.model({ inputs: input, outputs: logits(ctx, x), name: 'mlp' });
}

function buildCnn(config: CnnConfig, inputShape: number[], ctx: BuildContext): tfl.LayersModel {
  const input = tfl.input({ shape: inputShape, name: 'images' });
  let x: Sym = input;
  config.conv.forEach((block, i) => {
    const name = `conv_${i + 1}`;
    const conv = tfl.layers.conv2d({
      filters: block.filters,
      kernelSize: block.kernel,
      padding: 'valid',
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: deriveSeed(ctx.seed, name) }),
      biasInitializer: 'zeros',
      name,
    });
    x = apply(conv, x);
    const pool = block.pool ?? 1;
    if (pool > 1) x = apply(tfl.layers.maxPooling2d({ poolSize: pool, strides: pool, padding: 'valid', name: `pool_${i + 1}` }), x);
  });
  x = apply(tfl.layers.flatten({ name: 'flatten' }), x);
  config.dense.forEach((units, i) => {
    x = dense(ctx, x, units, 'relu', `dense_${i + 1}`);
    x = dropout(ctx, x, config.dropout, `dropout_${i + 1}`);
  });
  return tfl.model({ inputs: input, outputs: logits(ctx, x), name: 'cnn' });
}

/**
 * Post-LN transformer encoder classifier: token + learned position embeddings, `layers`
 * blocks of [self-attention → dropout → residual → LayerNorm → Dense(ff, relu) →
 * Dense(dModel) → dropout → residual → LayerNorm], mean pool over non-padding tokens, logits.
 * Padding (token id 0) is never attended and never pooled, so what sits at padded
 * positions cannot change the output.
 */
function buildTransformer(config: TransformerConfig, inputShape: number[], ctx: BuildContext): tfl.LayersModel {
  const ids = tfl.input({ shape: inputShape, name: 'token_ids' });
  const mask = apply(new PaddingMask({ name: 'padding_mask' }), ids);
  const tokenEmbedding = tfl.layers.embedding({
    inputDim: config.vocabSize,
    outputDim: config.dModel,
    embeddingsInitializer: tfl.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: deriveSeed(ctx.seed, 'token_embedding') }),
    name: 'token_embedding',
  });
  let x = apply(tokenEmbedding, ids);
  x = apply(new PositionEmbedding({ maxLen: config.maxLen, seed: deriveSeed(ctx.seed, 'position_embedding'), name: 'position_embedding' }), x);
  x = dropout(ctx, x, config.dropout, 'embedding_dropout');
  const layerNorm = (name: string, y: Sym): Sym => apply(new LayerNorm({ epsilon: 1e-5, name }), y);
  const residual = (name: string, a: Sym, b: Sym): Sym => apply(tfl.layers.add({ name }), [a, b]);
  for (let l = 1; l <= config.layers; l++) {
    const p = `block${l}`;
    const attnLayer = new MultiHeadSelfAttention({ numHeads: config.heads, seed: deriveSeed(ctx.seed, `${p}_attention`), name: `${p}_attention` });
    let attn = apply(attnLayer, [x, mask]);
    attn = dropout(ctx, attn, config.dropout, `${p}_attention_dropout`);
    x = layerNorm(`${p}_attention_norm`, residual(`${p}_attention_residual`, x, attn));
    let ff = dense(ctx, x, config.ff, 'relu', `${p}_ff_1`);
    ff = dense(ctx, ff, config.dModel, 'linear', `${p}_ff_2`);
    ff = dropout(ctx, ff, config.dropout, `${p}_ff_dropout`);
    x = layerNorm(`${p}_ff_norm`, residual(`${p}_ff_residual`, x, ff));
  }
  const pooled = apply(new MaskedMeanPool({ name: 'mean_pool' }), [x, mask]);
  return tfl.model({ inputs: ids, outputs: logits(ctx, pooled), name: 'transformer' });
}

// ---------------------------------------------------------------------------------------
// Validation (configs may come straight from a user's YAML/JSON file)

function fail(problem: string): never {
  throw new InputError(SOURCE, problem);
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function positiveInt(v: unknown, field: string): number {
  if (!isPositiveInt(v)) fail(`${field} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function positiveInts(v: unknown, field: string): number[] {
  if (!Array.isArray(v)) fail(`${field} must be a list of positive integers, got ${JSON.stringify(v)}`);
  v.forEach((u, i) => positiveInt(u, `${field}[${i}]`));
  return v;
}

function dropoutRate(v: unknown, field = 'dropout'): void {
  if (v !== undefined && !(typeof v === 'number' && v >= 0 && v < 1)) fail(`${field} must be a number in [0, 1), got ${JSON.stringify(v)}`);
}

function knownKeys(obj: object, allowed: string[], where: string): void {
  const unknown = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) fail(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} in ${where} (allowed: ${allowed.join(', ')})`);
}

function shapeText(shape: number[]): string {
  return `[${shape.join(', ')}]`;
}

function validateCommon(config: BuiltinModelConfig, inputShape: number[], numClasses: number, seed: number): void {
  if (typeof config !== 'object' || config === null) fail('must be an object with a "kind"');
  const kind = (config as { kind?: unknown }).kind;
  if (kind === 'layers') fail('a layers architecture (a tfjs topology) is built by buildNetwork, which is asynchronous');
  if (kind !== 'mlp' && kind !== 'cnn' && kind !== 'transformer') fail(`unknown kind ${JSON.stringify(kind)}; use mlp, cnn, transformer or layers`);
  if (!Array.isArray(inputShape) || inputShape.length === 0 || !inputShape.every(isPositiveInt)) {
    fail(`input shape must be a non-empty list of positive integers, got ${JSON.stringify(inputShape)}`);
  }
  positiveInt(numClasses, 'number of classes');
  if (!Number.isInteger(seed)) fail(`seed must be an integer, got ${seed}`);
}

function validateMlp(c: MlpConfig): MlpConfig {
  knownKeys(c, ['kind', 'hidden', 'activation', 'dropout'], 'an mlp config');
  positiveInts(c.hidden, 'hidden');
  if (c.activation !== undefined && !['relu', 'tanh', 'gelu'].includes(c.activation)) fail(`activation must be relu, tanh or gelu, got ${JSON.stringify(c.activation)}`);
  dropoutRate(c.dropout);
  return c;
}

function validateCnn(c: CnnConfig, inputShape: number[]): CnnConfig {
  knownKeys(c, ['kind', 'conv', 'dense', 'dropout'], 'a cnn config');
  if (inputShape.length !== 3) fail(`a cnn needs images of shape [height, width, channels]; the data has shape ${shapeText(inputShape)}`);
  if (!Array.isArray(c.conv) || c.conv.length === 0) fail('conv must be a non-empty list of {filters, kernel, pool}');
  let [h, w] = inputShape;
  c.conv.forEach((block, i) => {
    const where = `conv[${i}]`;
    if (typeof block !== 'object' || block === null) fail(`${where} must be an object {filters, kernel, pool}`);
    knownKeys(block, ['filters', 'kernel', 'pool'], where);
    positiveInt(block.filters, `${where}.filters`);
    const k = positiveInt(block.kernel, `${where}.kernel`);
    const pool = block.pool === undefined ? 1 : positiveInt(block.pool, `${where}.pool`);
    if (k > h || k > w) fail(`${where}: kernel ${k} does not fit its ${h}×${w} input (input shape ${shapeText(inputShape)})`);
    [h, w] = [h - k + 1, w - k + 1];
    if (pool > h || pool > w) fail(`${where}: pool ${pool} does not fit its ${h}×${w} input (input shape ${shapeText(inputShape)})`);
    [h, w] = [Math.floor(h / pool), Math.floor(w / pool)];
  });
  positiveInts(c.dense, 'dense');
  dropoutRate(c.dropout);
  return c;
}

function validateTransformer(c: TransformerConfig, inputShape: number[]): TransformerConfig {
  knownKeys(c, ['kind', 'vocabSize', 'maxLen', 'dModel', 'heads', 'layers', 'ff', 'dropout', 'pool'], 'a transformer config');
  for (const field of ['vocabSize', 'maxLen', 'dModel', 'heads', 'layers', 'ff'] as const) positiveInt(c[field], field);
  if (c.dModel % c.heads !== 0) fail(`dModel (${c.dModel}) must be divisible by heads (${c.heads})`);
  dropoutRate(c.dropout);
  if (c.pool !== undefined && c.pool !== 'mean') fail(`pool must be "mean", got ${JSON.stringify(c.pool)}`);
  if (inputShape.length !== 1) fail(`a transformer needs token-id sequences of shape [length]; the data has shape ${shapeText(inputShape)}`);
  if (inputShape[0] > c.maxLen) fail(`sequences have length ${inputShape[0]} but maxLen is ${c.maxLen}`);
  return c;
}
