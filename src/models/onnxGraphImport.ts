/**
 * An ONNX graph as a tfjs-layers functional network (for onnxImport.ts): each supported node
 * becomes one standard tfjs layer (conv2d, depthwiseConv2d, batchNormalization, maxPooling2d,
 * averagePooling2d, zeroPadding2d, dense, flatten, reshape, permute, activation, leakyReLU,
 * reLU, add, concatenate) applied to the layers of its inputs, with the ONNX weights set.
 *
 * Layout. Distillery's images and tfjs's convolutions are NHWC; ONNX's Conv, pooling and
 * BatchNormalization are NCHW. Every ONNX tensor is held as a tfjs tensor whose axes are a
 * permutation of the ONNX tensor's (`perm`: tfjs axis i holds ONNX axis perm[i]; the batch stays
 * axis 0): an NCHW activation lives in tfjs as NHWC (perm [0, 2, 3, 1]), so a PyTorch graph's
 * convolutions run on the NHWC input as they are, with their kernels turned OIHW → HWIO. An ONNX
 * Transpose only relabels axes (no layer); a Permute layer is inserted only where an op needs
 * another order than the one its input is held in: before Flatten or Reshape of an NCHW tensor
 * (PyTorch flattens C, H, W, so the dense weights after it apply unchanged), and before a
 * convolution of a tensor held otherwise (a graph that transposes NHWC input to NCHW itself).
 *
 * Ops: Conv (2-D; group 1 or depthwise; pads, strides, dilations; explicit pads that are not
 * tfjs's 'same' become a zeroPadding2d), BatchNormalization (inference statistics), Relu, Tanh,
 * Sigmoid, LeakyRelu, Elu (alpha 1), Selu, Softplus, Clip(0, max), MaxPool, AveragePool,
 * GlobalAveragePool, GlobalMaxPool, Pad (constant 0, spatial), Flatten (axis 1), Reshape (to a
 * fixed shape per example; the Shape → Gather → Unsqueeze → Concat chain of `x.view(x.size(0), -1)`
 * is evaluated), Transpose (keeping the batch axis), Gemm, MatMul (+ Add of its bias), Add and
 * Sum of tensors of one shape (residuals), Concat, Identity, Dropout, Constant, and a final
 * Softmax/LogSoftmax (dropped: the logits before it give the same probabilities). Anything else
 * is refused with the node named.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { num, onnxProto, type ModelProto, type NodeProto as OnnxNodeProto, type TensorProto as OnnxTensorProto } from './onnxProto.js';
import { permuteAxes } from './onnxFormat.js';

type TensorProto = OnnxTensorProto;
type NodeProto = OnnxNodeProto;
type Sym = tfl.SymbolicTensor;

/** A tensor of the graph held by a tfjs symbolic tensor whose axes are `perm` of the ONNX tensor's. */
interface Value {
  sym: Sym;
  /** The ONNX tensor's shape without the batch dimension. */
  shape: number[];
  /** tfjs axis i holds ONNX axis perm[i] (perm[0] = 0: the batch). */
  perm: number[];
  /** Known to be ≥ 0 everywhere (after a Relu): zero padding is then max pooling's padding too. */
  nonNegative: boolean;
}

/** A constant (initializer or Constant node): float weights or int64 parameters (shapes, pads). */
interface Const {
  data: number[] | Float32Array;
  dims: number[];
}

/** A 1-D int tensor computed from shapes (`x.view(x.size(0), -1)`): 'batch' where the batch size goes. */
interface ShapeVec {
  dims: (number | 'batch')[];
  scalar: boolean;
}

type Entry = { kind: 'value'; value: Value } | { kind: 'const'; c: Const } | { kind: 'shape'; s: ShapeVec };

/** Why a graph cannot be imported (the caller names the file). */
export class GraphImportError extends Error {}

const DT = () => onnxProto().TensorProto.DataType;
const AT = () => onnxProto().AttributeProto.AttributeType;
const NCHW: number[] = [0, 2, 3, 1];

