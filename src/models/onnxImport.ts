/**
 * An ONNX model as a Distillery network, so it can be the base model of an update or the
 * teacher of a transfer (training reads a tfjs network's logits inside its loops).
 *
 * A chain of dense layers (Gemm or MatMul + Add, each hidden one followed by the same
 * activation, Relu or Tanh, optionally Flatten/Identity/Dropout and a final Softmax/LogSoftmax)
 * is imported as Distillery's MLP family (`kind: 'mlp'`). Any other graph of the ops that
 * onnxGraphImport.ts lists (CNNs: Conv, BatchNormalization, pooling, residual Add, …) becomes a
 * tfjs functional network with the ONNX weights, and the model's architecture is that network's
 * topology (`kind: 'layers'`): an update trains a fresh network of the same architecture. A final
 * Softmax/LogSoftmax is dropped (the logits before it give the same probabilities). Images are
 * NHWC in Distillery whatever the graph's layout (onnx.ts); the ONNX file's input name, layout,
 * output name and scores are kept in the metadata (`onnxInterface`) for `distillery export`.
 *
 * The imported network is checked against onnxruntime on probe inputs before it is used.
 * compare, gate and predict run any ONNX model in onnxruntime instead.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildModel } from './build.js';
import type { MlpConfig } from './config.js';
import { loadOnnxModel, onnxLogits } from './onnx.js';
import { permuteAxes, type OnnxMetadata } from './onnxFormat.js';
import { num, onnxMetadata, onnxProto, readOnnxProto, type ModelProto, type NodeProto as OnnxNodeProto, type TensorProto as OnnxTensorProto } from './onnxProto.js';
import { GraphImportError, graphNetwork } from './onnxGraphImport.js';
import type { OnnxInterface, TrainedModel } from './types.js';
import { fromLayersModel } from './ownModel.js';
import { importedRecipe, networkMetadata } from './metadata.js';
import { InputError } from '../util/errors.js';
import { predictLogits } from './predict.js';

type TensorProto = OnnxTensorProto;
type NodeProto = OnnxNodeProto;

interface DenseLayer {
  inputs: number;
  units: number;
  kernel: Float32Array; // [inputs, units]
  bias: Float32Array;
  activation?: 'relu' | 'tanh';
}

/**
 * Tolerance of the check against onnxruntime, for MLPs and CNNs alike: every centred logit (a
 * per-row constant changes no probability) within this much of onnxruntime's, relative to the
 * row's largest centred logit (at least 1). Relative to the row rather than to each logit: a
 * logit near 0 carries the rounding of sums as large as the row's largest. Two float32 engines
 * sum in other orders, and onnxruntime folds BatchNormalization into the convolution weights
 * (its graph optimisation) where tfjs normalises separately; measured on the probes: letter
 * MLPs 3.9e-7, the Fashion-MNIST CNN 4.4e-7 (5.6e-7 on 1,000 test images). 1e-4 leaves a
 * margin of 200 for deeper networks and is far below what a wrong weight layout, a wrong
 * input layout or a missing op gives (differences of order 1).
 */
export const ONNX_IMPORT_TOLERANCE = 1e-4;

function floats(t: TensorProto): Float32Array {
  if (t.dataType !== onnxProto().TensorProto.DataType.FLOAT) throw new Error(`initializer ${t.name} is not float32`);
  if (t.rawData && t.rawData.length) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(t.floatData);
}


