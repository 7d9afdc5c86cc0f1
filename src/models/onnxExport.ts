/**
 * ONNX models out: a Distillery network as an ONNX file (opset 13) built from its tfjs graph
 * and weights, with the metadata that Distillery's ONNX reader (onnx.ts) needs, so the file
 * serves in onnxruntime and back in Distillery.
 *
 * The tfjs graph is walked from its output through the layers' inbound nodes (a functional or
 * sequential network; a nested model, such as each member of an averaged ensemble, is walked as
 * its own graph). Each layer becomes ONNX nodes: Dense → Gemm (MatMul + Add on inputs of rank
 * > 2); Conv2D → Conv and DepthwiseConv2D → Conv with group (kernels HWIO → OIHW; 'same'
 * padding as explicit pads, strides, dilations); BatchNormalization → BatchNormalization
 * (inference statistics); MaxPooling2D/AveragePooling2D → MaxPool/AveragePool;
 * GlobalAveragePooling2D/GlobalMaxPooling2D → GlobalAveragePool/GlobalMaxPool + Flatten (or
 * ReduceMean/ReduceMax over an NHWC tensor); ZeroPadding2D → Pad; Flatten, Reshape; Permute →
 * nothing or one Transpose; Add/Average/Multiply/Maximum/Minimum/Subtract → Add or Sum/Mean/Mul/
 * Max/Min/Sub; Concatenate → Concat; Activation, ReLU, LeakyReLU, ELU, Softmax layers and the
 * activation of Dense/Conv layers (linear, relu, relu6, elu, selu, sigmoid, hardSigmoid, tanh,
 * softplus, softsign, swish, mish, gelu, softmax, logSoftmax); Dropout and noise
 * layers are the identity at inference. Anything else is refused with the layer named.
 *
 * Layouts. tfjs tensors are NHWC; ONNX's Conv, pooling and BatchNormalization are NCHW. Each
 * tensor of the ONNX graph is a permutation of its tfjs tensor (`perm`: ONNX axis i holds tfjs
 * axis perm[i]); an op that needs another order gets one Transpose (shared by every op that
 * needs it), so a stack of convolutions runs in NCHW throughout, and a tfjs Permute costs
 * nothing where it undoes one (the Permute before Flatten of a network imported from PyTorch).
 * The graph input is NHWC ([batch, h, w, c], as Distillery's data), or NCHW where the model's
 * metadata says that the ONNX file it came from took NCHW (ModelMetadata.onnxInterface, kept by
 * its updates: the export is then a drop-in replacement of that file: same input name and
 * layout, same output name, a final Softmax where that file gave probabilities).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { permuteAxes, ONNX_LAYOUT_KEY, ONNX_OUTPUT_KEY, ONNX_PREPROCESSING_KEY } from './onnxFormat.js';
import { onnxProto } from './onnxProto.js';
import type { TrainedModel } from './types.js';
import { InputError } from '../util/errors.js';
import { LIBRARY_VERSION } from '../version.js';

export const ONNX_OPSET = 13;
const FLOAT = 1;
const INT64 = 7;
const ATTR = () => onnxProto('exporting to ONNX').AttributeProto.AttributeType;
/** Names the producer first in the file (after ir_version), so the output policy can tell our exports. */
export const ONNX_PRODUCER = 'distillery';

type Attr = { name: string; i?: number; f?: number; ints?: number[]; type: number };
type Node = { opType: string; input: string[]; output: string[]; name: string; attribute: Attr[] };
type Initializer = { name: string; dims: number[]; dataType: number; rawData: Uint8Array };
type Layer = tfl.layers.Layer;
type Sym = tfl.SymbolicTensor;

const ints = (name: string, v: number[]): Attr => ({ name, ints: v, type: ATTR().INTS });
const int = (name: string, v: number): Attr => ({ name, i: v, type: ATTR().INT });
const float = (name: string, v: number): Attr => ({ name, f: v, type: ATTR().FLOAT });

/** A tensor of the ONNX graph: a permutation of a tfjs tensor (ONNX axis i holds tfjs axis perm[i]). */
interface Value {
  name: string;
  perm: number[];
  /** The tfjs tensor's shape (batch null). */
  shape: (number | null)[];
}

export interface ExportOptions {
  /** What errors name (default "exportOnnx model"): the CLI passes its flag. */
  source?: string;
  /** A title for the graph (default: the architecture's kind). */
  graphName?: string;
}

