/**
 * An ONNX MLP as a Distillery network, so it can be the base model of an update or the
 * teacher of a transfer (training reads a tfjs network's logits inside its loops). The
 * graph must be a chain of dense layers: Gemm (or MatMul + Add), each hidden one followed
 * by the same activation (Relu or Tanh), optionally Flatten/Identity/Dropout, and an
 * optional final Softmax/LogSoftmax (dropped: the logits before it give the same
 * probabilities). The imported network is checked against onnxruntime on probe inputs
 * before it is used. compare, gate and predict run any ONNX model in onnxruntime instead.
 */
import * as tf from '@tensorflow/tfjs-core';
import { buildModel } from './build.js';
import type { MlpConfig } from './config.js';
import { loadOnnxModel, num, onnx, onnxLogits, onnxMetadata, readOnnxProto, type ModelProto } from './onnx.js';
import type { TrainedModel } from './types.js';
import { InputError } from '../util/errors.js';
import { LIBRARY_VERSION } from '../version.js';
import { predictLogits } from './predict.js';

type TensorProto = InstanceType<typeof onnx.TensorProto>;
type NodeProto = InstanceType<typeof onnx.NodeProto>;

interface DenseLayer {
  inputs: number;
  units: number;
  kernel: Float32Array; // [inputs, units]
  bias: Float32Array;
  activation?: 'relu' | 'tanh';
}

/** Relative tolerance of the check against onnxruntime (float32 sums in another order). */
export const ONNX_IMPORT_TOLERANCE = 1e-4;

function floats(t: TensorProto): Float32Array {
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) throw new Error(`initializer ${t.name} is not float32`);
  if (t.rawData && t.rawData.length) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(t.floatData);
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
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
    return a ? (a.type === onnx.AttributeProto.AttributeType.FLOAT ? a.f ?? fallback : num(a.i ?? fallback)) : fallback;
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
        layers.push({ inputs, units, kernel: transB ? transpose(w.data, r, c) : w.data, bias });
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

/** Probe inputs (fixed, standard-normal-like) for the import check. */
function probe(rows: number, d: number): Float32Array {
  const out = new Float32Array(rows * d);
  let s = 12345;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 4 - 2;
  }
  return out;
}

/** Loads an ONNX MLP as a Distillery network (TrainedModel), checked against onnxruntime. */
export async function importOnnxNetwork(file: string): Promise<TrainedModel> {
  const proto = await readOnnxProto(file);
  const meta = onnxMetadata(proto, file);
  const inputName = proto.graph!.input!.find((i) => !(proto.graph!.initializer ?? []).some((t) => t.name === i.name))!.name ?? '';
  let layers: DenseLayer[];
  try {
    layers = denseLayers(proto, inputName);
  } catch (e) {
    throw new InputError(file, `cannot be a training base or teacher: it is not an MLP Distillery can train from (${(e as Error).message}); compare, gate and predict run any ONNX model`);
  }
  const d = meta.inputShape.reduce((a, b) => a * b, 1);
  const hidden = layers.slice(0, -1);
  const K = meta.classNames.length;
  const activations = new Set(hidden.map((l) => l.activation));
  if (activations.size > 1 || hidden.some((l) => !l.activation) || layers[layers.length - 1].activation) {
    throw new InputError(file, 'cannot be a training base or teacher: its hidden layers need one activation (Relu or Tanh) each and the output layer none');
  }
  if (layers[0].inputs !== d || layers[layers.length - 1].units !== K || layers.some((l, i) => i > 0 && l.inputs !== layers[i - 1].units)) {
    throw new InputError(file, `its dense layers do not chain from ${d} inputs to ${K} classes`);
  }
  const architecture: MlpConfig = { kind: 'mlp', hidden: hidden.map((l) => l.units), activation: hidden[0]?.activation ?? 'relu' };
  const model = buildModel(architecture, meta.inputShape, K, 0);
  const dense = model.layers.filter((l) => l.getClassName() === 'Dense');
  dense.forEach((layer, i) => {
    const { inputs, units, kernel, bias } = layers[i];
    layer.setWeights([tf.tensor2d(kernel, [inputs, units]), tf.tensor1d(bias)]);
  });
  // the same numbers as onnxruntime, within float32 tolerance
  const rows = 32;
  const x = probe(rows, d);
  const runtime = await loadOnnxModel(file);
  try {
    const want = await onnxLogits(runtime, { features: x, featureShape: meta.inputShape });
    const got = predictLogits(model, x, meta.inputShape);
    const centre = (z: Float32Array, i: number) => {
      let m = 0;
      for (let k = 0; k < K; k++) m += z[i * K + k];
      return m / K;
    };
    for (let i = 0; i < rows; i++) {
      const a = centre(want, i);
      const b = centre(got, i);
      for (let k = 0; k < K; k++) {
        const u = want[i * K + k] - a;
        const v = got[i * K + k] - b;
        if (Math.abs(u - v) > ONNX_IMPORT_TOLERANCE * Math.max(1, Math.abs(u))) {
          model.dispose();
          throw new InputError(file, `imported as an MLP it does not reproduce onnxruntime's outputs (row ${i}, class ${k}: ${v} vs ${u})`);
        }
      }
    }
  } finally {
    await runtime.session.release();
  }
  return {
    model,
    meta: {
      format: 'distillery-model',
      formatVersion: 1,
      libraryVersion: LIBRARY_VERSION,
      architecture,
      inputShape: meta.inputShape,
      classNames: meta.classNames,
      preprocessing: meta.preprocessing,
      id: meta.id,
      recipe: { method: 'onnx', params: { file }, objective: 'unknown', objectiveParams: {}, training: { epochs: 0, batchSize: 0, optimizer: 'adam', learningRate: 0, patience: 0 }, trainExamples: 0, validationExamples: 0, exampleWeights: false },
      metrics: { epochsRun: 0, bestEpoch: 0 },
      seed: 0,
      createdAt: new Date().toISOString(),
    },
  };
}
