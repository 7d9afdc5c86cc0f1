/**
 * ONNX models in: a `.onnx` file run with onnxruntime (CPU). The file says how to feed it
 * through two entries of its metadata_props (what `distillery export` writes; see
 * test/fixtures/onnx/make.py for a PyTorch model):
 *   distillery.preprocessing  the PreprocessingSpec as JSON: label column, class names (the
 *                             order of the model's outputs), and how raw columns become inputs;
 *   distillery.output         "logits" (default) or "probabilities" (a model ending in Softmax);
 *   distillery.layout         optional, images only: "nchw" or "nhwc" (see below).
 * The model takes float32 features [batch, ...inputShape] (tabular [batch, d]) and returns
 * [batch, K]. Images: Distillery's are NHWC ([h, w, c] of the preprocessing spec); a graph
 * whose input is [batch, c, h, w] (PyTorch's NCHW) is fed the same pixels transposed. The
 * layout is read from the graph input's shape, or from distillery.layout when the shape
 * cannot tell (h = w = c). Probabilities are turned into log-probabilities, which are logits
 * up to a per-row constant (softmax gives the same probabilities back).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import onnxProto from 'onnx-proto';
import type * as Ort from 'onnxruntime-node';
import type { Dataset, PreprocessingSpec } from '../data/types.js';
import { InputError } from '../util/errors.js';

export const ONNX_PREPROCESSING_KEY = 'distillery.preprocessing';
export const ONNX_OUTPUT_KEY = 'distillery.output';
export const ONNX_LAYOUT_KEY = 'distillery.layout';
const PROB_FLOOR = 1e-12;
/** The ONNX protobuf messages (onnx-proto is CommonJS). */
export const { onnx } = onnxProto;
export type ModelProto = InstanceType<typeof onnx.ModelProto>;
const BATCH = 4096;

/** What a loaded ONNX classifier knows about itself (the fields of a model's metadata that apply). */
export interface OnnxMetadata {
  classNames: string[];
  inputShape: number[];
  preprocessing: PreprocessingSpec;
  output: 'logits' | 'probabilities';
  id: string;
  seed: number;
  /** How the graph takes images: 'nchw' ([batch, c, h, w]) or 'nhwc' (as Distillery's data); 'nhwc' for other inputs. */
  layout: 'nchw' | 'nhwc';
  /** The graph's input and output names. */
  inputName: string;
  outputName: string;
}

export interface OnnxModel {
  file: string;
  session: Ort.InferenceSession;
  inputName: string;
  outputName: string;
  meta: OnnxMetadata;
}

/**
 * A dense row-major array of `shape` with its axes permuted: axis j of the result is axis
 * `perm[j]` of the input (conv kernels between ONNX's OIHW and tfjs's HWIO: [2, 3, 1, 0]).
 */
export function permuteAxes(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) [inStrides[i], s] = [s, s * shape[i]];
  const step = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let from = 0;
    for (let j = 0; j < rank; j++) from += index[j] * step[j];
    out[o] = data[from];
    for (let j = rank - 1; j >= 0 && ++index[j] === outShape[j]; j--) index[j] = 0;
  }
  return out;
}

/** A path that names an ONNX model file (by its extension). */
export const isOnnxPath = (p: string): boolean => p.toLowerCase().endsWith('.onnx');

/** An int64 field of a decoded message (a number or a Long) as a number. */
export const num = (x: number | { toNumber(): number }): number => (typeof x === 'number' ? x : x.toNumber());

