/**
 * A team's own tfjs network as a Distillery architecture (`{ kind: 'layers', topology }`).
 *
 * The architecture is the network's tfjs-layers topology (`model.toJSON(null, false)`), so a
 * deployed network of any layers tfjs-layers can serialise (Dense, Conv2D, BatchNormalization,
 * Dropout, pooling, Add, Concatenate, nested models, registered custom layers…) can be the
 * base of an update, the new model's architecture and the members of a reference ensemble.
 *
 * A fresh network of that architecture (buildLayersNetwork) is the topology with every random
 * initialiser seeded from the run's seed and the layer's place in the graph (the same seed
 * gives the same weights; different seeds unrelated ones), built by tfjs-layers with two
 * stand-ins that keep the saved form plain tfjs: Dense layers run as Distillery's fused dense
 * (bit for bit tfjs's Dense, models/denseLayer.ts) and Dropout layers draw seeded masks that
 * change from step to step (SeededDropout), so training is reproducible.
 *
 * Distillery trains and distils on logits. A network that ends in a softmax (a Dense with
 * activation softmax, an Activation('softmax') or a Softmax layer) is taken without it: its
 * logits are the inputs of that softmax (same predictions; softmax of them is the network's
 * output). A log-softmax output is used as it is (log-probabilities are logits). A network
 * that ends in a sigmoid gives independent per-class probabilities, not one distribution over
 * classes, and is refused.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayersConfig, LayersTopology } from './config.js';
import { deriveSeed, registerDistilleryLayers, SeededDropout } from './layers.js';
import { FusedDense } from './denseLayer.js';
import { InputError } from '../util/errors.js';

type Json = Record<string, any>;

/** Initialisers that draw random numbers (and take a `seed`). */
const RANDOM_INITIALIZERS = new Set([
  'VarianceScaling', 'GlorotUniform', 'GlorotNormal', 'HeNormal', 'HeUniform', 'LeCunNormal', 'LeCunUniform',
  'RandomUniform', 'RandomNormal', 'TruncatedNormal', 'Orthogonal',
]);