const identity = (rank: number) => Array.from({ length: rank }, (_, i) => i);
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
const inverse = (p: number[]) => {
  const q = new Array<number>(p.length);
  p.forEach((v, i) => (q[v] = i));
  return q;
};
/** NCHW in ONNX of an NHWC tfjs tensor. */
const NCHW = [0, 3, 1, 2];

function floatBytes(data: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return bytes;
}

function int64Bytes(data: number[]): Uint8Array {
  const bytes = new Uint8Array(data.length * 8);
  const view = new DataView(bytes.buffer);
  data.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return bytes;
}

/** tfjs conv kernel [kh, kw, in, out] → ONNX [out, in, kh, kw]. */
const oihw = (k: Float32Array, shape: number[]): Float32Array => permuteAxes(k, shape, [3, 2, 0, 1]);

const pair = (v: unknown): number[] => (Array.isArray(v) ? (v.length === 1 ? [v[0], v[0]] : v.slice(0, 2)) : [v as number, v as number]);

/** tfjs's 'same' pads [top, left, bottom, right] (the odd one at the end). */
function samePads(size: number[], k: number[], s: number[], d: number[]): number[] {
  const total = size.map((n, i) => Math.max((Math.ceil(n / s[i]) - 1) * s[i] + (k[i] - 1) * d[i] + 1 - n, 0));
  return [Math.floor(total[0] / 2), Math.floor(total[1] / 2), total[0] - Math.floor(total[0] / 2), total[1] - Math.floor(total[1] / 2)];
}

const isModel = (layer: Layer): layer is tfl.LayersModel => layer instanceof tfl.LayersModel;

class Exporter {
  readonly nodes: Node[] = [];
  readonly initializers: Initializer[] = [];
  private readonly used = new Set<string>();
  private readonly transposed = new Map<string, Value>();
  private readonly weightNames = new Map<Layer, string[]>();
  private readonly scalars = new Map<number, string>();

  constructor(private readonly source: string, reserved: string[]) {
    for (const n of reserved) this.used.add(n);
  }

  fail(problem: string): never {
    throw new InputError(this.source, problem);
  }

