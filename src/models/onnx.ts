/**
 * ONNX models in: a `.onnx` file run with onnxruntime (CPU). The file says how to feed it
 * through two entries of its metadata_props (what `distillery export` writes; see
 * test/fixtures/onnx/make.py for a PyTorch model):
 *   distillery.preprocessing  the PreprocessingSpec as JSON: label column, class names (the
 *                             order of the model's outputs), and how raw columns become inputs;
 *   distillery.output         "logits" (default) or "probabilities" (a model ending in Softmax).
 * The model takes float32 features [batch, ...inputShape] (tabular [batch, d]; images
 * NHWC) and returns [batch, K]. Probabilities are turned into log-probabilities, which are
 * logits up to a per-row constant (softmax gives the same probabilities back).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import onnxProto from 'onnx-proto';
import type * as Ort from 'onnxruntime-node';
import type { Dataset, PreprocessingSpec } from '../data/types.js';
import { InputError } from '../util/errors.js';

export const ONNX_PREPROCESSING_KEY = 'distillery.preprocessing';
export const ONNX_OUTPUT_KEY = 'distillery.output';
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
}

export interface OnnxModel {
  file: string;
  session: Ort.InferenceSession;
  inputName: string;
  outputName: string;
  meta: OnnxMetadata;
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
  const { shape } = onnxInputShape(m, file);
  return { classNames: spec.classNames, inputShape: shape, preprocessing: spec, output, id: `onnx:${path.basename(file)}`, seed: 0 };
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
    const input = new Tensor('float32', Float32Array.from(ds.features.subarray(start * d, (start + rows) * d)), [rows, ...ds.featureShape]);
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