/** Layers that draw unseeded random numbers while training in tfjs (documented: training with them is not reproducible). */
export const UNSEEDED_RANDOM_LAYERS: readonly string[] = ['GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'SpatialDropout1D'];

/** Class names of models nested as layers. */
const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

/**
 * Builds with Distillery's stand-ins registered under tfjs's class names Dense and Dropout (same
 * saved form): tfjs-layers deserialises a topology synchronously inside `modelFromJSON` when no
 * weights come with it, so the registry is swapped for exactly that call and restored at once.
 * (tfjs's `customObjects` would be the documented way, but its Sequential.fromConfig drops them
 * for the layers it deserialises.) The callers check the classes they got.
 */
function withTrainingClasses<T>(build: () => Promise<T>): Promise<T> {
  const map = tf.serialization.SerializationMap.getMap().classNameMap as Record<string, unknown>;
  const saved = { Dense: map.Dense, Dropout: map.Dropout };
  map.Dense = [FusedDense, (FusedDense as unknown as { fromConfig: unknown }).fromConfig];
  map.Dropout = [SeededDropout, (SeededDropout as unknown as { fromConfig: unknown }).fromConfig];
  try {
    return build();
  } finally {
    map.Dense = saved.Dense;
    map.Dropout = saved.Dropout;
  }
}

/** Whether every Dense and Dropout layer of a freshly built network is Distillery's stand-in. */
function hasTrainingClasses(model: tfl.LayersModel): boolean {
  return allLayers(model).every((l) => (l.getClassName() === 'Dense' ? l instanceof FusedDense : l.getClassName() === 'Dropout' ? l instanceof SeededDropout : true));
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}

/** Every layer config of a topology, nested models' layers included, with a path naming each. */
function* walkLayers(topology: Json, prefix = ''): Generator<{ layer: Json; path: string }> {
  const layers: Json[] = Array.isArray(topology?.config?.layers) ? topology.config.layers : [];
  for (const [i, layer] of layers.entries()) {
    const name = String(layer?.config?.name ?? layer?.name ?? `layer_${i}`);
    const path = prefix ? `${prefix}/${name}` : name;
    yield { layer, path };
    if (MODEL_CLASSES.has(layer?.class_name)) yield* walkLayers(layer, path);
  }
}

/** The class names a topology uses (layers, nested models) that tfjs cannot deserialise. */
function unregisteredClasses(topology: Json): { path: string; className: string }[] {
  registerDistilleryLayers();
  const known = tf.serialization.SerializationMap.getMap().classNameMap;
  const out: { path: string; className: string }[] = [];
  for (const { layer, path } of walkLayers(topology)) {
    const cn = String(layer?.class_name);
    if (!(cn in known) && !MODEL_CLASSES.has(cn)) out.push({ path, className: cn });
  }
  return out;
}

/**
 * The architecture of `net`: the topology of its logits (a final softmax taken off, a sigmoid
 * refused: logitsTopology), checked to be one input → one [batch, K] output and to serialise
 * and deserialise in tfjs. `source` names the parameter or file in errors.
 */
export function layersArchitecture(net: tfl.LayersModel, source: string): LayersConfig {
  return { kind: 'layers', topology: logitsTopology(networkTopology(net, source), source).topology };
}

/** `net`'s topology as tfjs serialises it, checked as layersArchitecture says. */
export function networkTopology(net: tfl.LayersModel, source: string): LayersTopology {
  if (!net || typeof (net as { toJSON?: unknown }).toJSON !== 'function' || !Array.isArray((net as { layers?: unknown }).layers)) {
    throw new InputError(source, 'is not a tfjs-layers LayersModel (tf.sequential(), tf.model() or tf.loadLayersModel())');
  }
  if (net.inputs.length !== 1 || net.outputs.length !== 1) {
    throw new InputError(source, `has ${net.inputs.length} inputs and ${net.outputs.length} outputs; a classifier here takes one input tensor and returns one [batch, classes] tensor`);
  }
  const outShape = net.outputs[0].shape;
  if (outShape.length !== 2) throw new InputError(source, `returns a tensor of shape [${outShape.map((d) => d ?? 'batch').join(', ')}]; a classifier returns [batch, classes]`);
  for (const layer of allLayers(net)) {
    try {
      layer.getConfig();
    } catch (e) {
      throw new InputError(source, `layer "${layer.name}" (${layer.getClassName()}) cannot be serialised, so it cannot be copied for training or saved: ${firstLine(e)}`);
    }
  }
  let topology: LayersTopology;
  try {
    topology = net.toJSON(null, false) as unknown as LayersTopology;
  } catch (e) {
    throw new InputError(source, `cannot be serialised to a tfjs topology: ${firstLine(e)}`);
  }
  const missing = unregisteredClasses(topology);
  if (missing.length) {
    const m = missing[0];
    throw new InputError(source, `layer "${m.path}" is of class ${m.className}, which tfjs cannot rebuild from JSON; register it with tf.serialization.registerClass(${m.className}) (a custom layer needs a static className and getConfig())`);
  }
  return topology;
}

/** Every layer of a network, nested models' layers included. */
function allLayers(net: tfl.LayersModel): tfl.layers.Layer[] {
  const out: tfl.layers.Layer[] = [];
  for (const layer of net.layers) {
    out.push(layer);
    if (layer instanceof tfl.LayersModel) out.push(...allLayers(layer));
  }
  return out;
}

/** The config of the layer that produces a topology's output, and how to drop it. */
function outputLayer(topology: Json): { layer: Json; drop(): void } | undefined {
  const cfg = topology.config;
  const layers: Json[] = cfg?.layers ?? [];
  if (topology.class_name === 'Sequential') {
    const layer = layers[layers.length - 1];
    return layer && { layer, drop: () => void layers.pop() };
  }
  const out = cfg?.output_layers?.[0];
  const name = Array.isArray(out) ? out[0] : undefined;
  const index = layers.findIndex((l) => (l?.config?.name ?? l?.name) === name);
  if (index < 0) return undefined;
  const layer = layers[index];
  return {
    layer,
    drop: () => {
      const inbound = layer.inbound_nodes?.[0]?.[0];
      if (!Array.isArray(inbound)) throw new Error('its output layer has no input');
      cfg.output_layers = [[inbound[0], inbound[1], inbound[2]]];
      layers.splice(index, 1);
    },
  };
}

/** The activation a topology's output passes through last ('linear' when none). */
export function outputActivation(topology: LayersTopology): string {
  const out = outputLayer(topology as Json);
  if (!out) return 'linear';
  const { class_name: cn, config } = out.layer;
  if (cn === 'Softmax') return 'softmax';
  if (cn === 'Activation' || typeof config?.activation === 'string') return String(config?.activation ?? 'linear');
  return 'linear';
}

/**
 * The topology of the network's logits: a final softmax taken off (see the module comment),
 * a final sigmoid refused. `changed` says whether the topology differs from the given one
 * (its weights are the same, in the same order).
 */
export function logitsTopology(topology: LayersTopology, source: string): { topology: LayersTopology; changed: boolean; removed?: string } {
  const activation = outputActivation(topology);
  if (activation === 'linear' || activation === 'logSoftmax' || activation === 'log_softmax') return { topology, changed: false };
  if (activation !== 'softmax') {
    throw new InputError(
      source,
      `ends in a ${activation} activation; Distillery needs the network's class scores before any squashing (logits, one per class, whose softmax gives the class probabilities): end it in a Dense layer without activation${activation === 'sigmoid' ? ' (a sigmoid gives independent per-class probabilities, not one distribution over the classes)' : ''}`,
    );
  }
  const copy = clone(topology) as Json;
  const out = outputLayer(copy)!;
  const layer = out.layer;
  let removed: string;
  if (layer.class_name === 'Softmax' || layer.class_name === 'Activation') {
    removed = `its final ${layer.class_name} layer "${layer.config?.name}"`;
    try {
      out.drop();
    } catch (e) {
      throw new InputError(source, `ends in a softmax that cannot be taken off: ${firstLine(e)}`);
    }
  } else {
    removed = `the softmax activation of its final layer "${layer.config?.name}"`;
    layer.config.activation = 'linear';
  }
  return { topology: copy as LayersTopology, changed: true, removed };
}

/**
 * The topology with every random initialiser and every Dropout layer seeded from `seed` and its
 * place in the topology (its JSON path): what makes a fresh network reproducible.
 */
export function seededTopology(topology: LayersTopology, seed: number): LayersTopology {
  const copy = clone(topology) as Json;
  const visit = (node: unknown, path: string): void => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => visit(v, `${path}/${i}`));
      return;
    }
    if (!node || typeof node !== 'object') return;
    const obj = node as Json;
    if (typeof obj.class_name === 'string' && obj.config && typeof obj.config === 'object') {
      if (RANDOM_INITIALIZERS.has(obj.class_name) || obj.class_name === 'Dropout') obj.config.seed = deriveSeed(seed, path);
    }
    for (const [k, v] of Object.entries(obj)) visit(v, `${path}/${k}`);
  };
  visit(copy, '');
  return copy as LayersTopology;
}