  unique(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./-]+/g, '_') || 't';
    let name = clean;
    for (let k = 2; this.used.has(name); k++) name = `${clean}_${k}`;
    this.used.add(name);
    return name;
  }

  emit(opType: string, input: string[], attribute: Attr[], base: string): string {
    const out = this.unique(base);
    this.nodes.push({ opType, input, output: [out], name: out, attribute });
    return out;
  }

  floatInit(base: string, dims: number[], data: ArrayLike<number>): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims, dataType: FLOAT, rawData: floatBytes(data) });
    return name;
  }

  intInit(base: string, data: number[]): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims: [data.length], dataType: INT64, rawData: int64Bytes(data) });
    return name;
  }

  scalar(v: number): string {
    let name = this.scalars.get(v);
    if (!name) {
      name = this.unique(`const_${String(v).replace(/[^0-9a-z]/gi, '_')}`);
      this.initializers.push({ name, dims: [], dataType: FLOAT, rawData: floatBytes([v]) });
      this.scalars.set(v, name);
    }
    return name;
  }

  /** A layer's weights as initializers (once per layer, however often it is applied). */
  weights(layer: Layer, scope: string, parts: [string, number[], ArrayLike<number>][]): string[] {
    const done = this.weightNames.get(layer);
    if (done) return done;
    const names = parts.map(([suffix, dims, data]) => this.floatInit(`${scope}${layer.name}.${suffix}`, dims, data));
    this.weightNames.set(layer, names);
    return names;
  }

  /** `v` with ONNX axis i holding tfjs axis perm[i] (one Transpose, shared, when it is held otherwise). */
  held(v: Value, perm: number[]): Value {
    if (same(v.perm, perm)) return v;
    const key = `${v.name}:${perm.join(',')}`;
    const done = this.transposed.get(key);
    if (done) return done;
    const inv = inverse(v.perm);
    const t = perm.map((axis) => inv[axis]);
    const out: Value = { name: this.emit('Transpose', [v.name], [ints('perm', t)], `${v.name}_${perm.join('')}`), perm, shape: v.shape };
    this.transposed.set(key, out);
    return out;
  }

  /** The ONNX tensor's memory order is the tfjs tensor's (axes of size 1 aside). */
  inOrder(v: Value): boolean {
    const axes = v.perm.filter((a) => a === 0 || v.shape[a] !== 1);
    return axes.every((a, i) => i === 0 || a > axes[i - 1]);
  }

  activation(x: Value, act: string, base: string, where: string): Value {
    const f = (op: string, inputs: string[], attrs: Attr[] = [], suffix = act) => this.emit(op, inputs, attrs, `${base}_${suffix}`);
    const v = (name: string): Value => ({ ...x, name });
    const last = () => int('axis', x.perm.indexOf(x.shape.length - 1));
    switch (act) {
      case 'linear':
        return x;
      case 'relu':
        return v(f('Relu', [x.name]));
      case 'relu6':
        return v(f('Clip', [x.name, this.scalar(0), this.scalar(6)]));
      case 'elu':
        return v(f('Elu', [x.name]));
      case 'selu':
        return v(f('Selu', [x.name]));
      case 'sigmoid':
        return v(f('Sigmoid', [x.name]));
      case 'hardSigmoid':
        return v(f('HardSigmoid', [x.name], [float('alpha', 0.2), float('beta', 0.5)]));
      case 'tanh':
        return v(f('Tanh', [x.name]));
      case 'softplus':
        return v(f('Softplus', [x.name]));
      case 'softsign':
        return v(f('Softsign', [x.name]));
      case 'softmax':
        return v(f('Softmax', [x.name], [last()]));
      case 'logSoftmax':
        return v(f('LogSoftmax', [x.name], [last()]));
      case 'swish':
        return v(f('Mul', [x.name, f('Sigmoid', [x.name], [], 'swish_sigmoid')]));
      case 'mish':
        return v(f('Mul', [x.name, f('Tanh', [f('Softplus', [x.name], [], 'mish_softplus')], [], 'mish_tanh')]));
      case 'gelu': {
        // x · ½(1 + erf(x / √2)), as tfjs computes it
        const erf = f('Erf', [f('Div', [x.name, this.scalar(Math.SQRT2)], [], 'gelu_scaled')], [], 'gelu_erf');
        return v(f('Mul', [x.name, f('Mul', [this.scalar(0.5), f('Add', [erf, this.scalar(1)], [], 'gelu_1p')], [], 'gelu_half')]));
      }
      default:
        this.fail(`${where}: activation ${act} has no ONNX export here`);
    }
  }

  /** The outputs of `model` applied to `inputs` (values of its inputs, in order). */
  model(model: tfl.LayersModel, inputs: Value[], scope: string): Value[] {
    if (model.inputs.length !== inputs.length) this.fail(`model "${scope}${model.name}" takes ${model.inputs.length} inputs, given ${inputs.length}`);
    const computed = new Map<Layer, Map<number, Value[]>>();
    const put = (layer: Layer, node: number, values: Value[]) => {
      if (!computed.has(layer)) computed.set(layer, new Map());
      computed.get(layer)!.set(node, values);
    };
    model.inputs.forEach((sym, i) => put(sym.sourceLayer, sym.nodeIndex, [inputs[i]]));
    const resolve = (layer: Layer, nodeIndex: number): Value[] => {
      const done = computed.get(layer)?.get(nodeIndex);
      if (done) return done;
      const node = layer.inboundNodes[nodeIndex];
      if (!node) this.fail(`layer "${scope}${layer.name}" is not connected to the model's input`);
      const args = node.inboundLayers.map((l, i) => resolve(l, node.nodeIndices[i])[node.tensorIndices[i]]);
      const out = this.layer(layer, args, node.outputTensors, scope);
      put(layer, nodeIndex, out);
      return out;
    };
    return model.outputs.map((sym: Sym) => resolve(sym.sourceLayer, sym.nodeIndex)[sym.tensorIndex]);
  }

  /** The ONNX nodes of one layer applied to `inputs`. */
  private layer(layer: Layer, inputs: Value[], outputs: Sym[], scope: string): Value[] {
    if (isModel(layer)) return this.model(layer, inputs, `${scope}${layer.name}/`);
    const cls = layer.getClassName();
    const where = `layer "${scope}${layer.name}" (${cls})`;
    const cfg = layer.getConfig() as Record<string, any>;
    const base = `${scope}${layer.name}`;
    const outShape = outputs[0].shape as (number | null)[];
    const w = () => layer.getWeights().map((t) => ({ data: t.dataSync() as Float32Array, shape: t.shape }));
    const x = inputs[0];
    const rank = x?.shape.length ?? 0;
    const channelsLast = () => {
      if (cfg.dataFormat && cfg.dataFormat !== 'channelsLast') this.fail(`${where}: data format ${cfg.dataFormat}; Distillery exports channelsLast layers`);
    };
    const image = () => {
      if (rank !== 4) this.fail(`${where}: input of rank ${rank}, expected [batch, height, width, channels]`);
      channelsLast();
      return this.held(x, NCHW);
    };
    const out = (name: string, perm: number[]): Value[] => [{ name, perm, shape: outShape }];
    switch (cls) {
      case 'InputLayer':
        return inputs;
      case 'Dropout':
      case 'SpatialDropout1D':
      case 'SpatialDropout2D':
      case 'GaussianNoise':
      case 'GaussianDropout':
      case 'AlphaDropout':
        return [{ ...x, shape: outShape }];
      case 'Dense': {
        const [kernel, bias] = w();
        const [cin, units] = kernel.shape;
        const [k, b] = this.weights(layer, scope, [['kernel', [cin, units], kernel.data], ...(bias ? [['bias', [units], bias.data] as [string, number[], Float32Array]] : [])]);
        let y: string;
        if (rank === 2) {
          y = this.emit('Gemm', [x.name, k, ...(b ? [b] : [])], [], `${base}_linear`);
        } else {
          const flat = this.held(x, identity(rank));
          y = this.emit('MatMul', [flat.name, k], [], `${base}_matmul`);
          if (b) y = this.emit('Add', [y, b], [], `${base}_linear`);
        }
        return [this.activation({ name: y, perm: identity(outShape.length), shape: outShape }, String(cfg.activation ?? 'linear'), base, where)];
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const xi = image();
        const depthwise = cls === 'DepthwiseConv2D';
        const [kernel, bias] = w();
        const [kh, kw, cin, m] = kernel.shape;
        const cout = depthwise ? cin * m : m;
        const strides = pair(cfg.strides ?? 1);
        const dilations = pair(cfg.dilationRate ?? 1);
        if (cfg.padding !== 'valid' && cfg.padding !== 'same') this.fail(`${where}: padding ${cfg.padding} has no ONNX export here (valid and same do)`);
        const pads = cfg.padding === 'same' ? samePads([x.shape[1]!, x.shape[2]!], [kh, kw], strides, dilations) : [0, 0, 0, 0];
        // depthwise [kh, kw, c, m] is the ONNX weight [c·m, 1, kh, kw] of a Conv with group c
        const onnxKernel = oihw(kernel.data, depthwise ? [kh, kw, 1, cin * m] : [kh, kw, cin, m]);
        const [k, b] = this.weights(layer, scope, [['kernel', [cout, depthwise ? 1 : cin, kh, kw], onnxKernel], ...(bias ? [['bias', [cout], bias.data] as [string, number[], Float32Array]] : [])]);
        const attrs = [ints('kernel_shape', [kh, kw]), ints('strides', strides), ints('dilations', dilations), ints('pads', pads), int('group', depthwise ? cin : 1)];
        const y = this.emit('Conv', [xi.name, k, ...(b ? [b] : [])], attrs, `${base}_linear`);
        return [this.activation({ name: y, perm: NCHW, shape: outShape }, String(cfg.activation ?? 'linear'), base, where)];
      }
      case 'BatchNormalization': {
        let axis = Array.isArray(cfg.axis) ? cfg.axis[0] : (cfg.axis ?? -1);
        if (Array.isArray(cfg.axis) && cfg.axis.length !== 1) this.fail(`${where}: normalises over several axes`);
        if (axis < 0) axis += rank;
        const perm = [0, axis, ...identity(rank).filter((a) => a !== 0 && a !== axis)];
        const xi = this.held(x, perm);
        const weights = w();
        const C = x.shape[axis]!;
        let i = 0;
        const gamma = cfg.scale === false ? new Float32Array(C).fill(1) : weights[i++].data;
        const beta = cfg.center === false ? new Float32Array(C) : weights[i++].data;
        const [mean, variance] = [weights[i++].data, weights[i++].data];
        const names = this.weights(layer, scope, [['gamma', [C], gamma], ['beta', [C], beta], ['moving_mean', [C], mean], ['moving_variance', [C], variance]]);
        return out(this.emit('BatchNormalization', [xi.name, ...names], [float('epsilon', cfg.epsilon ?? 1e-3)], base), perm);
      }
      case 'Activation':
        return [this.activation({ ...x, shape: outShape }, String(cfg.activation), base, where)];
      case 'ReLU': {
        const max = cfg.maxValue;
        if (max === null || max === undefined) return out(this.emit('Relu', [x.name], [], base), x.perm);
        return out(this.emit('Clip', [x.name, this.scalar(0), this.scalar(max)], [], base), x.perm);
      }
      case 'LeakyReLU':
        return out(this.emit('LeakyRelu', [x.name], [float('alpha', cfg.alpha ?? 0.3)], base), x.perm);
      case 'ELU':
        return out(this.emit('Elu', [x.name], [float('alpha', cfg.alpha ?? 1)], base), x.perm);
      case 'Softmax': {
        const a = cfg.axis ?? -1;
        const axis = Array.isArray(a) ? a[0] : a;
        return out(this.emit('Softmax', [x.name], [int('axis', x.perm.indexOf(axis < 0 ? axis + rank : axis))], base), x.perm);
      }
      case 'Flatten': {
        if (rank === 2) return [x];
        const xi = this.inOrder(x) ? x : this.held(x, identity(rank));
        return out(this.emit('Flatten', [xi.name], [int('axis', 1)], base), [0, 1]);
      }
      case 'Reshape': {
        const xi = this.held(x, identity(rank));
        const shape = this.intInit(`${base}.shape`, [0, ...(cfg.targetShape as number[])]);
        return out(this.emit('Reshape', [xi.name, shape], [], base), identity(outShape.length));
      }
      case 'Permute': {
        // no node: the same ONNX tensor, its axes relabelled (a Transpose comes where an op needs it)
        const q = [0, ...(cfg.dims as number[])];
        const qinv = inverse(q);
        return [{ name: x.name, perm: x.perm.map((a) => qinv[a]), shape: outShape }];
      }
      case 'ZeroPadding2D': {
        const xi = image();
        const [[t, b], [l, r]] = cfg.padding as number[][];
        const pads = this.intInit(`${base}.pads`, [0, 0, t, l, 0, 0, b, r]);
        return out(this.emit('Pad', [xi.name, pads], [], base), NCHW);
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const xi = image();
        const k = pair(cfg.poolSize);
        const s = pair(cfg.strides ?? cfg.poolSize);
        if (cfg.padding !== 'valid' && cfg.padding !== 'same') this.fail(`${where}: padding ${cfg.padding} has no ONNX export here`);
        const pads = cfg.padding === 'same' ? samePads([x.shape[1]!, x.shape[2]!], k, s, [1, 1]) : [0, 0, 0, 0];
        // AveragePool's default count_include_pad 0 averages over the window inside the image, as tfjs does
        return out(this.emit(cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [xi.name], [ints('kernel_shape', k), ints('strides', s), ints('pads', pads)], base), NCHW);
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        if (rank !== 4) this.fail(`${where}: input of rank ${rank}, expected [batch, height, width, channels]`);
        channelsLast();
        const max = cls === 'GlobalMaxPooling2D';
        if (same(x.perm, identity(4))) return out(this.emit(max ? 'ReduceMax' : 'ReduceMean', [x.name], [ints('axes', [1, 2]), int('keepdims', 0)], base), [0, 1]);
        const xi = this.held(x, NCHW);
        const pooled = this.emit(max ? 'GlobalMaxPool' : 'GlobalAveragePool', [xi.name], [], `${base}_pool`);
        return out(this.emit('Flatten', [pooled], [int('axis', 1)], base), [0, 1]);
      }
      case 'Add':
      case 'Average':
      case 'Multiply':
      case 'Maximum':
      case 'Minimum':
      case 'Subtract': {
        if (inputs.some((v) => v.shape.length !== rank)) this.fail(`${where}: inputs of different ranks (broadcasting has no ONNX export here)`);
        const names = inputs.map((v) => this.held(v, x.perm).name);
        const op = { Add: names.length > 2 ? 'Sum' : 'Add', Average: 'Mean', Multiply: 'Mul', Maximum: 'Max', Minimum: 'Min', Subtract: 'Sub' }[cls]!;
        if (op === 'Mul' && names.length > 2) {
          let acc = names[0];
          for (let i = 1; i < names.length; i++) acc = this.emit('Mul', [acc, names[i]], [], i === names.length - 1 ? base : `${base}_${i}`);
          return out(acc, x.perm);
        }
        return out(this.emit(op, names, [], base), x.perm);
      }
      case 'Concatenate': {
        let axis = cfg.axis ?? -1;
        if (axis < 0) axis += rank;
        const names = inputs.map((v) => this.held(v, x.perm).name);
        return out(this.emit('Concat', names, [int('axis', x.perm.indexOf(axis))], base), x.perm);
      }
      default:
        this.fail(
          `${where} has no ONNX export (exported: Dense, Conv2D, DepthwiseConv2D, BatchNormalization, pooling, ZeroPadding2D, Flatten, Reshape, Permute, Add, Average, Multiply, Maximum, Minimum, Subtract, Concatenate, activations, Dropout, nested models)`,
        );
    }
  }
}