function constOf(t: TensorProto, what: string): Const {
  const dims = (t.dims ?? []).map(num);
  const raw = t.rawData && t.rawData.length ? new Uint8Array(t.rawData) : undefined; // aligned copy
  switch (t.dataType) {
    case DT().FLOAT:
      return { dims, data: raw ? new Float32Array(raw.buffer, 0, raw.length / 4) : Float32Array.from(t.floatData ?? []) };
    case DT().DOUBLE:
      return { dims, data: raw ? Float32Array.from(new Float64Array(raw.buffer, 0, raw.length / 8)) : Float32Array.from(t.doubleData ?? []) };
    case DT().INT64:
      return { dims, data: raw ? Array.from(new BigInt64Array(raw.buffer, 0, raw.length / 8), Number) : (t.int64Data ?? []).map(num) };
    case DT().INT32:
      return { dims, data: raw ? Array.from(new Int32Array(raw.buffer, 0, raw.length / 4)) : Array.from(t.int32Data ?? []) };
    default:
      throw new GraphImportError(`${what} is a tensor of ONNX data type ${t.dataType}, not float or int`);
  }
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
const identity = (rank: number) => Array.from({ length: rank }, (_, i) => i);
const inverse = (p: number[]) => {
  const q = new Array<number>(p.length);
  p.forEach((v, i) => (q[v] = i));
  return q;
};

/** OIHW (ONNX) → HWIO (tfjs conv2d). */
const hwio = (w: Float32Array, shape: number[]): Float32Array => permuteAxes(w, shape, [2, 3, 1, 0]);

/** ONNX depthwise [c·m, 1, kh, kw] (output channel c·m + j reads channel c) → tfjs [kh, kw, c, m]. */
function depthwiseKernel(w: Float32Array, c: number, m: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let a = 0; a < c; a++) for (let j = 0; j < m; j++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
    out[((y * kw + x) * c + a) * m + j] = w[((a * m + j) * kh + y) * kw + x];
  }
  return out;
}


/** Pads [top, left, bottom, right] of tfjs's 'same' (TensorFlow's: the odd one at the end). */
function samePads(size: number[], k: number[], s: number[], d: number[]): number[] {
  const total = size.map((n, i) => Math.max((Math.ceil(n / s[i]) - 1) * s[i] + (k[i] - 1) * d[i] + 1 - n, 0));
  return [Math.floor(total[0] / 2), Math.floor(total[1] / 2), total[0] - Math.floor(total[0] / 2), total[1] - Math.floor(total[1] / 2)];
}

class Importer {
  private readonly env = new Map<string, Entry>();
  private readonly consumers = new Map<string, NodeProto[]>();
  private readonly names = new Set<string>();
  private readonly weights: { layer: tfl.layers.Layer; values: Float32Array[]; shapes: number[][] }[] = [];
  private readonly permuted = new Map<string, Value>();
  private readonly graphOutputs: Set<string>;
  /** MatMul outputs whose bias is the Add that follows: the Add's output name. */
  private readonly fusedBias = new Map<string, string>();
  private node!: NodeProto;
  private where = '';