/** The decoded ModelProto of a file, or one clear error. */
export async function readOnnxProto(file: string): Promise<ModelProto> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch {
    throw new InputError(file, 'not found or not readable (expected an ONNX model file)');
  }
  try {
    const m = onnx.ModelProto.decode(bytes);
    if (!m.graph || !m.graph.node?.length) throw new Error('no graph');
    return m;
  } catch (e) {
    throw new InputError(file, `is not an ONNX model: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Input shape of one example, from the graph's first non-initializer input ([batch, ...shape]). */
export function onnxInputShape(m: ModelProto, file: string): { name: string; shape: number[] } {
  const inits = new Set((m.graph?.initializer ?? []).map((t) => t.name));
  const input = (m.graph?.input ?? []).find((i) => !inits.has(i.name));
  const dims = input?.type?.tensorType?.shape?.dim;
  if (!input || !dims || dims.length < 2) throw new InputError(file, 'its graph input is not a [batch, features…] tensor');
  const shape = dims.slice(1).map((d) => (d.dimValue === undefined || d.dimValue === null ? NaN : num(d.dimValue)));
  if (shape.some((d) => !Number.isInteger(d) || d < 1)) throw new InputError(file, `its graph input has no fixed feature shape (${input.name})`);
  return { name: input.name ?? '', shape };
}

/** The Distillery metadata of an ONNX model (metadata_props), checked against its graph. */
export function onnxMetadata(m: ModelProto, file: string): OnnxMetadata {
  const props = new Map(m.metadataProps.map((p) => [p.key, p.value] as const));
  const specText = props.get(ONNX_PREPROCESSING_KEY);
  if (!specText) {
    throw new InputError(file, `has no "${ONNX_PREPROCESSING_KEY}" metadata: Distillery needs the class names and input preprocessing (see docs/onnx.md)`);
  }
  let spec: PreprocessingSpec;
  try {
    spec = JSON.parse(specText);
  } catch {
    throw new InputError(file, `its "${ONNX_PREPROCESSING_KEY}" metadata is not JSON`);
  }
  if (!spec || !['tabular', 'image', 'text'].includes(spec.kind) || !Array.isArray(spec.classNames) || spec.classNames.length < 2 || !spec.classNames.every((c) => typeof c === 'string')) {
    throw new InputError(file, `its "${ONNX_PREPROCESSING_KEY}" metadata is not a preprocessing spec (kind tabular/image/text, classNames)`);
  }
  if (spec.kind === 'tabular' && (!Array.isArray(spec.columns) || typeof spec.labelColumn !== 'string')) throw new InputError(file, `its "${ONNX_PREPROCESSING_KEY}" metadata needs labelColumn and columns`);
  const output = props.get(ONNX_OUTPUT_KEY) ?? 'logits';
  if (output !== 'logits' && output !== 'probabilities') throw new InputError(file, `its "${ONNX_OUTPUT_KEY}" metadata must be "logits" or "probabilities", got "${output}"`);
  const { name, shape } = onnxInputShape(m, file);
  const { inputShape, layout } = inputLayout(spec, shape, props.get(ONNX_LAYOUT_KEY) ?? undefined, name, file);
  const outputName = m.graph?.output?.[0]?.name ?? '';
  return { classNames: spec.classNames, inputShape, preprocessing: spec, output, id: `onnx:${path.basename(file)}`, seed: 0, layout, inputName: name, outputName };
}

/**
 * The shape of one example as Distillery's data has it, and the graph's layout: an image model's
 * graph input must be the preprocessing's [h, w, c] (NHWC) or [c, h, w] (NCHW); `declared` (the
 * distillery.layout entry) chooses when both fit and must agree with the graph otherwise.
 */
function inputLayout(spec: PreprocessingSpec, graphShape: number[], declared: string | undefined, inputName: string, file: string): { inputShape: number[]; layout: 'nchw' | 'nhwc' } {
  if (declared !== undefined && declared !== 'nchw' && declared !== 'nhwc') throw new InputError(file, `its "${ONNX_LAYOUT_KEY}" metadata must be "nchw" or "nhwc", got "${declared}"`);
  if (spec.kind !== 'image') {
    if (declared === 'nchw') throw new InputError(file, `its "${ONNX_LAYOUT_KEY}" metadata is "nchw" but its preprocessing is ${spec.kind}, not images`);
    return { inputShape: graphShape, layout: 'nhwc' };
  }
  const [h, w, c] = spec.shape;
  const given = graphShape.join(', ');
  const nhwc = [h, w, c].join(', ');
  const nchw = [c, h, w].join(', ');
  const layout = declared ?? (given === nhwc && given === nchw ? undefined : given === nhwc ? 'nhwc' : given === nchw ? 'nchw' : undefined);
  if (!layout) {
    throw new InputError(
      file,
      given === nhwc
        ? `its graph input "${inputName}" [batch, ${given}] may be NHWC or NCHW (height, width and channels are equal): say which with the "${ONNX_LAYOUT_KEY}" metadata ("nhwc" or "nchw")`
        : `its graph input "${inputName}" is [batch, ${given}], but its preprocessing makes ${h}×${w}×${c} images: the graph must take [batch, ${nhwc}] (NHWC) or [batch, ${nchw}] (NCHW)`,
    );
  }
  const want = layout === 'nchw' ? nchw : nhwc;
  if (given !== want) throw new InputError(file, `its "${ONNX_LAYOUT_KEY}" metadata says ${layout} but its graph input "${inputName}" is [batch, ${given}], not [batch, ${want}] for the ${h}×${w}×${c} images of its preprocessing`);
  return { inputShape: [h, w, c], layout };
}

/** NHWC images [rows, h, w, c] as NCHW [rows, c, h, w]. */
export function nhwcToNchw(x: Float32Array, rows: number, [h, w, c]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  const plane = h * w;
  for (let r = 0; r < rows; r++) {
    const base = r * plane * c;
    for (let p = 0; p < plane; p++) for (let k = 0; k < c; k++) out[base + k * plane + p] = x[base + p * c + k];
  }
  return out;
}

async function ort(): Promise<typeof Ort> {
  return import('onnxruntime-node');
}

/** Loads an ONNX classifier: its metadata, and an onnxruntime session on the CPU. */
export async function loadOnnxModel(file: string): Promise<OnnxModel> {
  const proto = await readOnnxProto(file);
  const meta = onnxMetadata(proto, file);
  const { InferenceSession } = await ort();
  let session: Ort.InferenceSession;
  try {
    session = await InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  } catch (e) {
    throw new InputError(file, `onnxruntime cannot load it: ${(e as Error).message.split('\n')[0]}`);
  }
  return { file, session, inputName: session.inputNames[0], outputName: session.outputNames[0], meta };
}

/** Logits [n, K] of an ONNX model for the rows of `ds` (log-probabilities for a model that outputs probabilities). */
export async function onnxLogits(m: OnnxModel, ds: Pick<Dataset, 'features' | 'featureShape'>): Promise<Float32Array> {
  const { Tensor } = await ort();
  const d = ds.featureShape.reduce((a, b) => a * b, 1);
  const n = ds.features.length / d;
  const K = m.meta.classNames.length;
  const out = new Float32Array(n * K);
  for (let start = 0; start < n; start += BATCH) {
    const rows = Math.min(BATCH, n - start);
    const chunk = ds.features.subarray(start * d, (start + rows) * d);
    // an NCHW graph gets Distillery's NHWC images transposed
    const nchw = m.meta.layout === 'nchw' && ds.featureShape.length === 3;
    const [h, w, c] = ds.featureShape;
    const input = nchw ? new Tensor('float32', nhwcToNchw(chunk, rows, ds.featureShape), [rows, c, h, w]) : new Tensor('float32', Float32Array.from(chunk), [rows, ...ds.featureShape]);
    let result;
    try {
      result = await m.session.run({ [m.inputName]: input });
    } catch (e) {
      throw new InputError(m.file, `onnxruntime failed on the data: ${(e as Error).message.split('\n')[0]}`);
    }
    const y = result[m.outputName];
    if (y.dims.length !== 2 || Number(y.dims[0]) !== rows || Number(y.dims[1]) !== K) {
      throw new InputError(m.file, `returned shape [${y.dims.join(', ')}], expected [${rows}, ${K}] (one score per class of its metadata)`);
    }
    const data = y.data as Float32Array;
    for (let i = 0; i < rows * K; i++) out[start * K + i] = m.meta.output === 'probabilities' ? Math.log(Math.max(data[i], PROB_FLOOR)) : data[i];
  }
  for (const v of out) if (!Number.isFinite(v)) throw new InputError(m.file, 'returned a non-finite score');
  return out;
}