/**
 * The ONNX ModelProto bytes of a Distillery network (any kind but the transformer): its logits,
 * or its probabilities where the ONNX file it was imported from gave probabilities. Throws an
 * InputError naming `options.source` (default "exportOnnx model") for a network it cannot export.
 */
export function exportOnnx(trained: TrainedModel, options: ExportOptions = {}): Uint8Array {
  const source = options.source ?? 'exportOnnx model';
  const { model, meta } = trained;
  const kind = (meta.architecture as { kind: string }).kind;
  if (kind === 'tree') throw new InputError(source, 'is a decision tree: ONNX export covers networks');
  if (kind === 'transformer') {
    throw new InputError(source, "is a transformer: its attention, position-embedding and padding-mask layers are Distillery's own, with no ONNX export (export covers networks of standard tfjs layers: mlp, cnn, layers, and their ensembles)");
  }
  if (!(model instanceof tfl.LayersModel)) throw new InputError(source, 'has no tfjs network');
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new InputError(source, `has ${model.inputs.length} inputs and ${model.outputs.length} outputs; a classifier has one of each`);
  const iface = meta.onnxInterface;
  const inputName = iface?.input || 'features';
  const outputName = iface?.output && iface.output !== inputName ? iface.output : 'logits';
  const nchw = iface?.layout === 'nchw' && meta.inputShape.length === 3;
  const ex = new Exporter(source, [inputName, outputName]);
  const input = { name: inputName, perm: nchw ? NCHW : identity(meta.inputShape.length + 1), shape: [null, ...meta.inputShape] };
  let [y] = ex.model(model, [input], '');
  const K = meta.classNames.length;
  if (y.shape.length !== 2) ex.fail(`returns a tensor of rank ${y.shape.length}; a classifier returns [batch, classes]`);
  const probabilities = iface?.scores === 'probabilities';
  if (probabilities) y = { ...y, name: ex.emit('Softmax', [y.name], [int('axis', 1)], 'probabilities') };
  // the last tensor takes the output's name
  if (y.name === inputName || !ex.nodes.some((n) => n.output.includes(y.name))) y = { ...y, name: ex.emit('Identity', [y.name], [], 'output') };
  for (const n of ex.nodes) {
    n.input = n.input.map((i) => (i === y.name ? outputName : i));
    n.output = n.output.map((o) => (o === y.name ? outputName : o));
  }
  const valueInfo = (n: string, dims: (number | string)[]) => ({
    name: n,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
  const [h, w, c] = meta.inputShape;
  const proto = onnxProto('exporting to ONNX').ModelProto.create({
    irVersion: 7,
    producerName: ONNX_PRODUCER,
    producerVersion: LIBRARY_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: {
      name: options.graphName ?? kind,
      node: ex.nodes,
      initializer: ex.initializers,
      input: [valueInfo(inputName, ['batch', ...(nchw ? [c, h, w] : meta.inputShape)])],
      output: [valueInfo(outputName, ['batch', K])],
    },
    metadataProps: [
      { key: ONNX_PREPROCESSING_KEY, value: JSON.stringify(meta.preprocessing) },
      { key: ONNX_OUTPUT_KEY, value: probabilities ? 'probabilities' : 'logits' },
      ...(meta.preprocessing.kind === 'image' ? [{ key: ONNX_LAYOUT_KEY, value: nchw ? 'nchw' : 'nhwc' }] : []),
      ...(meta.id ? [{ key: 'distillery.modelId', value: meta.id }] : []),
    ],
  });
  return onnxProto('exporting to ONNX').ModelProto.encode(proto).finish();
}
