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
import type * as Ort from 'onnxruntime-node';
import type { Dataset } from '../data/types.js';
import { InputError } from '../util/errors.js';
import { checkOptional, importOptional } from '../util/optional.js';
import { onnxMetadata, readOnnxProto } from './onnxProto.js';
import { nhwcToNchw, type OnnxMetadata } from './onnxFormat.js';

export { isOnnxPath, nhwcToNchw, permuteAxes, ONNX_LAYOUT_KEY, ONNX_OUTPUT_KEY, ONNX_PREPROCESSING_KEY, type OnnxMetadata } from './onnxFormat.js';

const PROB_FLOOR = 1e-12;
const BATCH = 4096;
/** What reading, importing or scoring an ONNX model needs (optional peer dependencies). */
export const ONNX_RUNTIME_PACKAGES = ['onnxruntime-node', 'onnx-proto'] as const;
const READING = 'reading an ONNX model';

/** The part of an onnxruntime-node InferenceSession that Distillery uses. */
export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  release(): Promise<void>;
}

export interface OnnxModel {
  file: string;
  session: OnnxSession;
  inputName: string;
  outputName: string;
  meta: OnnxMetadata;
}

async function ort(): Promise<typeof Ort> {
  return importOptional<typeof Ort>('onnxruntime-node', READING, ['onnx-proto']);
}

/** Loads an ONNX classifier: its metadata, and an onnxruntime session on the CPU. */
export async function loadOnnxModel(file: string): Promise<OnnxModel> {
  checkOptional([...ONNX_RUNTIME_PACKAGES], READING);
  const proto = await readOnnxProto(file, { externalData: 'check' }); // onnxruntime reads the weights
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
      result = await (m.session as Ort.InferenceSession).run({ [m.inputName]: input });
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