/** The topology's input shape (without the batch dimension), when it states one. */
export function topologyInputShape(topology: LayersTopology): number[] | undefined {
  const cfg = (topology as Json).config;
  const layers: Json[] = cfg?.layers ?? [];
  const first = topology.class_name === 'Sequential' ? layers[0] : layers.find((l) => l?.class_name === 'InputLayer');
  const shape = first?.config?.batch_input_shape ?? first?.config?.batchInputShape;
  return Array.isArray(shape) ? shape.slice(1) : undefined;
}

/**
 * The topology with its output widened or narrowed to `numClasses`, when its output layer is a
 * Dense (an update whose data adds classes); undefined when the output is another layer.
 */
function withOutputWidth(topology: LayersTopology, numClasses: number): LayersTopology | undefined {
  const copy = clone(topology) as Json;
  const out = outputLayer(copy);
  if (!out || out.layer.class_name !== 'Dense') return undefined;
  out.layer.config.units = numClasses;
  return copy as LayersTopology;
}

/** A network of `topology` as tfjs builds it (`classes`: class stand-ins), or one clear error. */
export async function networkFromTopology(topology: LayersTopology, source: string): Promise<tfl.LayersModel> {
  registerDistilleryLayers();
  const missing = unregisteredClasses(topology as Json);
  if (missing.length) {
    const m = missing[0];
    throw new InputError(source, `layer "${m.path}" is of class ${m.className}, which is not registered with tfjs (tf.serialization.registerClass(${m.className}) before loading)`);
  }
  try {
    return await tfl.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] } as never);
  } catch (e) {
    throw new InputError(source, `cannot be built from its tfjs topology: ${firstLine(e)}`);
  }
}