  constructor(private readonly proto: ModelProto) {
    const graph = proto.graph!;
    for (const t of graph.initializer ?? []) this.env.set(t.name ?? '', { kind: 'const', c: constOf(t as TensorProto, `initializer "${t.name}"`) });
    for (const n of graph.node ?? []) for (const i of n.input ?? []) if (i) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n as NodeProto]);
    this.graphOutputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  }

  private fail(problem: string): never {
    throw new GraphImportError(`${this.where}: ${problem}`);
  }

  private layerName(base: string): string {
    let name = base.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || 'node';
    if (/^[0-9]/.test(name)) name = `onnx_${name}`;
    let unique = name;
    for (let k = 2; this.names.has(unique); k++) unique = `${name}_${k}`;
    this.names.add(unique);
    return unique;
  }

  private name(suffix = ''): string {
    return this.layerName(`${this.node.name || this.node.output?.[0] || this.node.opType}${suffix}`);
  }

  private entry(name: string): Entry {
    const e = this.env.get(name);
    if (!e) this.fail(`its input "${name}" is not produced by an earlier node`);
    return e;
  }

  private value(i: number): Value {
    const name = this.node.input?.[i] ?? '';
    const e = this.entry(name);
    if (e.kind !== 'value') this.fail(`its input "${name}" is a constant where Distillery imports a computed tensor`);
    return e.value;
  }

  private constant(i: number, what: string): Const {
    const name = this.node.input?.[i] ?? '';
    const e = this.entry(name);
    if (e.kind !== 'const') this.fail(`its ${what} ("${name}") is not a constant (an initializer or Constant)`);
    return e.c;
  }

  private optionalConstant(i: number, what: string): Const | undefined {
    return this.node.input?.[i] ? this.constant(i, what) : undefined;
  }

  private floats(i: number, what: string): Float32Array {
    const c = this.constant(i, what);
    return c.data instanceof Float32Array ? c.data : Float32Array.from(c.data);
  }

  private attr(name: string) {
    return this.node.attribute?.find((a) => a.name === name);
  }

  private int(name: string, fallback: number): number {
    const a = this.attr(name);
    return a ? num(a.i ?? fallback) : fallback;
  }

  private float(name: string, fallback: number): number {
    const a = this.attr(name);
    return a ? (a.type === AT().FLOAT ? (a.f ?? fallback) : num(a.i ?? fallback)) : fallback;
  }

  private ints(name: string, fallback: number[]): number[] {
    const a = this.attr(name);
    return a ? (a.ints ?? []).map(num) : fallback;
  }

  private str(name: string, fallback: string): string {
    const a = this.attr(name);
    return a?.s ? new TextDecoder().decode(a.s) : fallback;
  }

  private set(value: Value, output = 0): void {
    this.env.set(this.node.output?.[output] ?? '', { kind: 'value', value });
  }

  /** Applies a tfjs layer: the output held with `perm`. */
  private apply(layer: tfl.layers.Layer, input: Value | Value[], perm: number[], nonNegative = false): Value {
    const sym = layer.apply(Array.isArray(input) ? input.map((v) => v.sym) : input.sym) as Sym;
    const held = sym.shape.slice(1) as number[];
    const shape = new Array<number>(held.length);
    held.forEach((d, i) => (shape[perm[i + 1] - 1] = d));
    return { sym, shape, perm, nonNegative };
  }

  private setWeights(layer: tfl.layers.Layer, ...values: [Float32Array, number[]][]): void {
    this.weights.push({ layer, values: values.map((v) => v[0]), shapes: values.map((v) => v[1]) });
  }

  /** `v` held with `perm` (a Permute layer when it is held otherwise). */
  private held(v: Value, perm: number[]): Value {
    if (same(v.perm, perm)) return v;
    const key = `${v.sym.id}:${perm.join(',')}`;
    const done = this.permuted.get(key);
    if (done) return done;
    const dims = perm.slice(1).map((axis) => v.perm.indexOf(axis));
    const out = this.apply(tfl.layers.permute({ dims, name: this.name('_permute') }), v, perm, v.nonNegative);
    this.permuted.set(key, out);
    return out;
  }

  /** `v` as an NCHW image tensor (held NHWC in tfjs). */
  private image(v: Value, op: string): Value {
    if (v.shape.length !== 3) this.fail(`${op} of a tensor of rank ${v.shape.length + 1}; Distillery imports 2-D ${op} of [batch, channels, height, width] tensors`);
    return this.held(v, NCHW);
  }

  /** Whether the tfjs tensor's memory order is the ONNX tensor's (axes of size 1 aside). */
  private inOrder(v: Value): boolean {
    const axes = v.perm.slice(1).filter((a) => v.shape[a - 1] !== 1);
    return axes.every((a, i) => i === 0 || a > axes[i - 1]);
  }

  /** Spatial pads [top, left, bottom, right] of a Conv or pooling node. */
  private pads(size: number[], k: number[], s: number[], d: number[]): number[] {
    const auto = this.str('auto_pad', 'NOTSET');
    if (auto === 'VALID') return [0, 0, 0, 0];
    if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
      const [t, l, b, r] = samePads(size, k, s, d);
      return auto === 'SAME_UPPER' ? [t, l, b, r] : [b, r, t, l];
    }
    const pads = this.ints('pads', [0, 0, 0, 0]);
    if (pads.length !== 4 || pads.some((p) => p < 0)) this.fail(`pads [${pads.join(', ')}] are not 4 non-negative numbers`);
    return pads;
  }

  private zeroPad(v: Value, [t, l, b, r]: number[]): Value {
    return this.apply(tfl.layers.zeroPadding2d({ padding: [[t, b], [l, r]], name: this.name('_pad') }), v, NCHW, v.nonNegative);
  }

  private checkCeil(size: number[], k: number[], s: number[], pads: number[]): void {
    if (this.int('ceil_mode', 0) !== 1) return;
    const differs = [0, 1].some((i) => {
      const span = size[i] + pads[i] + pads[i + 2] - k[i];
      return Math.ceil(span / s[i]) !== Math.floor(span / s[i]);
    });
    if (differs) this.fail('ceil_mode 1 changes the output size here; tfjs pools with floor');
  }

  /** Converts the graph; returns the input and output of the network. */
  convert(inputName: string, inputShape: number[], layout: 'nchw' | 'nhwc'): { input: Sym; output: Sym } {
    const graph = this.proto.graph!;
    const input = tfl.input({ shape: inputShape, name: this.layerName(inputName || 'input') });
    const nchw = layout === 'nchw' && inputShape.length === 3;
    const [h, w, c] = inputShape;
    this.env.set(inputName, { kind: 'value', value: { sym: input, shape: nchw ? [c, h, w] : inputShape.slice(), perm: nchw ? NCHW : identity(inputShape.length + 1), nonNegative: false } });
    const nodes = (graph.node ?? []) as NodeProto[];
    // MatMul + Add(bias): one Dense
    for (const n of nodes) {
      if (n.opType !== 'MatMul') continue;
      const out = n.output?.[0] ?? '';
      const uses = this.consumers.get(out) ?? [];
      const add = uses[0];
      if (uses.length !== 1 || add.opType !== 'Add' || this.graphOutputs.has(out)) continue;
      const other = add.input?.find((x) => x !== out);
      const weight = this.env.get(n.input?.[1] ?? '');
      const bias = other === undefined ? undefined : this.env.get(other);
      if (bias?.kind === 'const' && weight?.kind === 'const' && weight.c.dims.length === 2 && bias.c.data.length === weight.c.dims[1] && bias.c.dims.filter((d) => d !== 1).length <= 1) {
        this.fusedBias.set(out, other!);
      }
    }
    for (const [k, node] of nodes.entries()) {
      this.node = node;
      this.where = `node ${k} "${node.name || node.output?.[0]}" (${node.opType})`;
      if (node.domain && node.domain !== 'ai.onnx') this.fail(`is of the operator domain "${node.domain}", not ONNX's`);
      this.step(node);
    }
    const outputs = graph.output ?? [];
    if (outputs.length !== 1) throw new GraphImportError(`the graph has ${outputs.length} outputs; a classifier has one, [batch, classes]`);
    const out = this.env.get(outputs[0].name ?? '');
    if (out?.kind !== 'value') throw new GraphImportError(`the graph output "${outputs[0].name}" is not computed from its input`);
    if (out.value.shape.length !== 1) throw new GraphImportError(`the graph output "${outputs[0].name}" has rank ${out.value.shape.length + 1}; a classifier returns [batch, classes]`);
    return { input, output: out.value.sym };
  }

  /** Sets the ONNX weights on the built layers. */
  assignWeights(): void {
    for (const { layer, values, shapes } of this.weights) {
      const tensors = values.map((v, i) => tf.tensor(v, shapes[i]));
      try {
        layer.setWeights(tensors);
      } finally {
        tf.dispose(tensors);
      }
    }
  }

  private step(node: NodeProto): void {
    const op = node.opType ?? '';
    const out = node.output?.[0] ?? '';
    switch (op) {
      case 'Constant': {
        const a = node.attribute?.[0];
        if (!a) this.fail('has no value');
        if (a.t) this.env.set(out, { kind: 'const', c: constOf(a.t as TensorProto, `Constant "${out}"`) });
        else if (a.name === 'value_float') this.env.set(out, { kind: 'const', c: { dims: [], data: Float32Array.of(a.f ?? 0) } });
        else if (a.name === 'value_floats') this.env.set(out, { kind: 'const', c: { dims: [a.floats?.length ?? 0], data: Float32Array.from(a.floats ?? []) } });
        else if (a.name === 'value_int') this.env.set(out, { kind: 'const', c: { dims: [], data: [num(a.i ?? 0)] } });
        else if (a.name === 'value_ints') this.env.set(out, { kind: 'const', c: { dims: [a.ints?.length ?? 0], data: (a.ints ?? []).map(num) } });
        else this.fail(`its ${a.name} is not a number or tensor`);
        return;
      }
      case 'Identity':
      case 'Dropout': {
        for (const extra of node.output?.slice(1) ?? []) if (extra && this.consumers.has(extra)) this.fail('its mask output is used');
        const e = this.entry(node.input?.[0] ?? '');
        this.env.set(out, e);
        return;
      }
      case 'Shape': {
        const v = this.value(0);
        this.env.set(out, { kind: 'shape', s: { dims: ['batch', ...v.shape], scalar: false } });
        return;
      }
      case 'Gather': {
        const data = this.shapeVec(0);
        if (!data) this.fail('Gather of a tensor other than a shape');
        const indices = this.constant(1, 'indices');
        if (this.int('axis', 0) !== 0) this.fail('Gather of a shape along an axis other than 0');
        const picked = Array.from(indices.data, (i) => data.dims[i < 0 ? i + data.dims.length : i]);
        if (picked.some((d) => d === undefined)) this.fail('Gather index out of range');
        this.env.set(out, { kind: 'shape', s: { dims: picked, scalar: indices.dims.length === 0 } });
        return;
      }
      case 'Unsqueeze': {
        const data = this.shapeVec(0);
        const axes = node.input?.[1] ? Array.from(this.constant(1, 'axes').data) : this.ints('axes', []);
        if (!data || !data.scalar || !same(axes, [0])) this.fail('Unsqueeze of a tensor other than one number of a shape');
        this.env.set(out, { kind: 'shape', s: { dims: data.dims, scalar: false } });
        return;
      }
      case 'Concat': {
        const parts = (node.input ?? []).map((_, i) => this.shapeVec(i));
        if (parts.every((p) => p && !p.scalar)) {
          this.env.set(out, { kind: 'shape', s: { dims: parts.flatMap((p) => p!.dims), scalar: false } });
          return;
        }
        return this.concat();
      }
      case 'Reshape':
        return this.reshape();
      case 'Flatten': {
        const v = this.value(0);
        const axis = this.int('axis', 1);
        if (axis !== 1 && axis !== 1 - (v.shape.length + 1)) this.fail(`Flatten at axis ${axis}; Distillery imports Flatten at axis 1 (keeping the batch)`);
        return this.set(this.flatten(v));
      }
      case 'Transpose': {
        const v = this.value(0);
        const rank = v.shape.length + 1;
        const p = this.ints('perm', identity(rank).reverse());
        if (p.length !== rank || p[0] !== 0) this.fail(`Transpose with perm [${p.join(', ')}] moves the batch axis`);
        const inv = inverse(p);
        return this.set({ sym: v.sym, shape: p.slice(1).map((a) => v.shape[a - 1]), perm: v.perm.map((a) => inv[a]), nonNegative: v.nonNegative });
      }
      case 'Conv':
        return this.conv();
      case 'BatchNormalization': {
        const v = this.value(0);
        if (v.shape.length < 1) this.fail('BatchNormalization of a tensor without channels');
        for (const extra of node.output?.slice(1) ?? []) if (extra && this.consumers.has(extra)) this.fail('its training outputs (running statistics) are used');
        if (this.int('training_mode', 0) !== 0) this.fail('BatchNormalization in training mode (export the model from eval mode)');
        const C = v.shape[0];
        const params = [1, 2, 3, 4].map((i) => this.floats(i, ['scale', 'bias', 'mean', 'variance'][i - 1]));
        if (params.some((p) => p.length !== C)) this.fail(`its parameters do not have ${C} channels`);
        const layer = tfl.layers.batchNormalization({ axis: v.perm.indexOf(1), epsilon: this.float('epsilon', 1e-5), momentum: this.float('momentum', 0.9), name: this.name() });
        const y = this.apply(layer, v, v.perm);
        this.setWeights(layer, ...params.map((p) => [p, [C]] as [Float32Array, number[]]));
        return this.set(y);
      }
      case 'Relu':
      case 'Tanh':
      case 'Sigmoid':
      case 'Softplus':
      case 'Softsign':
      case 'Selu':
      case 'Elu': {
        const v = this.value(0);
        if (op === 'Elu' && this.float('alpha', 1) !== 1) this.fail('Elu with alpha other than 1 (tfjs has none)');
        if (op === 'Selu' && (this.attr('alpha') || this.attr('gamma'))) {
          if (Math.abs(this.float('alpha', 1.6732632) - 1.6732632) > 1e-6 || Math.abs(this.float('gamma', 1.050701) - 1.050701) > 1e-6) this.fail('Selu with other constants than the standard ones');
        }
        const activation = op.toLowerCase() as 'relu';
        const y = this.apply(tfl.layers.activation({ activation, name: this.name() }), v, v.perm, op === 'Relu' || op === 'Sigmoid' || op === 'Softplus');
        return this.set(y);
      }
      case 'LeakyRelu': {
        const v = this.value(0);
        return this.set(this.apply(tfl.layers.leakyReLU({ alpha: this.float('alpha', 0.01), name: this.name() }), v, v.perm));
      }
      case 'Clip': {
        const v = this.value(0);
        const bound = (i: number, attrName: string, fallback: number) => {
          if (node.input?.[i]) return this.floats(i, attrName)[0];
          return this.attr(attrName) ? this.float(attrName, fallback) : fallback;
        };
        const lo = bound(1, 'min', -Infinity);
        const hi = bound(2, 'max', Infinity);
        if (lo !== 0) this.fail(`Clip to [${lo}, ${hi}]; Distillery imports Clip from 0 (ReLU, ReLU6)`);
        return this.set(this.apply(tfl.layers.reLU({ ...(Number.isFinite(hi) ? { maxValue: hi } : {}), name: this.name() }), v, v.perm, true));
      }
      case 'MaxPool':
      case 'AveragePool':
        return this.pool(op);
      case 'GlobalAveragePool':
      case 'GlobalMaxPool': {
        const v = this.image(this.value(0), op);
        const size = [v.shape[1], v.shape[2]];
        const args = { poolSize: size as [number, number], strides: size as [number, number], padding: 'valid' as const, name: this.name() };
        const layer = op === 'GlobalMaxPool' ? tfl.layers.maxPooling2d(args) : tfl.layers.averagePooling2d(args);
        return this.set(this.apply(layer, v, NCHW, v.nonNegative));
      }
      case 'Pad': {
        const v = this.value(0);
        const mode = this.str('mode', 'constant');
        const pads = node.input?.[1] ? Array.from(this.constant(1, 'pads').data) : this.ints('pads', []);
        const fill = node.input?.[2] ? this.floats(2, 'constant value')[0] : this.float('value', 0);
        const allZero = pads.every((p) => p === 0);
        if (allZero) return this.set(v);
        if (mode !== 'constant' || fill !== 0) this.fail(`Pad in mode ${mode} with value ${fill}; Distillery imports zero padding`);
        if (v.shape.length !== 3 || pads.length !== 8 || pads[0] || pads[1] || pads[4] || pads[5] || pads.some((p) => p < 0)) this.fail(`Pad [${pads.join(', ')}]; Distillery imports non-negative padding of the height and width of [batch, channels, height, width]`);
        return this.set(this.zeroPad(this.image(v, 'Pad'), [pads[2], pads[3], pads[6], pads[7]]));
      }
      case 'Gemm':
        return this.gemm();
      case 'MatMul':
        return this.matmul();
      case 'Add':
      case 'Sum': {
        const fused = op === 'Add' ? node.input?.find((name) => this.fusedBias.has(name)) : undefined;
        if (fused !== undefined) {
          this.env.set(out, this.entry(fused));
          return;
        }
        const inputs = (node.input ?? []).map((name) => this.entry(name));
        if (inputs.some((e) => e.kind !== 'value')) this.fail(`${op} of a constant (Distillery imports ${op} of computed tensors: residual connections, and the bias of a MatMul)`);
        const values = inputs.map((e) => (e as { value: Value }).value);
        if (values.length === 1) return this.set(values[0]);
        return this.set(this.merge(values, tfl.layers.add({ name: this.name() }), values.every((v) => v.nonNegative)));
      }
      case 'Softmax':
      case 'LogSoftmax': {
        const v = this.value(0);
        const axis = this.int('axis', -1);
        if (!this.graphOutputs.has(out) || v.shape.length !== 1 || (axis !== -1 && axis !== 1)) this.fail(`${op} that is not the last node over the classes`);
        return this.set(v);
      }
      default:
        this.fail(
          'is not an op Distillery imports (Conv, BatchNormalization, Relu, Tanh, Sigmoid, LeakyRelu, Elu, Selu, Softplus, Softsign, Clip, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, Pad, Flatten, Reshape, Transpose, Gemm, MatMul, Add, Sum, Concat, Identity, Dropout, Constant, Shape/Gather/Unsqueeze of shapes, final Softmax/LogSoftmax)',
        );
    }
  }

  /** A shape computed in the graph (or an int constant) at input i, if it is one. */
  private shapeVec(i: number): ShapeVec | undefined {
    const e = this.env.get(this.node.input?.[i] ?? '');
    if (e?.kind === 'shape') return e.s;
    if (e?.kind === 'const' && !(e.c.data instanceof Float32Array)) return { dims: Array.from(e.c.data), scalar: e.c.dims.length === 0 };
    return undefined;
  }

  private flatten(v: Value): Value {
    if (v.shape.length === 1) return v;
    const x = this.inOrder(v) ? v : this.held(v, identity(v.shape.length + 1));
    return this.apply(tfl.layers.flatten({ name: this.name() }), x, [0, 1], v.nonNegative);
  }

  private reshape(): void {
    const v = this.value(0);
    const target = this.shapeVec(1);
    if (!target || target.scalar) this.fail('Reshape to a shape that is not a constant or computed from shapes');
    if (this.int('allowzero', 0) !== 0) this.fail('Reshape with allowzero');
    const size = v.shape.reduce((a, b) => a * b, 1);
    const [first, ...rest] = target.dims;
    const dims = rest.map((d, i) => (d === 0 ? v.shape[i] : d));
    if (dims.some((d) => d === 'batch' || d === undefined)) this.fail('Reshape that moves the batch dimension');
    const known = (dims as number[]).filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const free = (dims as number[]).filter((d) => d === -1).length;
    const batchKept = first === 'batch' || first === 0 || (first === -1 && free === 0 && known === size);
    if (!batchKept || free > 1) this.fail(`Reshape to [${target.dims.join(', ')}]; Distillery imports reshapes that keep the batch dimension`);
    const shape = (dims as number[]).map((d) => (d === -1 ? size / known : d));
    if (shape.reduce((a, b) => a * b, 1) !== size || shape.some((d) => !Number.isInteger(d) || d < 1)) this.fail(`cannot reshape [${v.shape.join(', ')}] to [${shape.join(', ')}] per example`);
    if (shape.length === 1) return this.set(this.flatten(v));
    const x = this.held(v, identity(v.shape.length + 1));
    this.set(this.apply(tfl.layers.reshape({ targetShape: shape, name: this.name() }), x, identity(shape.length + 1), v.nonNegative));
  }

  /** Values of one shape, held alike, merged by `layer`. */
  private merge(values: Value[], layer: tfl.layers.Layer, nonNegative: boolean): Value {
    const first = values[0];
    if (values.some((v) => !same(v.shape, first.shape))) this.fail(`inputs of shapes ${values.map((v) => `[${v.shape.join(', ')}]`).join(' and ')} (Distillery imports it without broadcasting)`);
    return this.apply(layer, values.map((v) => this.held(v, first.perm)), first.perm, nonNegative);
  }

  private concat(): void {
    const values = (this.node.input ?? []).map((_, i) => this.value(i));
    const rank = values[0].shape.length + 1;
    let axis = this.int('axis', 1);
    if (axis < 0) axis += rank;
    if (axis < 1 || axis >= rank || values.some((v) => v.shape.length + 1 !== rank || v.shape.some((d, i) => i !== axis - 1 && d !== values[0].shape[i]))) this.fail('Concat of tensors that differ other than along one non-batch axis');
    const perm = values[0].perm;
    this.set(this.apply(tfl.layers.concatenate({ axis: perm.indexOf(axis), name: this.name() }), values.map((v) => this.held(v, perm)), perm, values.every((v) => v.nonNegative)));
  }

  private conv(): void {
    const x = this.image(this.value(0), 'Conv');
    const wc = this.constant(1, 'weight');
    const w = this.floats(1, 'weight');
    const bias = this.optionalConstant(2, 'bias');
    if (wc.dims.length !== 4) this.fail(`a ${wc.dims.length - 2}-D convolution; Distillery imports 2-D ones`);
    const [O, Ig, kh, kw] = wc.dims;
    const [C, H, W] = x.shape;
    const group = this.int('group', 1);
    const k = this.ints('kernel_shape', [kh, kw]);
    if (!same(k, [kh, kw])) this.fail('kernel_shape differs from its weight');
    const strides = this.ints('strides', [1, 1]);
    const dilations = this.ints('dilations', [1, 1]);
    if (strides.some((s) => s > 1) && dilations.some((d) => d > 1)) this.fail('strides and dilations both above 1 (tfjs convolves with one or the other)');
    const pads = this.pads([H, W], k, strides, dilations);
    let input = x;
    let padding: 'valid' | 'same' = 'valid';
    if (same(pads, samePads([H, W], k, strides, dilations)) && pads.some((p) => p > 0)) padding = 'same';
    else if (pads.some((p) => p > 0)) input = this.zeroPad(x, pads);
    const b = bias ? Float32Array.from(bias.data) : undefined;
    if (b && b.length !== O) this.fail(`its bias has ${b.length} values for ${O} filters`);
    const common = { kernelSize: [kh, kw] as [number, number], strides: strides as [number, number], padding, dilationRate: dilations as [number, number], useBias: !!b, name: this.name() };
    let layer: tfl.layers.Layer;
    let kernel: [Float32Array, number[]];
    if (group === 1) {
      if (Ig !== C) this.fail(`its weight takes ${Ig} channels but its input has ${C}`);
      layer = tfl.layers.conv2d({ filters: O, ...common });
      kernel = [hwio(w, wc.dims), [kh, kw, C, O]];
    } else if (group === C && Ig === 1 && O % C === 0) {
      layer = tfl.layers.depthwiseConv2d({ depthMultiplier: O / C, ...common });
      kernel = [depthwiseKernel(w, C, O / C, kh, kw), [kh, kw, C, O / C]];
    } else {
      this.fail(`a grouped convolution (group ${group} of ${C} channels); tfjs has group 1 and depthwise (group = channels) convolutions`);
    }
    const y = this.apply(layer, input, NCHW);
    this.setWeights(layer, kernel, ...(b ? [[b, [O]] as [Float32Array, number[]]] : []));
    this.set(y);
  }

  private pool(op: 'MaxPool' | 'AveragePool'): void {
    for (const extra of this.node.output?.slice(1) ?? []) if (extra && this.consumers.has(extra)) this.fail('its indices output is used');
    const x = this.image(this.value(0), op);
    const [, H, W] = x.shape;
    const k = this.ints('kernel_shape', []);
    if (k.length !== 2) this.fail(`a ${k.length}-D pooling; Distillery imports 2-D ones`);
    const strides = this.ints('strides', [1, 1]);
    if (this.ints('dilations', [1, 1]).some((d) => d !== 1)) this.fail('dilated pooling (tfjs has none)');
    const pads = this.pads([H, W], k, strides, [1, 1]);
    this.checkCeil([H, W], k, strides, pads);
    let input = x;
    let padding: 'valid' | 'same' = 'valid';
    const isSame = pads.some((p) => p > 0) && same(pads, samePads([H, W], k, strides, [1, 1]));
    if (pads.some((p) => p > 0)) {
      if (pads.some((p, i) => p >= k[i % 2])) this.fail(`pads [${pads.join(', ')}] as large as the window`);
      if (op === 'MaxPool') {
        // zero padding is max pooling's (-∞) padding for a tensor that is never negative
        if (isSame) padding = 'same';
        else if (x.nonNegative) input = this.zeroPad(x, pads);
        else this.fail(`pads [${pads.join(', ')}] other than tfjs's 'same' of a tensor that may be negative`);
      } else if (this.int('count_include_pad', 0) === 1) {
        input = this.zeroPad(x, pads);
      } else if (isSame) {
        padding = 'same';
      } else {
        this.fail(`pads [${pads.join(', ')}] other than tfjs's 'same', with count_include_pad 0`);
      }
    }
    const args = { poolSize: k as [number, number], strides: strides as [number, number], padding, name: this.name() };
    const layer = op === 'MaxPool' ? tfl.layers.maxPooling2d(args) : tfl.layers.averagePooling2d(args);
    this.set(this.apply(layer, input, NCHW, x.nonNegative));
  }

  private dense(x: Value, kernel: Float32Array, inputs: number, units: number, bias: Float32Array | undefined): Value {
    if (x.shape.length !== 1) this.fail(`a matrix product of a tensor of rank ${x.shape.length + 1}; Distillery imports it on [batch, features]`);
    if (x.shape[0] !== inputs) this.fail(`its weight takes ${inputs} features but its input has ${x.shape[0]}`);
    const layer = tfl.layers.dense({ units, useBias: !!bias, name: this.name() });
    const y = this.apply(layer, x, [0, 1]);
    this.setWeights(layer, [kernel, [inputs, units]], ...(bias ? [[bias, [units]] as [Float32Array, number[]]] : []));
    return y;
  }

  private gemm(): void {
    if (this.int('transA', 0) !== 0) this.fail('Gemm with transA');
    const x = this.value(0);
    const wc = this.constant(1, 'weight');
    if (wc.dims.length !== 2) this.fail('Gemm with a weight that is not a matrix');
    const w = this.floats(1, 'weight');
    const alpha = this.float('alpha', 1);
    const beta = this.float('beta', 1);
    const transB = this.int('transB', 0) === 1;
    const [r, c] = wc.dims;
    const inputs = transB ? c : r;
    const units = transB ? r : c;
    const kernel = transB ? permuteAxes(w, [r, c], [1, 0]) : Float32Array.from(w);
    if (alpha !== 1) kernel.forEach((v, i) => (kernel[i] = v * alpha));
    let bias: Float32Array | undefined;
    if (this.node.input?.[2]) {
      const cc = this.floats(2, 'bias');
      if (cc.length !== units && cc.length !== 1) this.fail(`its bias has ${cc.length} values for ${units} outputs`);
      bias = Float32Array.from({ length: units }, (_, i) => (cc.length === 1 ? cc[0] : cc[i]) * beta);
    }
    this.set(this.dense(x, kernel, inputs, units, bias));
  }

  private matmul(): void {
    const x = this.value(0);
    const wc = this.constant(1, 'weight');
    if (wc.dims.length !== 2) this.fail('MatMul with a weight that is not a matrix');
    const out = this.node.output?.[0] ?? '';
    const biasName = this.fusedBias.get(out);
    const bias = biasName ? Float32Array.from((this.env.get(biasName) as { c: Const }).c.data) : undefined;
    this.set(this.dense(x, Float32Array.from(this.floats(1, 'weight')), wc.dims[0], wc.dims[1], bias));
  }
}

/**
 * The graph of `proto` as a tfjs functional network taking Distillery's examples of `inputShape`
 * (images NHWC, whatever the graph's `layout`), with the graph's weights. Throws
 * GraphImportError naming the node that cannot be imported.
 */
export function graphNetwork(proto: ModelProto, inputName: string, inputShape: number[], layout: 'nchw' | 'nhwc'): tfl.LayersModel {
  const importer = new Importer(proto);
  const { input, output } = importer.convert(inputName, inputShape, layout);
  let net: tfl.LayersModel;
  try {
    net = tfl.model({ inputs: input, outputs: output, name: 'onnx' });
  } catch (e) {
    throw new GraphImportError(`tfjs cannot build the network: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    importer.assignWeights();
  } catch (e) {
    net.dispose();
    throw new GraphImportError(`tfjs refused its weights: ${(e as Error).message.split('\n')[0]}`);
  }
  return net;
}