/** The graph as dense layers, or an Error saying which node does not fit. */
function denseLayers(m: ModelProto, inputName: string): DenseLayer[] {
  const graph = m.graph!;
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t as TensorProto] as const));
  const initOf = (name: string) => {
    const t = inits.get(name);
    if (!t) throw new Error(`"${name}" is not a constant`);
    return { data: floats(t), dims: t.dims.map(num) };
  };
  const attr = (node: NodeProto, name: string, fallback: number) => {
    const a = node.attribute?.find((x) => x.name === name);
    return a ? (a.type === onnxProto().AttributeProto.AttributeType.FLOAT ? a.f ?? fallback : num(a.i ?? fallback)) : fallback;
  };
  const layers: DenseLayer[] = [];
  let current = inputName;
  let pendingBias = false;
  const nodes = graph.node ?? [];
  for (let k = 0; k < nodes.length; k++) {
    const node = nodes[k] as NodeProto;
    const op = node.opType ?? '';
    const [x, ...rest] = node.input ?? [];
    if (x !== current) throw new Error(`node ${k} (${op}) does not continue the chain`);
    const last = layers[layers.length - 1];
    switch (op) {
      case 'Gemm': {
        if (attr(node, 'transA', 0) !== 0 || attr(node, 'alpha', 1) !== 1 || attr(node, 'beta', 1) !== 1) throw new Error('Gemm with transA, alpha or beta');
        const w = initOf(rest[0]);
        const transB = attr(node, 'transB', 0) === 1;
        const [r, c] = w.dims;
        const inputs = transB ? c : r;
        const units = transB ? r : c;
        const bias = rest[1] ? initOf(rest[1]).data : new Float32Array(units);
        if (bias.length !== units) throw new Error('Gemm bias does not match its weights');
        layers.push({ inputs, units, kernel: transB ? permuteAxes(w.data, [r, c], [1, 0]) : w.data, bias });
        break;
      }
      case 'MatMul': {
        const w = initOf(rest[0]);
        if (w.dims.length !== 2) throw new Error('MatMul with a non-matrix constant');
        layers.push({ inputs: w.dims[0], units: w.dims[1], kernel: w.data, bias: new Float32Array(w.dims[1]) });
        pendingBias = true;
        break;
      }
      case 'Add': {
        if (!pendingBias || !last) throw new Error('Add that is not the bias of a MatMul');
        const b = initOf(rest[0]).data;
        if (b.length !== last.units) throw new Error('Add bias does not match its MatMul');
        last.bias = b;
        pendingBias = false;
        break;
      }
      case 'Relu':
      case 'Tanh':
        if (!last || last.activation) throw new Error(`${op} not after a dense layer`);
        last.activation = op === 'Relu' ? 'relu' : 'tanh';
        break;
      case 'Flatten':
      case 'Identity':
      case 'Dropout':
        if (layers.length) throw new Error(`${op} between dense layers`);
        break;
      case 'Softmax':
      case 'LogSoftmax':
        if (k !== nodes.length - 1) throw new Error(`${op} before the last node`);
        break;
      default:
        throw new Error(`node ${k} is ${op}, not one of Gemm, MatMul, Add, Relu, Tanh, Flatten, Identity, Dropout, Softmax`);
    }
    if (op !== 'Softmax' && op !== 'LogSoftmax') current = node.output?.[0] ?? '';
  }
  if (!layers.length) throw new Error('no dense layers');
  return layers;
}

/** Probe inputs (fixed, uniform in [-2, 2)) for the import check. */
function probe(rows: number, d: number): Float32Array {
  const out = new Float32Array(rows * d);
  let s = 12345;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 4 - 2;
  }
  return out;
}

/**
 * The largest difference between two [rows, K] score matrices after centring each row (a
 * per-row constant does not change probabilities: log-probabilities are logits), relative to
 * the row's largest centred score (at least 1); and where it is.
 */
export function centredLogitDifference(want: Float32Array, got: Float32Array, K: number): { worst: number; row: number; k: number; want: number; got: number } {
  let out = { worst: 0, row: 0, k: 0, want: 0, got: 0 };
  for (let i = 0; i * K < want.length; i++) {
    let a = 0;
    let b = 0;
    for (let k = 0; k < K; k++) {
      a += want[i * K + k];
      b += got[i * K + k];
    }
    a /= K;
    b /= K;
    let scale = 1;
    for (let k = 0; k < K; k++) scale = Math.max(scale, Math.abs(want[i * K + k] - a));
    for (let k = 0; k < K; k++) {
      const u = want[i * K + k] - a;
      const v = got[i * K + k] - b;
      const diff = Math.abs(u - v) / scale;
      if (!(diff <= out.worst)) out = { worst: diff, row: i, k, want: u, got: v };
    }
  }
  return out;
}