/**
 * A fresh network of a `layers` architecture for examples of `inputShape` and `numClasses`
 * classes, seeded (see the module comment). The architecture's input shape must be the data's;
 * its output must have `numClasses` units, or be a Dense layer (then it gets `numClasses`).
 */
export async function buildLayersNetwork(config: LayersConfig, inputShape: number[], numClasses: number, seed: number): Promise<tfl.LayersModel> {
  const source = 'model architecture';
  if (!config || typeof config.topology !== 'object' || config.topology === null || typeof config.topology.class_name !== 'string') {
    throw new InputError(source, 'a layers architecture needs `topology`: a tfjs model topology ({class_name, config}, as model.toJSON(null, false) gives)');
  }
  // a topology written by hand (a config file) may still end in a softmax: train on its logits
  const topology = seededTopology(logitsTopology(config.topology, source).topology, seed);
  for (const { layer, path } of walkLayers(topology as Json)) {
    if (layer?.class_name === 'Dropout' && layer.config?.noise_shape != null) {
      throw new InputError(source, `layer "${path}": a Dropout with noise_shape is not supported for training (Distillery draws seeded element-wise masks)`);
    }
  }
  const model = await trainingNetwork(topology, source);
  const shape = model.inputs[0].shape.slice(1);
  if (shape.join('x') !== inputShape.join('x')) {
    model.dispose();
    throw new InputError(source, `the network takes inputs of shape [${shape.join(', ')}] but the data's examples have shape [${inputShape.join(', ')}]`);
  }
  const outShape = model.outputs[0].shape;
  const width = outShape[outShape.length - 1];
  if (width === numClasses) return model;
  model.dispose();
  const widened = withOutputWidth(topology, numClasses);
  if (!widened) throw new InputError(source, `the network outputs ${width} scores but there are ${numClasses} classes (its output layer is not a Dense layer whose width Distillery could set)`);
  return trainingNetwork(widened, source);
}

/** A network of `topology` with Distillery's Dense and Dropout (see withTrainingClasses). */
async function trainingNetwork(topology: LayersTopology, source: string): Promise<tfl.LayersModel> {
  const model = await withTrainingClasses(() => networkFromTopology(topology, source));
  if (!hasTrainingClasses(model)) {
    model.dispose();
    throw new Error('buildLayersNetwork: tfjs did not build the network with Distillery\'s Dense and Dropout layers (has tfjs-layers changed how it deserialises?)');
  }
  return model;
}

/** Parameters and activations per example of a built network (for the memory estimate). */
export function networkSize(model: tfl.LayersModel): { parameters: number; activationsPerExample: number } {
  let activations = 0;
  for (const layer of allLayers(model)) {
    if (layer instanceof tfl.LayersModel) continue;
    let shapes: unknown;
    try {
      shapes = layer.outputShape;
    } catch {
      continue; // a layer applied more than once has no single output shape
    }
    const list = Array.isArray((shapes as unknown[])[0]) ? (shapes as (number | null)[][]) : [shapes as (number | null)[]];
    for (const s of list) activations += s.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
  }
  return { parameters: model.countParams(), activationsPerExample: activations };
}