/** The Dense layers of a chain as Distillery's MLP family, or undefined when the graph is not one. */
function mlpNetwork(proto: ModelProto, meta: OnnxMetadata): { model: tfl.LayersModel; architecture: MlpConfig } | undefined {
  // an MLP flattens NHWC images; an NCHW graph flattens C, H, W (the same order only for one channel)
  if (meta.layout === 'nchw' && meta.inputShape[2] !== 1) return undefined;
  let layers: DenseLayer[];
  try {
    layers = denseLayers(proto, meta.inputName);
  } catch {
    return undefined;
  }
  const d = meta.inputShape.reduce((a, b) => a * b, 1);
  const hidden = layers.slice(0, -1);
  const K = meta.classNames.length;
  const activations = new Set(hidden.map((l) => l.activation));
  if (activations.size > 1 || hidden.some((l) => !l.activation) || layers[layers.length - 1].activation) return undefined;
  if (layers[0].inputs !== d || layers[layers.length - 1].units !== K || layers.some((l, i) => i > 0 && l.inputs !== layers[i - 1].units)) return undefined;
  const architecture: MlpConfig = { kind: 'mlp', hidden: hidden.map((l) => l.units), activation: hidden[0]?.activation ?? 'relu' };
  const model = buildModel(architecture, meta.inputShape, K, 0);
  const dense = model.layers.filter((l) => l.getClassName() === 'Dense');
  dense.forEach((layer, i) => {
    const { inputs, units, kernel, bias } = layers[i];
    const weights = [tf.tensor2d(kernel, [inputs, units]), tf.tensor1d(bias)];
    layer.setWeights(weights);
    tf.dispose(weights);
  });
  return { model, architecture };
}

/** Loads an ONNX model as a Distillery network (TrainedModel), checked against onnxruntime. */
export async function importOnnxNetwork(file: string): Promise<TrainedModel> {
  const proto = await readOnnxProto(file);
  const meta = onnxMetadata(proto, file);
  const onnxInterface: OnnxInterface = { input: meta.inputName, layout: meta.layout, output: meta.outputName, scores: meta.output };
  const recipe = importedRecipe('onnx', { file });
  let trained: TrainedModel;
  const mlp = mlpNetwork(proto, meta);
  if (mlp) {
    trained = {
      model: mlp.model,
      meta: networkMetadata({ id: meta.id, engine: null, architecture: mlp.architecture, inputShape: meta.inputShape, classNames: meta.classNames, preprocessing: meta.preprocessing, recipe, metrics: { epochsRun: 0, bestEpoch: 0 }, seed: 0, onnxInterface }),
    };
  } else {
    let net: tfl.LayersModel;
    try {
      net = graphNetwork(proto, meta.inputName, meta.inputShape, meta.layout);
    } catch (e) {
      if (!(e instanceof GraphImportError)) throw e;
      throw new InputError(file, `cannot be a training base or teacher: Distillery cannot rebuild its graph as a tfjs network (${e.message}); compare, gate and predict run any ONNX model`);
    }
    let own: TrainedModel;
    try {
      own = await fromLayersModel(net, { preprocessing: meta.preprocessing, id: meta.id, source: file });
    } catch (e) {
      net.dispose();
      throw e;
    }
    if (own.model !== net) net.dispose();
    trained = { model: own.model, meta: { ...own.meta, recipe, onnxInterface } };
  }
  // the same numbers as onnxruntime, within float32 tolerance
  const K = meta.classNames.length;
  const d = meta.inputShape.reduce((a, b) => a * b, 1);
  const x = probe(32, d);
  const runtime = await loadOnnxModel(file);
  try {
    const want = await onnxLogits(runtime, { features: x, featureShape: meta.inputShape });
    const got = predictLogits(trained.model, x, meta.inputShape);
    const diff = centredLogitDifference(want, got, K);
    if (!(diff.worst <= ONNX_IMPORT_TOLERANCE)) {
      trained.model.dispose();
      throw new InputError(file, `imported as a tfjs network it does not reproduce onnxruntime's outputs (probe row ${diff.row}, class ${diff.k}: ${diff.got} vs ${diff.want}, centred)`);
    }
  } finally {
    await runtime.session.release();
  }
  return trained;
}
